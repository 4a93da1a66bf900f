// `redress mailgate`: one email on standard input, posted to a running server's
// POST /v1/inbound/email, for an MTA's pipe transport or alias. Exits by the MTA's conventions
// (sysexits.h): 0 taken, 75 try again later, 65 the message is unusable (the MTA bounces it).
#include <curl/curl.h>

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "app/cli.h"

namespace redress {

namespace {

constexpr int kExitDataError = 65;  // EX_DATAERR: the message will never be taken
constexpr int kExitTryLater = 75;   // EX_TEMPFAIL: the MTA keeps it and tries again

// The largest message taken (the server's max_upload_bytes default); larger ones are unusable.
constexpr std::size_t kMaxMessageBytes = 32u << 20;

std::size_t collect(char* data, std::size_t size, std::size_t count, void* into) {
  static_cast<std::string*>(into)->append(data, size * count);
  return size * count;
}

}  // namespace

int command_mailgate(const Arguments& args) {
  std::string url = args.get("url");
  std::string token = args.get("token");
  if (token.empty())
    if (const char* env = std::getenv("REDRESS_MAILGATE_TOKEN")) token = env;
  if (url.empty() || token.empty()) {
    // A mis-set pipe must not lose mail: the MTA keeps it until the command line is fixed.
    std::cerr << "redress mailgate: --url and --token (or REDRESS_MAILGATE_TOKEN) are required\n";
    return kExitTryLater;
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::string endpoint = url + "/v1/inbound/email";
  std::string mailbox = args.get("mailbox");

  std::string message;
  std::cin >> std::noskipws;
  char buffer[1 << 16];
  while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
    message.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
    if (message.size() > kMaxMessageBytes) {
      std::cerr << "redress mailgate: the message is larger than " << kMaxMessageBytes << " bytes\n";
      return kExitDataError;
    }
  }
  if (message.empty()) {
    std::cerr << "redress mailgate: no message on standard input\n";
    return kExitDataError;
  }

  CURL* curl = curl_easy_init();
  if (!curl) {
    std::cerr << "redress mailgate: cannot start libcurl\n";
    return kExitTryLater;
  }
  if (!mailbox.empty()) {
    char* escaped = curl_easy_escape(curl, mailbox.c_str(), static_cast<int>(mailbox.size()));
    endpoint += std::string("?mailbox=") + escaped;
    curl_free(escaped);
  }
  std::string answer;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: message/rfc822");
  headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, message.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);

  if (code != CURLE_OK) {
    std::cerr << "redress mailgate: " << endpoint << ": " << curl_easy_strerror(code) << "\n";
    return kExitTryLater;
  }
  if (status >= 200 && status < 300) {
    std::cout << answer << "\n";
    return kExitOk;
  }
  std::cerr << "redress mailgate: " << endpoint << " answered " << status << ": " << answer << "\n";
  // The message itself is refused (too large, not a message, an unknown mailbox): the MTA bounces
  // it. Anything else — the server down or busy, a token to fix — is worth trying again.
  if (status == 413 || status == 415 || status == 422 || status == 400) return kExitDataError;
  return kExitTryLater;
}

}  // namespace redress
