#include "adapters/inbound/imap_poller.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <memory>

namespace redress::inbound {

namespace {

std::size_t append_to_string(char* data, std::size_t size, std::size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

struct CurlFree {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

std::int64_t number_at(std::string_view text, std::size_t& at) {
  std::int64_t value = -1;
  auto [end, error] = std::from_chars(text.data() + at, text.data() + text.size(), value);
  if (error != std::errc()) return -1;
  at = static_cast<std::size_t>(end - text.data());
  return value;
}

// One IMAP session's transfers on one curl handle (its connection is reused between them).
class Session {
 public:
  explicit Session(const ImapMailboxSettings& settings) : settings_(settings), curl_(curl_easy_init()) {
    auto slash = settings.url.find('/', settings.url.find("://") == std::string::npos ? 0 : settings.url.find("://") + 3);
    server_ = slash == std::string::npos ? settings.url + "/" : settings.url.substr(0, slash + 1);
    std::string path = slash == std::string::npos ? std::string() : settings.url.substr(slash + 1);
    if (path.empty()) path = "INBOX";
    if (!path.empty() && path.back() == '/') path.pop_back();
    mailbox_url_ = server_ + path;
    int length = 0;
    char* decoded = curl_ != nullptr ? curl_easy_unescape(curl_.get(), path.c_str(), 0, &length) : nullptr;
    mailbox_ = decoded == nullptr ? path : std::string(decoded, static_cast<std::size_t>(length));
    curl_free(decoded);
  }

  // An untagged answer to a command: `url` selects the mailbox first when it names one.
  Result<std::string> command(const std::string& url, const std::string& request) { return transfer(url, request); }
  Result<std::string> fetch(std::int64_t uidvalidity, std::int64_t uid) {
    return transfer(mailbox_url_ + ";UIDVALIDITY=" + std::to_string(uidvalidity) + "/;UID=" + std::to_string(uid), "");
  }

  [[nodiscard]] const std::string& server() const { return server_; }
  [[nodiscard]] const std::string& mailbox_url() const { return mailbox_url_; }
  [[nodiscard]] std::string quoted_mailbox() const {
    std::string quoted = "\"";
    for (char c : mailbox_) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return quoted + "\"";
  }

 private:
  Result<std::string> transfer(const std::string& url, const std::string& request) {
    if (curl_ == nullptr) return Error::internal("curl_easy_init failed");
    CURL* curl = curl_.get();
    std::string body;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.empty() ? nullptr : request.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_to_string);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.user.c_str());
    if (!settings_.bearer.empty())
      curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, settings_.bearer.c_str());
    else
      curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(settings_.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(settings_.timeout.count()));
    long verify = settings_.tls == TlsCheck::kVerify ? 1L : 0L;
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, verify);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, verify * 2);
    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
      std::string what = request.empty() ? "FETCH" : request.substr(0, request.find(' ', 4));
      return Error::unavailable("IMAP " + what + " on mailbox \"" + settings_.name + "\" failed: " +
                                curl_easy_strerror(code));
    }
    return body;
  }

  const ImapMailboxSettings& settings_;
  std::unique_ptr<CURL, CurlFree> curl_;
  std::string server_;       // "imaps://host:993/"
  std::string mailbox_url_;  // "imaps://host:993/INBOX"
  std::string mailbox_;      // "INBOX", URL-decoded
};

}  // namespace

std::optional<std::int64_t> uidvalidity_in(std::string_view answer) {
  constexpr std::string_view kCode = "[UIDVALIDITY ";
  auto at = answer.find(kCode);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t position = at + kCode.size();
  std::int64_t value = number_at(answer, position);
  if (value <= 0) return std::nullopt;
  return value;
}

