// Web settings: how the HTTP API and the pages are set up — intake sources, the intake rate limit,
// the view cache's size, the organisation's name. web/ reads them from here alone; the composition
// root (app/serve.cpp) fills them from the process configuration (app/config.h), so that web/
// depends on nothing in app/. Plain values; thread-compatible, read-only once the server runs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/time.h"

namespace redress::web {

// An intake source: another system that creates cases by posting signed web hooks to
// /hooks/intake/<name>. `mapping` takes case fields ("client.name", "subject", ...) from JSON
// pointers into the payload ("/customer/name"); `category` and `channel` are the defaults.
struct IntakeSource {
  std::string name;
  std::string secret;  // "whsec_<base64>", or read from the variable named by `secret_env`
  std::string channel = "api";
  std::string category;
  std::string workflow;
  std::vector<std::pair<std::string, std::string>> mapping;  // case field -> JSON pointer
  int tolerance_seconds = 300;
};

// Files on messages (docs/attachments.md): over any limit a request is refused whole (413 or 422),
// never stored without its files.
struct AttachmentLimits {
  std::int64_t max_file_bytes = 10 << 20;   // one file
  int max_files = 10;                       // files on one message
  std::int64_t max_total_bytes = 25 << 20;  // all the files of one message
};

struct WebSettings {
  int intake_rate_per_minute = 600;            // per intake source or intake token; 0: no limit
  int view_cache_mib = 32;                     // rendered case views kept (web/view_cache.h); 0: none
  std::map<std::string, IntakeSource> intake;  // by source name
  std::string organisation = "Redress";        // named on the pages
  // How far before now staff may say a complaint was received (a call, letter or visit logged later).
  Duration backdate_window = std::chrono::days(30);
  AttachmentLimits attachments;
  int complaint_form_per_hour = 10;  // complaints one address may file through /complain; 0: no limit
};

}  // namespace redress::web
