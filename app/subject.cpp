// `redress subject export`: everything held about one client, as a tar archive
// (web/subject_export.h).
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>

#include "app/cli.h"
#include "app/environment.h"
#include "web/subject_export.h"

namespace redress {

int command_subject_export(const Arguments& args) {
  const std::string email = args.get("email");
  if (email.empty()) {
    std::cerr << "redress: subject export needs --email\nRun `redress subject export --help` for its options.\n";
    return kExitUsage;
  }
  std::string out = args.get("out");
  if (out.empty()) {
    out = "redress-subject-";
    for (char c : email) out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
    out += ".tar";
  }
  auto env = open_environment(args.config, OpenOptions{});
  if (!env) {
    std::cerr << "redress: " << env.error().detail << "\n";
    return kExitFailure;
  }
  Environment& e = **env;
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  web::SubjectSources sources{*e.store, *e.store, *e.store, *e.store, e.workflows};
  auto archive = web::export_subject(sources, email, e.clock->now(), [terminal](std::int64_t done, std::int64_t total) {
    if (terminal) std::cerr << "\rexporting: case " << done << " of " << total << std::flush;
  });
  if (terminal) std::cerr << "\r\033[K";
  if (!archive) {
    std::cerr << "redress: " << archive.error().detail << "\n";
    return archive.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure;
  }
  // Written beside, then renamed: a half-written archive never has the name asked for.
  const std::string partial = out + ".partial";
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    file.write(archive->bytes.data(), static_cast<std::streamsize>(archive->bytes.size()));
    file.flush();
    if (!file) {
      std::cerr << "redress: cannot write " << partial << "\n";
      return kExitFailure;
    }
  }
  if (std::rename(partial.c_str(), out.c_str()) != 0) {
    std::cerr << "redress: cannot rename " << partial << " to " << out << "\n";
    return kExitFailure;
  }
  std::cout << archive->cases << (archive->cases == 1 ? " case" : " cases") << " and " << archive->files
            << (archive->files == 1 ? " file" : " files") << " about " << email << " written to " << out << " ("
            << archive->bytes.size() << " bytes). Review it before it goes to the client.\n";
  return kExitOk;
}

}  // namespace redress