std::vector<std::int64_t> uids_in(std::string_view answer) {
  std::vector<std::int64_t> uids;
  std::size_t start = 0;
  while (start < answer.size()) {
    auto end = answer.find('\n', start);
    if (end == std::string_view::npos) end = answer.size();
    std::string_view line = answer.substr(start, end - start);
    start = end + 1;
    if (line.substr(0, 8) != "* SEARCH" || (line.size() > 8 && line[8] != ' ' && line[8] != '\r')) continue;
    std::size_t position = 8;
    while (position < line.size()) {
      while (position < line.size() && line[position] == ' ') ++position;
      if (position >= line.size() || line[position] < '0' || line[position] > '9') break;
      std::int64_t uid = number_at(line, position);
      if (uid > 0) uids.push_back(uid);
    }
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

ImapPoller::ImapPoller(ImapMailboxSettings settings, std::string holder, MailIntake& intake,
                       MailboxStateStore& positions, CaseStore& leases, const Clock& clock)
    : settings_(std::move(settings)),
      holder_(std::move(holder)),
      intake_(intake),
      positions_(positions),
      leases_(leases),
      clock_(clock) {
  static const CURLcode initialised = curl_global_init(CURL_GLOBAL_DEFAULT);  // once, before any thread uses curl
  (void)initialised;
}

Result<PollReport> ImapPoller::poll_once() {
  const std::string lease = "mailbox:" + settings_.name;
  auto hold = [&]() -> Result<std::optional<std::int64_t>> {
    Time now = clock_.now();
    return leases_.acquire_lease(lease, holder_, now, now + settings_.lease);
  };
  PollReport report;
  auto held = hold();
  if (!held) return held.error();
  if (!held.value()) return report;  // another process polls this mailbox now
  report.polled = true;
  // Every position of this round is written under the attempt it took: once another poller took
  // the lease over (this one stalled past it), the write is refused and the round ends, so the
  // position never goes back below the successor's.
  const LeaseFence fence{lease, holder_, *held.value()};
  struct Release {
    CaseStore& leases;
    const std::string& name;
    const std::string& holder;
    ~Release() { (void)leases.release_lease(name, holder); }
  } release{leases_, lease, holder_};

  Session session(settings_);
  auto examined = session.command(session.server(), "EXAMINE " + session.quoted_mailbox());
  if (!examined) return examined.error();
  auto uidvalidity = uidvalidity_in(examined.value());
  if (!uidvalidity)
    return Error::unavailable("IMAP EXAMINE on mailbox \"" + settings_.name + "\" named no UIDVALIDITY");
  report.uidvalidity = *uidvalidity;

  auto stored = positions_.mailbox_position(settings_.name);
  if (!stored) return stored.error();
  MailboxPosition position{*uidvalidity, 0};
  if (stored.value()) {
    if (stored.value()->uidvalidity == *uidvalidity)
      position = *stored.value();
    else
      report.uidvalidity_changed = true;  // the mailbox was rebuilt: read it all again
  }

  auto searched =
      session.command(session.mailbox_url(), "UID SEARCH UID " + std::to_string(position.last_uid + 1) + ":*");
  if (!searched) return searched.error();
  std::vector<std::int64_t> uids = uids_in(searched.value());
  // "n:*" always names the highest UID, even below n.
  uids.erase(std::remove_if(uids.begin(), uids.end(), [&](std::int64_t uid) { return uid <= position.last_uid; }),
             uids.end());
  if (uids.empty() && report.uidvalidity_changed) {
    if (auto s = positions_.set_mailbox_position_fenced(settings_.name, position, fence, clock_.now()); !s) {
      if (s.error().code != ErrorCode::kConflict) return s.error();
      report.stopped = "the lease was lost: " + s.error().detail;
      return report;
    }
  }

  for (std::int64_t uid : uids) {
    if (report.taken.size() >= settings_.max_messages_per_round) {
      report.stopped = "took " + std::to_string(report.taken.size()) + " messages: the rest wait for the next round";
      break;
    }
    auto renewed = hold();
    if (!renewed || !renewed.value() || *renewed.value() != fence.attempt) {
      report.stopped = "the lease was lost";
      break;
    }
    auto raw = session.fetch(*uidvalidity, uid);
    if (!raw) {
      report.stopped = raw.error().detail;
      break;
    }
    auto taken = intake_.take_message(raw.value(), settings_.name);
    if (!taken && taken.error().code != ErrorCode::kInvalid) {
      report.stopped = "UID " + std::to_string(uid) + " not taken: " + taken.error().detail;
      break;
    }
    position.last_uid = uid;
    if (auto s = positions_.set_mailbox_position_fenced(settings_.name, position, fence, clock_.now()); !s) {
      report.stopped = s.error().code == ErrorCode::kConflict
                           ? "the lease was lost: " + s.error().detail
                           : "UID " + std::to_string(uid) + " taken but its position not recorded: " + s.error().detail;
      break;
    }
    if (taken) {
      report.taken.push_back(std::move(taken).value());
    } else {
      IntakeOutcome refused;
      refused.disposition = Disposition::kIgnored;
      refused.detail = "not a message: " + taken.error().detail;
      report.taken.push_back(std::move(refused));
    }
  }
  return report;
}

}  // namespace redress::inbound
