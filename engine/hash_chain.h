// The tamper-evident history: canonical JSON and the per-case SHA-256 hash chain.
//
// Each event's hash covers the previous event's hash, the case reference, the event's sequence
// number, type, time, actor and canonical data, each length-prefixed so no two different events
// encode alike. That is hash rule 1 (HashRule::kWhole); rule 2 (kSealed, engine/sealing.h) covers
// the data with each personal field replaced by a hiding commitment, so that the field can be
// erased and the chain still verify. Each event records its rule. Altering, inserting or deleting a row breaks the chain at that point, and the case
// row's head hash and version catch a deleted tail. Pure functions; thread-safe.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "engine/model.h"

namespace redress {

// JSON with object keys sorted (byte order) at every depth and no insignificant whitespace.
[[nodiscard]] std::string canonical_json(const boost::json::value& value);
// The same bytes appended to `out`; and one string literal as canonical_json writes it (for
// writers that build canonical JSON piece by piece, engine/sealing.cpp).
void append_canonical_json(const boost::json::value& value, std::string& out);
void append_json_string(std::string_view text, std::string& out);
// One field of a hash's input, length-prefixed ("<size>:<bytes>;") so that no two lists of fields
// encode alike (both hashing rules use it).
void append_hash_field(std::string& out, std::string_view field);

// Lower-case hex SHA-256 of `bytes`.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

// The hash of `event` chained to `previous_hash` ("" for a case's first event), by the event's rule.
// To check a stored event, link_problem (engine/sealing.h) also checks its sealed fields.
[[nodiscard]] std::string chain_hash(std::string_view previous_hash, std::string_view case_reference,
                                     const Event& event);

}  // namespace redress
