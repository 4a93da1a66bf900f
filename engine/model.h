// The domain vocabulary of Redress: cases, commitments, redress, messages, events, staff.
//
// Plain value types and the enums of the SPEC with their stable text names (the names are stored
// and appear in the API, so they never change). No behaviour beyond conversions; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/time.h"

namespace redress {

enum class CaseStatus {
  kReceived,
  kAcknowledged,
  kInvestigating,
  kAwaitingClient,
  kRedressProposed,
  kResolved,
  kClosed,
  kWithdrawn
};
enum class Channel { kWeb, kEmail, kPhone, kInPerson, kApi, kLetter };  // kLetter last: names are stable
enum class Severity { kLow, kMedium, kHigh, kCritical };
enum class Outcome { kUpheld, kPartlyUpheld, kNotUpheld, kResolvedInformally };
enum class RedressKind { kApology, kExplanation, kRefund, kCredit, kReplacement, kRepair, kGoodwill, kCompensation };
enum class RedressStatus { kProposed, kAccepted, kRejected, kFulfilled };
enum class CommitmentKind { kPromise, kPledge, kRedress };
enum class CommitmentStatus { kOpen, kKept, kBroken, kRenegotiated, kCancelled };
enum class Visibility { kClient, kInternal };
// A message held for staff: mail that threads to a case but comes from an address that is not the
// client's waits (kHeld) until staff accept it as the client's message or reject it.
enum class MessageState { kPosted, kHeld, kAccepted, kRejected };
enum class Role { kIntake, kAgent, kLead, kManager, kAdmin };
// The clocks' region of the case machine: running, paused while awaiting the client, stopped once
// the case is resolved or ended.
enum class ClockState { kRunning, kPaused, kStopped };
// What makes a client vulnerable, after the FCA's guidance on the fair treatment of vulnerable
// customers (FG21/1, its four drivers).
enum class VulnerabilityDriver { kHealth, kLifeEvents, kResilience, kCapability };

// Each enum's stable names. from_string returns nullopt for an unknown name.
#define REDRESS_ENUM_NAMES(Enum)                                         \
  [[nodiscard]] std::string_view to_string(Enum value);                  \
  [[nodiscard]] std::optional<Enum> parse_##Enum(std::string_view text); \
  [[nodiscard]] const std::vector<std::string_view>& all_names_##Enum();
REDRESS_ENUM_NAMES(CaseStatus)
REDRESS_ENUM_NAMES(Channel)
REDRESS_ENUM_NAMES(Severity)
REDRESS_ENUM_NAMES(Outcome)
REDRESS_ENUM_NAMES(RedressKind)
REDRESS_ENUM_NAMES(RedressStatus)
REDRESS_ENUM_NAMES(CommitmentKind)
REDRESS_ENUM_NAMES(CommitmentStatus)
REDRESS_ENUM_NAMES(Visibility)
REDRESS_ENUM_NAMES(MessageState)
REDRESS_ENUM_NAMES(Role)
REDRESS_ENUM_NAMES(ClockState)
REDRESS_ENUM_NAMES(VulnerabilityDriver)
#undef REDRESS_ENUM_NAMES

// True for the statuses in which a case is still being worked (before resolution).
[[nodiscard]] bool is_open(CaseStatus status);
// True for the statuses a case never leaves.
[[nodiscard]] bool is_ended(CaseStatus status);
// Roles are ordered: agent < lead < manager < admin. Intake only creates cases.
[[nodiscard]] bool role_at_least(Role role, Role minimum);

struct Client {
  std::string name;
  std::string email;
  std::string phone;   // optional: empty when unknown
  std::string locale;  // BCP 47, e.g. "en-GB"; empty means the organisation's default
};

// A client staff flagged as vulnerable (FCA FG21/1): why, in a note, and when the flag is to be
// looked at again. Staff only: never on the client's page, in the client's API or in mail.
struct Vulnerability {
  VulnerabilityDriver driver = VulnerabilityDriver::kHealth;
  std::string note;
  std::chrono::year_month_day review_on{};  // the date to review the flag by
  friend bool operator==(const Vulnerability&, const Vulnerability&) = default;
};

struct Case {
  std::int64_t id = 0;    // storage key; 0 before the case is stored
  std::string reference;  // "CMP-2026-000042": unique, stable, shown to the client
  Client client;
  Channel channel = Channel::kWeb;
  std::string category;
  std::string touchpoint;
  std::string subject;
  std::string description;
  std::string remedy_requested;
  Severity severity = Severity::kMedium;
  std::string workflow;
  std::string team;  // the queue an unowned case waits in
  CaseStatus status = CaseStatus::kReceived;
  ClockState clock = ClockState::kRunning;
  std::string owner_id;  // empty while unowned; never empty again once set
  int escalation_level = 0;
  std::optional<Outcome> outcome;
  std::int64_t version = 0;  // the number of events in the case's history
  std::string head_hash;     // hash of the latest event (hex); "" before the first
  Time received_at{};
  Time updated_at{};
  std::optional<Time> acknowledged_at;
  std::optional<Time> resolved_at;
  std::optional<Time> ended_at;  // closed or withdrawn
  int pending_offers = 0;        // redress offers proposed, not yet accepted or rejected
  int unfulfilled_redress = 0;   // redress accepted, not yet fulfilled
  std::optional<int> rating;     // the client's 1-5 survey answer
  // The escalation level the case was at when the client last asked for escalation (a client may
  // ask once per level); nullopt when the client never asked.
  std::optional<int> client_escalation_level;
  // When the last holding reply was sent (a letter explaining why the final response is not ready
  // and the client's referral rights, e.g. FCA DISP 1.6.2R(2)); nullopt when none was.
  std::optional<Time> holding_reply_at;
  // A case that reached the organisation through a regulator's portal (CFPB): the regulator's own
  // reference and when the regulator routed it to the organisation; the clocks of a workflow that
  // counts from routing start at routed_at.
  std::string regulator_reference;
  std::optional<Time> routed_at;
  // What a regulatory return needs from a resolution (issue 26): the root cause, from the workflow's
  // taxonomy, and the product or service concerned, from its list; empty when not recorded.
  std::string root_cause;
  std::string product;
  // Set while staff have flagged the client as vulnerable; staff only.
  std::optional<Vulnerability> vulnerability;
  // Staff's labels for the case (issue 27): each a valid tag (engine/tags.h), sorted, no repeats.
  std::vector<std::string> tags;
  // The references of the cases linked to this one, sorted, no repeats. A link is always on both
  // cases (written together); a merged duplicate and the case it was merged into are linked.
  std::vector<std::string> links;
  // Set once the case was merged into another as a duplicate: that case's reference. The
  // duplicate is closed from then on and the other case carries on.
  std::string merged_into;
};

struct Commitment {
  std::int64_t id = 0;  // shown as "k-<id>"
  std::int64_t case_id = 0;
  CommitmentKind kind = CommitmentKind::kPromise;
  std::string text;
  Time due_at{};
  std::string owner_id;
  bool client_visible = true;
  CommitmentStatus status = CommitmentStatus::kOpen;
  Time created_at{};
  std::optional<Time> settled_at;   // when it stopped being open
  std::string note;                 // the keep note, or the renegotiation reason
  std::int64_t replaces_id = 0;     // renegotiated predecessor, 0 if none
  std::int64_t replaced_by_id = 0;  // successor when renegotiated, 0 if none
  std::int64_t redress_id = 0;      // for kind redress: the offer it delivers
  std::string pledge_key;           // for kind pledge: the clock run, "retail/final_response#1"
  // For kind pledge: the time its rule set — the clock's due time, or its exceptional target when
  // the pledge was moved under the rule (FCA payment services: 35 business days with a holding
  // reply). A pledge kept after it was only kept on a renegotiated date: the published standards
  // do not count it as met. Nullopt for promises and redress.
  std::optional<Time> rule_due_at;
  std::vector<Time> warning_times;  // at-risk instants, ascending; Time::max() while paused
  int warnings_fired = 0;           // how many of warning_times have been raised
  std::optional<Time> handled_at;   // broken: when someone recorded what was done about it
  std::string handled_note;
  // Why no automatic compensation is owed on it (a recorded exemption, e.g. the Guaranteed
  // Standards' exemptions); empty when none was recorded. From then on its breach grants nothing.
  std::string exemption;

