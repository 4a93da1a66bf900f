// bench/inbound: the inbound-mail pipeline's throughput into the store, and what it costs the
// engine's durable actions while it runs.
//
// Each run, on a fresh data directory (durability full unless told), with the same seeded mix:
//   A. engine alone: `--actions` durable actions (internal notes) from `--threads` callers, before
//      and after B and C (the mean is the baseline), after a warm-up;
//   B. inbound alone: `--messages` raw messages through MailPipeline::take_message from `--threads`
//      callers — 55 % new complaints, 25 % the client's replies (threaded by the subject's tag),
//      8 % strangers' mail naming a case (held), 7 % auto-replies, 5 % list mail; a fifth of the
//      messages are HTML-only, a tenth carry a 20 KiB PDF;
//   C. both at once: the same actions as fast as they go, and new messages offered at a steady
//      `--inbound-rate` (100/s: 8.6 million a day) until the actions are done.
// The pipeline's callers run below the engine's priority, as the server's inbound threads do.
// Prints each run and the medians: messages/s (B) and the engine's actions/s in C as a ratio of A.
// The targets (docs/performance.md): B >= 500 messages/s; C/A >= 0.90.
//
//   bench/inbound [--runs 3] [--messages 3000] [--actions 20000] [--threads 8] [--inbound-rate 100]
//                 [--durability full]
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "adapters/inbound/mail_pipeline.h"
#include "app/environment.h"
#include "engine/actions.h"

using namespace redress;
namespace fs = std::filesystem;
using Clock_ = std::chrono::steady_clock;

namespace {

struct Options {
  int runs = 3;
  int messages = 3000;
  int actions = 20000;
  int threads = 8;
  int inbound_rate = 100;  // messages/s offered beside the actions in C (0: as fast as they go)
  std::string durability = "full";
};

// The server runs the mail pipeline on threads below the engine's priority (app/serve.cpp): so do
// the pipeline's callers here.
void lower_priority() { (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10); }

double seconds_since(Clock_::time_point start) { return std::chrono::duration<double>(Clock_::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Runs `count` jobs on `threads` threads; job(i) for each i.
template <typename Job>
void parallel(int count, int threads, Job job) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = next++; i < count; i = next++) job(i);
    });
  for (auto& t : pool) t.join();
}

struct Case_ {
  std::string reference;
  std::string email;
};

// The seeded mix of raw messages; `cases` are the complaints replies and strangers name.
class Mailer_ {
 public:
  Mailer_(unsigned seed, const std::vector<Case_>& cases, int run) : random_(seed), cases_(cases), run_(run) {
    pdf_ = "%PDF-1.4\n";
    while (pdf_.size() < 20 * 1024) pdf_ += "0123456789abcdefghijklmnopqrstuvwxyz ";
  }

  std::string next(int i) {
    std::uniform_int_distribution<int> percent(0, 99);
    int kind = percent(random_);
    bool html = percent(random_) < 20;
    bool file = percent(random_) < 10;
    std::string id = "<b" + std::to_string(run_) + "." + std::to_string(i) + "@mail.example.net>";
    const Case_& c = cases_[static_cast<std::size_t>(random_() % cases_.size())];
    std::string text =
        "Hello,\n\nI am writing about my order. The parcel was marked as delivered on Tuesday but it never arrived, "
        "and nobody answered the phone when I called twice. I would like a refund and an explanation.\n\nKind "
        "regards,\nSam\n";
    if (kind < 55) return message("Sam Client" + std::to_string(i), "sam" + std::to_string(run_) + "." +
                                  std::to_string(i) + "@example.net", "Parcel never arrived", id, text, html, file, {});
    if (kind < 80)
      return message("Client", c.email, "Re: [" + c.reference + "] your complaint", id,
                     "Thank you. The order number is 5521.\n\nOn Mon, 7 Dec 2026 at 09:00, Complaints "
                     "<complaints@bench.example> wrote:\n> We are looking into it.\n",
                     html, file, {});
    if (kind < 88)
      return message("Someone", "someone" + std::to_string(i) + "@other.example", "Re: [" + c.reference + "]", id,
                     text, html, false, {});
    if (kind < 95)
      return message("Away", "away" + std::to_string(i) + "@example.net", "Out of office", id,
                     "I am away until Monday.\n", false, false, {"Auto-Submitted: auto-replied"});
    return message("List", "list@lists.example", "[news] December", id, "News of the month.\n", false, false,
                   {"List-Id: <news.lists.example>", "Precedence: list"});
  }

