// Requests to change a case: creating one (NewCase) and acting on one (ActionRequest).
//
// Both are plain values, decoded from JSON (the HTTP API, the intake hooks, the demo) by the
// functions below, which name every missing, mistyped or unknown field. Decoding checks shape
// only; whether the action is allowed now is the lifecycle's question. Thread-compatible values;
// the functions are pure and thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/calendar.h"
#include "engine/lifecycle.h"
#include "engine/model.h"
#include "engine/result.h"
#include "engine/time.h"

namespace redress {

struct NewCase {
  Client client;
  Channel channel = Channel::kWeb;
  std::string category;
  std::string touchpoint;
  std::string subject;
  std::string description;
  std::string remedy_requested;
  Severity severity = Severity::kMedium;
  std::string workflow;  // empty: routed by category and channel
  // When the complaint reached the organisation (a call, letter or visit logged later): never in
  // the future, and when earlier than the creation, with `received_reason`. Staff only; the caller
  // checks its configured window (receipt_window_error). Empty: received at creation.
  std::optional<Time> received_at;
  std::string received_reason;
  // Files sent with the complaint (already in the BlobStore): a client message carries them.
  std::vector<AttachmentRef> attachments;
  // A complaint a regulator's portal routed to the organisation (CFPB): its reference there, and
  // when it was routed; a clock that starts at `routed` counts from then.
  std::string regulator_reference;
  std::optional<Time> routed_at;
  // The client's private link, made by the caller (it needs the server's key): a random nonce
  // from which the link token is derived, and the token's hash for look-ups. Empty: no link.
  std::string client_link_nonce;
  std::string client_link_hash;
  // Mail intake only: the inbound email's record, written with the case (InboundReceipt).
  std::optional<InboundReceipt> receipt;
};

// The client's answers to the RATER survey after resolution, each 1 (poor) to 5 (excellent):
// Reliability, Assurance, Tangibles, Empathy, Responsiveness (SERVQUAL). The overall rating is
// the case's `rating`.
struct RaterScores {
  int reliability = 0, assurance = 0, tangibles = 0, empathy = 0, responsiveness = 0;
};
// The dimensions' stable names, in the order above.
[[nodiscard]] const std::vector<std::string_view>& rater_dimensions();
[[nodiscard]] int rater_score(const RaterScores& scores, std::size_t dimension);

struct RedressOffer {
  RedressKind kind = RedressKind::kApology;
  std::optional<std::int64_t> amount_minor;
  std::string currency;
  std::string text;
};

// A due time given as an instant, or as a duration from now counted on the case's workflow calendar:
// elapsed (calendar) time unless `basis` says business time (working hours, business days).
struct DueSpec {
  std::optional<Time> at;
  std::optional<IsoDuration> in;
  std::optional<TimeBasis> basis;  // for `in`: "due_basis"; calendar time when not given
};

// How a message arrived by email. Set by the mail intake (adapters/inbound), never decoded from JSON.
struct InboundMail {
  std::string from_address;
  std::string from_name;
  std::string subject;
  std::string original;     // the whole text as received; "" when it equals the message body
  std::string blob_key;     // the raw message in the BlobStore
  std::string message_id;   // its Message-ID header
  std::string hold_reason;  // hold_message: why staff must decide
  [[nodiscard]] bool present() const { return !blob_key.empty(); }
};

// A delivery failure reported for mail Redress sent about a case (record_bounce).
struct MailBounce {
  std::string address;  // the recipient that failed
  std::string status;   // RFC 3464 status, "5.1.1"
  std::string diagnostic;
  std::int64_t notification_id = 0;  // the notification whose mail bounced, 0 when unknown
  bool permanent = true;
};

struct ActionRequest {
  ActionType type = ActionType::kAcknowledge;
  std::string reference;  // the case
  Actor actor;
  std::optional<std::int64_t> expected_version;  // If-Match; refused when stale
  std::string note;                              // handover note; keep or fulfil note; acknowledgement note
  std::string reason;  // escalate, deescalate, reopen, withdraw, reject, renegotiate, close, request_escalation
  std::string owner;                             // assign / transfer: staff id ("u-17") or email
  std::optional<Outcome> outcome;
  std::string final_response;                     // resolve / propose_redress
  // resolve, instead of final_response, while the workflow's summary resolution window is open
  // (FCA DISP 1.5: by close of business on the third business day after receipt).
  std::string summary_resolution;
  // add_message: "holding_reply" for a holding reply the workflow requires (FCA DISP 1.6.2R(2)),
  // checked against its [holding_reply] elements; empty for an ordinary message.
  std::string message_kind;
  // resolve, propose_redress, add_message, renegotiate_commitment: the letter template the text was
  // written from (web/letters.h), recorded on the event; empty for free text.
  std::string letter;
  std::vector<RedressOffer> offers;               // propose_redress (inline), offer_redress (exactly one)
  std::optional<int> level;                       // escalate: the level to raise to (default: one up)
  std::optional<Severity> severity;               // assess
  std::string category;                           // assess
  std::string workflow;                           // assess: re-route to this workflow
  Visibility visibility = Visibility::kInternal;  // add_message
  std::string body;                               // add_message; request_info (the question to the client)
  std::string text;                               // make_commitment
  DueSpec due;                                    // make_commitment, renegotiate_commitment
  // renegotiate_commitment of a pledge moved under its exceptional target: the holding reply sent
  // to the client with the reasons and the new deadline (FCA DISP 1.6.2AR(2)).
  std::string holding_reply;
  bool client_visible = true;                     // make_commitment
  std::int64_t commitment_id = 0;                 // keep / renegotiate
  std::int64_t redress_id = 0;                    // accept / reject (optional) / fulfil
  std::optional<int> rating;                      // submit_survey, 1..5: overall (or the older "rating")
  std::optional<RaterScores> rater;               // submit_survey: the five RATER dimensions, when answered
  std::string comment;                            // submit_survey
  std::int64_t message_id = 0;                    // accept_message / reject_message: the held message
  InboundMail mail;                               // add_message by the client, hold_message: the mail it came in
  MailBounce bounce;                              // record_bounce
  std::optional<InboundReceipt> receipt;          // mail intake: the email's record, written with the change
  std::vector<AttachmentRef> attachments;         // add_message: files already in the BlobStore
  // resolve, propose_redress: the root cause and the product or service, from the workflow's lists
  // (required when the workflow's [returns] says so); empty when not given.
  std::string root_cause;
  std::string product;
  // fulfil_redress: what was paid, when it differs from the amount offered (or the offer named none).
  std::optional<std::int64_t> paid_minor;
  std::string paid_currency;
  std::optional<Vulnerability> vulnerability;  // flag_vulnerable
  std::vector<std::string> tags;               // tag, untag: valid tags (engine/tags.h), sorted, no repeats
  // merge: the case the duplicate is merged into ("into"); link, unlink: the other case ("case").
  std::string other_case;
};

// Field limits. Bodies larger than these are refused rather than truncated.
inline constexpr std::size_t kMaxShortText = 200;
inline constexpr std::size_t kMaxLongText = 20000;

// Decodes {"client": {...}, "category": ..., ...}. Unknown fields are refused.
[[nodiscard]] Result<NewCase> decode_new_case(const boost::json::object& body);

// A correction of a case's details (PATCH /v1/cases/{ref}): the client's name, email, phone and
// locale, the subject and the description; an absent field stays as it is. Phone and locale may be
// emptied; the others may not.
struct CaseCorrection {
  std::optional<std::string> client_name, client_email, client_phone, client_locale, subject, description;
  [[nodiscard]] bool empty() const {
    return !client_name && !client_email && !client_phone && !client_locale && !subject && !description;
  }
};
// {"client": {"name", "email", "phone", "locale"}, "subject", "description"}: every unknown,
// mistyped or invalid field named.
[[nodiscard]] Result<CaseCorrection> decode_case_correction(const boost::json::object& body);
// Decodes {"action": "assign", "owner": "u-17", "note": "..."}. `reference` and `actor` come from
// the route and the credentials, not the body. `expected_version` may also be in the body.
[[nodiscard]] Result<ActionRequest> decode_action(const boost::json::object& body);
// The same for a named operation whose fields are the whole body (e.g. POST .../messages).
[[nodiscard]] Result<ActionRequest> decode_action_fields(ActionType type, const boost::json::object& body);

// The refusal of a backdated `received_at` earlier than `window` before `now`; none when within it.
[[nodiscard]] Status check_receipt_window(const NewCase& request, Time now, Duration window);

// Display forms of stored ids: "k-88", "r-12", "m-5"; parse accepts the display form or a number.
[[nodiscard]] std::string commitment_display_id(std::int64_t id);
[[nodiscard]] std::string redress_display_id(std::int64_t id);
[[nodiscard]] std::string message_display_id(std::int64_t id);
[[nodiscard]] std::optional<std::int64_t> parse_display_id(std::string_view text, char prefix);

// Money: "12.50" or 12.5 into minor units (two decimals); nullopt when malformed or negative.
[[nodiscard]] std::optional<std::int64_t> parse_amount_minor(const boost::json::value& amount);
[[nodiscard]] std::string format_amount(std::int64_t minor);

}  // namespace redress