  // The next warning not yet raised, if any (open commitments only).
  [[nodiscard]] std::optional<Time> next_warning() const {
    if (status != CommitmentStatus::kOpen || warnings_fired >= static_cast<int>(warning_times.size()))
      return std::nullopt;
    return warning_times[static_cast<std::size_t>(warnings_fired)];
  }
  // True while a pledge's clock is paused (the case awaits the client): not due.
  [[nodiscard]] bool paused() const { return due_at == Time::max(); }
};

struct Redress {
  std::int64_t id = 0;  // shown as "r-<id>"
  std::int64_t case_id = 0;
  RedressKind kind = RedressKind::kApology;
  std::optional<std::int64_t> amount_minor;  // in minor units (cents, pence)
  std::string currency;                      // ISO 4217, required with an amount
  std::string text;
  RedressStatus status = RedressStatus::kProposed;
  bool automatic = false;          // granted by a workflow rule, not offered by a person
  std::int64_t commitment_id = 0;  // automatic compensation: the broken commitment it answers
  Time created_at{};
  std::optional<Time> decided_at;
  std::optional<Time> fulfilled_at;
  // What was paid when it was fulfilled, in minor units of paid_currency: the amount offered unless
  // the fulfilment said otherwise; nullopt when nothing was paid (an apology, an explanation).
  std::optional<std::int64_t> paid_minor;
  std::string paid_currency;
};

// A file on a message: its bytes are in the BlobStore (ports/blob_store.h) under `key`.
struct AttachmentRef {
  std::string key;  // hex SHA-256 of the bytes
  std::string filename;
  std::string content_type;
  std::int64_t size = 0;
  friend bool operator==(const AttachmentRef&, const AttachmentRef&) = default;
};

struct Message {
  std::int64_t id = 0;  // shown as "m-<id>"
  std::int64_t case_id = 0;
  Visibility visibility = Visibility::kInternal;
  std::string author;  // actor text, e.g. "staff:u-17" or "client"
  std::string body;
  Time at{};
  MessageState state = MessageState::kPosted;
  std::string via;        // how it arrived: "" when written in Redress, "email" for inbound mail
  std::string original;   // email: the whole text as received (quotes, signature); "" when it equals body
  std::string mail_blob;  // email: the BlobStore key of the raw message, for staff to open