 private:
  std::string message(const std::string& name, const std::string& from, const std::string& subject,
                      const std::string& id, const std::string& text, bool html, bool file,
                      const std::vector<std::string>& headers) {
    std::string out = "From: " + name + " <" + from + ">\r\nTo: complaints@bench.example\r\nSubject: " + subject +
                      "\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: " + id + "\r\nMIME-Version: 1.0\r\n";
    for (const auto& h : headers) out += h + "\r\n";
    std::string body_type = html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8";
    std::string body = html ? "<html><body><p>" + text + "</p><blockquote>earlier</blockquote></body></html>" : text;
    if (!file) return out + "Content-Type: " + body_type + "\r\n\r\n" + body;
    out += "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: " + body_type + "\r\n\r\n" +
           body + "\r\n--XX\r\nContent-Type: application/pdf; name=\"receipt.pdf\"\r\nContent-Disposition: "
           "attachment; filename=\"receipt.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string encoded;
    for (std::size_t i = 0; i + 2 < pdf_.size(); i += 3) {
      unsigned v = (static_cast<unsigned char>(pdf_[i]) << 16) | (static_cast<unsigned char>(pdf_[i + 1]) << 8) |
                   static_cast<unsigned char>(pdf_[i + 2]);
      for (int k = 18; k >= 0; k -= 6) encoded += kAlphabet[(v >> k) & 63];
      if (encoded.size() % 77 == 76) encoded += "\r\n";
    }
    return out + encoded + "\r\n--XX--\r\n";
  }

  std::mt19937 random_;
  const std::vector<Case_>& cases_;
  int run_;
  std::string pdf_;
};

struct RunResult {
  double actions_alone = 0;      // actions/s, A
  double messages_alone = 0;     // messages/s, B
  double actions_together = 0;   // actions/s, C
  double messages_together = 0;  // messages/s, C
  int failures = 0;
};

