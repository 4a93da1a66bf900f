// Sealing: hash rule 2 of the per-case chain (engine/hash_chain.h), under which a client's personal
// data can be erased from an event while the chain still verifies.
//
// The engine decides which fields of an event's data are personal (personal_paths: the client's
// name, email and phone, subjects and descriptions, the free text of messages, notes, reasons,
// letters and survey comments, mail headers, file names). Sealing an event gives each non-empty
// personal field a hiding commitment, SHA-256(salt || value) with 16 random bytes of salt, and
// hashes the event's *envelope*: its data with each personal field's value replaced by that
// commitment, plus the list of sealed fields. The values and salts stay with the event (`data`
// and `seals`), so while they are there verification recomputes each commitment and tampering is
// caught as before. Withdrawing a field (erasure, redaction) replaces its value by a marker and
// deletes its salt; the commitment stays, the envelope is unchanged, so is the hash. Without its
// salt the commitment reveals nothing of the value (not even a guessable phone number).
//
// Seals are stored as canonical JSON {"<JSON pointer>": "<32 hex salt><first 8 hex of the
// digest>"} (the digest is recomputed from salt and value; the 8 digits name a field whose value
// changed, the chain hash catches any change; seals written with the whole 64 hex digest after
// the salt verify too); a withdrawn field's entry is the 64 hex digest alone, and its value in
// `data` is exactly kErasedValue or kRedactedValue (anything else fails verification).
//
// Pure functions; thread-safe (random salts come from OpenSSL's thread-safe generator).
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"
#include "engine/result.h"

namespace redress {

// What a withdrawn field's value becomes.
inline constexpr std::string_view kErasedValue = "[erased]";
inline constexpr std::string_view kRedactedValue = "[redacted]";

// The JSON pointers (RFC 6901) of the personal fields of an event of `type` with `data`: string
// values only, empty ones left out (nothing to hide), sorted.
[[nodiscard]] std::vector<std::string> personal_paths(std::string_view type, const boost::json::object& data);

// Which rule new events are sealed by: kSealed, except in bench/engine's A/B run that measures
// what sealing costs. Process-wide; thread-safe.
[[nodiscard]] HashRule new_event_rule();
void set_new_event_rule_for_benchmark(HashRule rule);

// Sets event.data, event.seals and event.hash_rule (kSealed) from `data`, with fresh salts; the
// caller then sets event.hash with chain_hash. Consumes `data`.
void seal_event(Event& event, const boost::json::object& data);
// The same, and sets event.hash chained to `previous_hash` without parsing the data back (the
// write path: ChangeBuilder). Returns the hash.
std::string seal_and_chain(Event& event, const boost::json::object& data, std::string_view previous_hash,
                           std::string_view case_reference);

// The hash of a kSealed event chained to `previous_hash`, from its data and seals; "" when the
// seals do not fit the data (which then never matches a stored hash).
[[nodiscard]] std::string sealed_chain_hash(std::string_view previous_hash, std::string_view case_reference,
                                            const Event& event);

// Why `event` does not follow `previous_hash` by its rule (its hash, or a sealed field that no
// longer matches its commitment); nullopt when it does.
[[nodiscard]] std::optional<std::string> link_problem(std::string_view previous_hash, std::string_view case_reference,
                                                      const Event& event);

// Re-seals a kWhole event's data under rule 2, with fresh salts (hash left for the caller).
void reseal_whole_event(Event& event);

// Withdraws the sealed field at `path` (a JSON pointer): its value becomes `marker` and its salt is
// deleted. The hash is unchanged. kNotFound when the event has no sealed field there; withdrawing a
// withdrawn field again is a no-op.
[[nodiscard]] Status withdraw_field(Event& event, std::string_view path, std::string_view marker);
// Withdraws every sealed field still present; how many it withdrew.
int withdraw_all_fields(Event& event, std::string_view marker);

// The sealed fields of a kSealed event, and whether each still has its value.
struct SealedField {
  std::string path;
  bool withdrawn = false;
};
[[nodiscard]] std::vector<SealedField> sealed_fields(const Event& event);

}  // namespace redress
