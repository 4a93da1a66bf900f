#include "web/erasure_ledger.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/hash_chain.h"

namespace redress::web {

namespace {

constexpr const char* kHeader = "redress-erasure-ledger v1 salt ";

std::string lower(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

Status write_all(int fd, const std::string& bytes, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::unavailable("cannot write the erasure ledger " + path + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return Error::unavailable("cannot sync the erasure ledger " + path + ": " + std::strerror(errno));
  return Status::success();
}

}  // namespace

std::string salted_email_hash(const std::string& salt_hex, const std::string& email) {
  std::string salt(salt_hex.size() / 2, '\0');
  std::size_t length = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(salt.data()), salt.size(), salt_hex.c_str(), salt_hex.size(),
                     nullptr, &length, nullptr) != 0 ||
      length != salt.size())
    return {};
  return sha256_hex(salt + lower(email));
}

Result<ErasureLedger> ErasureLedger::open(const std::string& path) {
  std::ifstream in(path);
  if (in) {
    std::string first;
    std::getline(in, first);
    if (first.rfind(kHeader, 0) != 0 || first.size() != std::strlen(kHeader) + 32)
      return Error::invalid(path + " is not an erasure ledger (its first line is not \"" + kHeader + "<salt>\")");
    return ErasureLedger(path, first.substr(std::strlen(kHeader)));
  }
  // A new ledger: its salt, written once (O_EXCL: two processes starting at once make one).
  if (sodium_init() < 0) return Error::internal("libsodium cannot start");
  unsigned char salt[16];
  randombytes_buf(salt, sizeof salt);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, salt, sizeof salt);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return open(path);
    return Error::unavailable("cannot create the erasure ledger " + path + ": " + std::strerror(errno));
  }
  Status written = write_all(fd, std::string(kHeader) + hex + "\n", path);
  ::close(fd);
  if (!written) return written.error();
  return ErasureLedger(path, hex);
}

std::string ErasureLedger::hash_email(const std::string& email) const { return salted_email_hash(salt_, email); }

Status ErasureLedger::append(const LedgerEntry& entry) {
  std::lock_guard lock(mutex_);
  int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Error::unavailable("cannot open the erasure ledger " + path_ + ": " + std::strerror(errno));
  // A line a crash cut short ends here, so that this one is read whole.
  std::string line = std::to_string(to_micros(entry.at)) + " " + entry.email_hash + "\n";
  const off_t size = ::lseek(fd, 0, SEEK_END);
  char last = '\n';
  if (size > 0 && ::pread(fd, &last, 1, size - 1) == 1 && last != '\n') line.insert(line.begin(), '\n');
  Status written = write_all(fd, line, path_);
  ::close(fd);
  return written;
}

Result<std::vector<LedgerEntry>> ErasureLedger::entries() const {
  std::ifstream in(path_);
  if (!in) return Error::unavailable("cannot read the erasure ledger " + path_);
  std::string line;
  std::getline(in, line);  // the salt
  std::vector<LedgerEntry> out;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::int64_t micros = 0;
    std::string hash;
    // A line cut short by a crash during its write is no request: it was never acted on.
    if (!(fields >> micros >> hash) || hash.size() != 64) continue;
    out.push_back(LedgerEntry{from_micros(micros), hash});
  }
  return out;
}

}  // namespace redress::web