  std::vector<AttachmentRef> attachments{};  // in the order sent; stored with the message

  // A message as posted, with the fields every message has.
  static Message make(std::int64_t id, std::int64_t case_id, Visibility visibility, std::string author,
                      std::string body, Time at) {
    Message m;
    m.id = id;
    m.case_id = case_id;
    m.visibility = visibility;
    m.author = std::move(author);
    m.body = std::move(body);
    m.at = at;
    return m;
  }
};

// How an event's hash covers its data (engine/hash_chain.h). Stored with the event: an event keeps
// the rule it was sealed by, so events of either rule verify side by side.
//   kWhole (1): the hash covers the data as it is. Events written before personal data could be
//     erased; erasing their case re-seals its history under rule 2 first (engine/personal_data.h).
//   kSealed (2): the hash covers the data with each personal field replaced by a hiding commitment,
//     SHA-256(random salt || value) (engine/sealing.h); the salts are in `seals`. Erasing a field
//     deletes its value and salt and keeps the commitment, so the chain still verifies.
enum class HashRule { kWhole = 1, kSealed = 2 };

// One entry of a case's append-only, hash-chained history.
struct Event {
  std::int64_t case_id = 0;
  std::int64_t seq = 0;  // 1, 2, 3... per case; equals the case version after it
  std::string type;      // "case.acknowledged", "commitment.made"...
  Time at{};
  std::string actor;  // "staff:u-17", "client", "system", "intake:web-form"
  std::string data;   // canonical JSON (sorted keys, no spaces)
  std::string hash;   // hex SHA-256 over the canonical encoding, chained to the previous hash
  HashRule hash_rule = HashRule::kWhole;
  // Rule 2 only: canonical JSON {"<JSON pointer>": "<salt hex><digest hex>"} of the personal fields
  // of `data`, or "<digest hex>" alone for a field erased or redacted (engine/sealing.h).
  std::string seals{};
};

// The record of one inbound email (adapters/inbound), written in the same transaction as the change
// it caused, or alone when it caused none. Its raw message's BlobStore key is unique among records,
// so the same message can change a case only once, however many deliveries or pollers bring it.
struct InboundReceipt {
  std::string blob_key;  // the raw message (the record's identity)
  std::string message_id;
  std::string mailbox;  // the configured mailbox it came through; "" for the default
  std::string from_address;
  std::string subject;
  Time received_at{};
  std::string disposition;     // adapters/inbound's Disposition name: "threaded", "held", ...
  std::string case_reference;  // written by the store from the change when the change has a case
  std::string detail;
  std::string bounced_address;  // for a bounce: the recipient that failed
};

struct Staff {
  std::string id;  // "u-17"
  std::string name;
  std::string email;
  Role role = Role::kAgent;
  std::string team;
  bool active = true;
};

// Who performs an action. Its text form is stored in events and messages.
struct Actor {
  enum class Kind { kStaff, kClient, kSystem, kIntake };
  Kind kind = Kind::kSystem;
  std::string id;  // staff id or intake source; empty for client and system
  Role role = Role::kAgent;
  [[nodiscard]] std::string text() const;
  static Actor staff(std::string id, Role role) { return Actor{Kind::kStaff, std::move(id), role}; }
  static Actor client() { return Actor{Kind::kClient, {}, Role::kAgent}; }
  static Actor system() { return Actor{Kind::kSystem, {}, Role::kAdmin}; }
  static Actor intake(std::string source) { return Actor{Kind::kIntake, std::move(source), Role::kIntake}; }
};

}  // namespace redress
