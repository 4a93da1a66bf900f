#include "app/private_files.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace redress {

namespace {

void restrict_mode(const std::filesystem::path& path, mode_t wanted_mask) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return;
  const mode_t mode = info.st_mode & 07777;
  if ((mode & ~wanted_mask) == 0) return;
  if (::chmod(path.c_str(), mode & wanted_mask) != 0)
    spdlog::warn("cannot make {} private (mode {:o}): {}", path.string(), mode, std::strerror(errno));
}

}  // namespace

void make_private(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) return;
  restrict_mode(directory, 0700);
  for (const auto& entry : fs::directory_iterator(directory, ec))
    if (entry.is_regular_file(ec) && !entry.is_symlink(ec)) restrict_mode(entry.path(), 0600);
}

}  // namespace redress