RunResult run_once(const Options& o, int run) {
  fs::path dir = fs::temp_directory_path() / ("redress-bench-inbound-" + std::to_string(::getpid()) + "-" +
                                              std::to_string(run));
  fs::remove_all(dir);
  Config config;
  config.data_dir = dir.string();
  config.durability = o.durability;
  OpenOptions open;
  open.migrate_if_needed = true;
  auto opened = open_environment(config, open);
  if (!opened) throw std::runtime_error(opened.error().detail);
  Environment& env = **opened;
  auto keyring = security::Keyring::from_bytes(std::array<unsigned char, 32>{1, 2, 3});
  inbound::InboundSettings settings;
  settings.domain = "bench.example";
  settings.max_messages_per_sender_per_hour = 1000000;
  inbound::MailboxSettings box;
  box.name = "complaints";
  box.address = "complaints@bench.example";
  box.category = "delivery";
  settings.mailboxes.push_back(box);
  auto& store = *env.store;
  inbound::MailPipeline pipeline(*env.engine, store, store, store, keyring, settings);

  // The cases the actions and the replies go to.
  std::vector<Case_> cases;
  for (int i = 0; i < 400; ++i) {
    NewCase c;
    c.client = Client{"Client " + std::to_string(i), "client" + std::to_string(i) + "@example.org", "", "en-GB"};
    c.channel = Channel::kWeb;
    c.category = "delivery";
    c.subject = "Parcel never arrived";
    c.description = "It never came.";
    auto link = keyring.new_client_link();
    c.client_link_nonce = link.nonce;
    c.client_link_hash = link.hash;
    auto made = env.engine->create_case(std::move(c), Actor::intake("bench"));
    if (!made) throw std::runtime_error(made.error().detail);
    cases.push_back(Case_{made->change.after.reference, "client" + std::to_string(i) + "@example.org"});
  }
  std::atomic<int> failures{0};
  auto act = [&](int i) {
    ActionRequest request;
    request.type = ActionType::kAddMessage;
    request.reference = cases[static_cast<std::size_t>(i) % cases.size()].reference;
    request.actor = Actor::system();
    request.visibility = Visibility::kInternal;
    request.body = "Called the courier, note " + std::to_string(i);
    if (!env.engine->apply(std::move(request))) ++failures;
  };
  Mailer_ mailer(1234u + static_cast<unsigned>(run), cases, run);
  std::vector<std::string> first(static_cast<std::size_t>(o.messages)), second(static_cast<std::size_t>(o.messages));
  for (int i = 0; i < o.messages; ++i) first[static_cast<std::size_t>(i)] = mailer.next(i);
  for (int i = 0; i < o.messages; ++i) second[static_cast<std::size_t>(i)] = mailer.next(o.messages + i);
  auto take = [&](const std::vector<std::string>& batch, int i) {
    if (!pipeline.take_message(batch[static_cast<std::size_t>(i)], "complaints")) ++failures;
  };

  RunResult r;
  // A warm-up, so that the first phase does not pay for a cold file and cold caches; and A is
  // measured before and after the rest, its mean the baseline, so that neither order bias wins.
  parallel(o.actions / 4, o.threads, act);
  auto t0 = Clock_::now();
  parallel(o.actions, o.threads, act);
  const double actions_before = o.actions / seconds_since(t0);

  t0 = Clock_::now();
  parallel(o.messages, o.threads, [&](int i) {
    static thread_local bool lowered = (lower_priority(), true);
    (void)lowered;
    take(first, i);
  });
  r.messages_alone = o.messages / seconds_since(t0);

  // Together: the actions as fast as they go; the messages offered at `inbound_rate` (a steady
  // mail load) until the actions are done. Each rate over its own span.
  std::atomic<bool> actions_done{false};
  std::atomic<int> taken{0};
  double actions_span = 0, messages_span = 0;
  t0 = Clock_::now();
  std::thread mail([&] {
    auto start = Clock_::now();
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < o.threads; ++t)
      pool.emplace_back([&] {
        lower_priority();
        for (int i = next++; i < o.messages && !actions_done; i = next++) {
          if (o.inbound_rate > 0)  // message i is due at start + i / rate
            std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<std::int64_t>(i) * 1000000 /
                                                                              o.inbound_rate));
          take(second, i);
          ++taken;
        }
      });
    for (auto& t : pool) t.join();
    messages_span = seconds_since(start);
  });
  parallel(o.actions, o.threads, act);
  actions_span = seconds_since(t0);
  actions_done = true;
  mail.join();
  r.actions_together = o.actions / actions_span;
  r.messages_together = taken / messages_span;
  t0 = Clock_::now();
  parallel(o.actions, o.threads, act);
  r.actions_alone = (actions_before + o.actions / seconds_since(t0)) / 2;
  r.failures = failures;
  env.store->flush();
  opened->reset();
  fs::remove_all(dir);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // the pipeline logs each message at info
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i], value = argv[i + 1];
    if (name == "--runs") o.runs = std::stoi(value);
    else if (name == "--messages") o.messages = std::stoi(value);
    else if (name == "--actions") o.actions = std::stoi(value);
    else if (name == "--threads") o.threads = std::stoi(value);
    else if (name == "--inbound-rate") o.inbound_rate = std::stoi(value);
    else if (name == "--durability") o.durability = value;
    else {
      std::cerr << "unknown option " << name << "\n";
      return 2;
    }
  }
  std::vector<double> alone, messages, ratio, together_messages;
  for (int run = 0; run < o.runs; ++run) {
    RunResult r = run_once(o, run);
    std::printf("run %d: actions alone %.0f/s; messages alone %.0f/s; together: actions %.0f/s (%.2fx), messages "
                "%.0f/s; failures %d\n",
                run + 1, r.actions_alone, r.messages_alone, r.actions_together, r.actions_together / r.actions_alone,
                r.messages_together, r.failures);
    std::fflush(stdout);
    alone.push_back(r.actions_alone);
    messages.push_back(r.messages_alone);
    ratio.push_back(r.actions_together / r.actions_alone);
    together_messages.push_back(r.messages_together);
    if (r.failures) return 1;
  }
  std::printf("median of %d runs: messages %.0f/s alone, %.0f/s beside the actions; engine actions beside the "
              "inbound mail: %.2fx of alone (%.0f/s alone)\n",
              o.runs, median(messages), median(together_messages), median(ratio), median(alone));
  return 0;
}
