#!/usr/bin/env bash
# One complaint's whole journey through the Redress v1 API, with curl.
#
#   REDRESS_URL=http://127.0.0.1:8080 REDRESS_TOKEN=rdr_... examples/walkthrough.sh
#
# REDRESS_URL   the server's base URL (default http://127.0.0.1:8080)
# REDRESS_TOKEN a bearer token of an agent, lead, manager or admin (`redress staff token --email ...`)
#
# The case follows the shipped `retail` workflow (category "billing"): create → acknowledge → take →
# start → promise → keep → request_info → the client replies through their private link → offer
# redress → propose_redress with a final response → the client accepts → fulfil → close → the
# client's survey. Each step prints what it sent and the case's status and version afterwards; the
# script stops at the first unexpected answer. Needs curl and jq.
set -euo pipefail

url="${REDRESS_URL:-http://127.0.0.1:8080}"
url="${url%/}"
token="${REDRESS_TOKEN:?set REDRESS_TOKEN to a bearer token (redress staff token --email ...)}"
for tool in curl jq; do command -v "$tool" >/dev/null || { echo "walkthrough: $tool is required" >&2; exit 2; }; done

body_file="$(mktemp)"
trap 'rm -f "$body_file"' EXIT
step=0

# call EXPECTED_STATUS METHOD PATH [JSON_BODY] [EXTRA CURL ARGS...]: the answer's body is in $body_file.
call() {
  local expected="$1" method="$2" path="$3" body="${4:-}"
  shift 3; (($#)) && shift
  local args=(-sS -o "$body_file" -w '%{http_code}' -X "$method" "$url$path" -H 'Accept: application/json')
  [[ "$path" == /v1/client/* ]] || args+=(-H "Authorization: Bearer $token")
  [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  local status
  status="$(curl "${args[@]}" "$@")"
  if [[ "$status" != "$expected" ]]; then
    echo "  ✗ $method $path answered $status, expected $expected:" >&2
    jq . "$body_file" >&2 2>/dev/null || cat "$body_file" >&2
    exit 1
  fi
}

# say TITLE: numbers and prints a step.
say() { step=$((step + 1)); printf '\n%2d. %s\n' "$step" "$1"; }
# show: the case's status and version after a staff call that answered with the case.
show_case() { jq -r '"    → \(.reference) is \(.status) (version \(.version)), owner: \(.owner.name // "nobody"), allowed now: \(.allowed_actions | join(", "))"' "$body_file"; }
# show_client: the client's view after a client call.
show_client() { jq -r '"    → the client sees: \(.status_text) [\(.status)]; they may: \(.allowed_actions | join(", ") | if . == "" then "nothing" else . end)"' "$body_file"; }

# Staff actions send If-Match with the version they last saw, so a concurrent change is refused (412), not overwritten.
version=0
act() {
  local action_body="$1"
  call 200 POST "/v1/cases/$reference/actions" "$action_body" -H "If-Match: \"$version\""
  version="$(jq -r .version "$body_file")"
  show_case
}

echo "Redress walk-through against $url"
call 200 GET /healthz
echo "    server time $(jq -r .time "$body_file")"

say "A client complains (POST /v1/cases, with an Idempotency-Key so a retry cannot create a second case)"
idempotency_key="walkthrough-$(date +%s)-$$"
new_case='{
  "client": {"name": "Ana Ruiz", "email": "ana@example.org", "locale": "en-GB"},
  "channel": "web", "category": "billing", "touchpoint": "billing", "severity": "medium",
  "subject": "Charged twice for order 1234",
  "description": "My card was charged twice (£49.99 each) for order 1234 on 2 November.",
  "remedy_requested": "Refund the second charge"
}'
call 201 POST /v1/cases "$new_case" -H "Idempotency-Key: $idempotency_key"
reference="$(jq -r .reference "$body_file")"
version="$(jq -r .version "$body_file")"
client_url="$(jq -r .client_url "$body_file")"
client_token="${client_url##*/}"
show_case
echo "    client link: $client_url (workflow $(jq -r .workflow "$body_file"))"

say "The same request again with the same Idempotency-Key returns the same case"
call 201 POST /v1/cases "$new_case" -H "Idempotency-Key: $idempotency_key"
[[ "$(jq -r .reference "$body_file")" == "$reference" ]] || { echo "  ✗ a replay created another case" >&2; exit 1; }
echo "    → still $reference"

say "Staff acknowledge it"
act '{"action": "acknowledge", "note": "Thank you: we are looking into the double charge."}'

say "An agent takes ownership"
act '{"action": "take"}'

say "Investigation starts"
act '{"action": "start"}'

say "The owner makes a promise to the client (POST /v1/cases/{ref}/commitments)"
call 201 POST "/v1/cases/$reference/commitments" \
  '{"text": "We will confirm with our payments team whether the second charge was taken, within one business day.", "due_in": "P1D", "client_visible": true}' \
  -H "If-Match: \"$version\""
commitment_id="$(jq -r .id "$body_file")"
echo "    → promise $commitment_id, due $(jq -r .due_at "$body_file"), $(jq -r .status "$body_file")"

say "…and keeps it (POST /v1/commitments/{id}/keep)"
call 200 POST "/v1/commitments/$commitment_id/keep" '{"note": "Payments confirmed both charges were taken."}'
version="$(curl -sS -H "Authorization: Bearer $token" "$url/v1/cases/$reference" | jq -r .version)"
echo "    → $(jq -r '.commitments[0] | "\(.id) is \(.status) (settled \(.settled_at))"' "$body_file")"

say "The owner asks the client for their bank statement (request_info)"
act '{"action": "request_info", "body": "Could you send us the statement lines that show both charges?"}'

say "The client opens their private link (GET /v1/client/{token})"
call 200 GET "/v1/client/$client_token"
show_client
echo "    → question from us: $(jq -r '[.messages[] | select(.from == "us")] | last | .body' "$body_file")"

say "The client replies through their link; the case goes back to investigating by itself"
call 201 POST "/v1/client/$client_token/messages" '{"body": "Both lines say CARD PAYMENT 49.99 on 2 Nov. Statement attached."}'
show_client

say "Staff add a redress offer (POST /v1/cases/{ref}/redress)"
call 200 GET "/v1/cases/$reference"
version="$(jq -r .version "$body_file")"
call 201 POST "/v1/cases/$reference/redress" \
  '{"kind": "refund", "amount": "49.99", "currency": "GBP", "text": "A refund of the duplicate charge of £49.99 to your card."}' \
  -H "If-Match: \"$version\""
redress_id="$(jq -r .id "$body_file")"
echo "    → offer $redress_id: $(jq -r '"\(.kind) \(.amount) \(.currency), \(.status)"' "$body_file")"
call 200 GET "/v1/cases/$reference"
version="$(jq -r .version "$body_file")"

say "…and propose it with the final response (the retail standard requires the decision and the ADR entity)"
act "$(jq -n '{action: "propose_redress", outcome: "upheld", offers: [{kind: "apology", text: "We are sorry for the mistake."}],
  final_response: "Dear Ana,\n\nWe have upheld your complaint: our decision is that you were charged twice for order 1234 because of a payment retry error. We will refund the duplicate £49.99.\n\nIf you are not satisfied, you may refer your complaint to an alternative dispute resolution (ADR) entity, the Retail ADR scheme; we will take part in it.\n\nCustomer Care"}')"

say "The client sees the offers and accepts the refund through their link"
call 200 GET "/v1/client/$client_token"
echo "    → offers: $(jq -r '[.redress[] | "\(.id) \(.kind) \(.status)"] | join("; ")' "$body_file")"
call 200 POST "/v1/client/$client_token/redress/$redress_id/accept" '{}'
show_client
echo "    → commitments to the client: $(jq -r '[.commitments[] | "\(.text) (\(.status), due \(.due_at))"] | join("; ")' "$body_file")"

say "Staff record that the refund was paid (POST /v1/redress/{id}/fulfil)"
call 200 POST "/v1/redress/$redress_id/fulfil" '{"note": "Refund 49.99 GBP sent, payment ref RF-88121."}'
echo "    → $(jq -r '.redress | "\(.id) \(.status) at \(.fulfilled_at)"' "$body_file")"
call 200 GET "/v1/cases/$reference"
version="$(jq -r .version "$body_file")"

say "The case is closed"
act '{"action": "close", "note": "Refund paid; nothing left to do."}'

say "The client rates the service through their link"
call 200 POST "/v1/client/$client_token/survey" '{"rating": 5, "comment": "Quick and fair, thank you."}'
echo "    → rating recorded: $(jq -r .rating "$body_file")"

say "The history (GET /v1/cases/{ref}/events), each event hash-chained to the one before"
call 200 GET "/v1/cases/$reference/events"
jq -r '.items[] | "    \(.seq | tostring | (" " * (3 - length)) + .). \(.at)  \(.type)  by \(.actor)  \(.hash[0:12])…"' "$body_file"

echo
echo "Done: $reference went from received to closed in $step steps."
