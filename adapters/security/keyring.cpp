#include "adapters/security/keyring.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "adapters/security/secrets.h"

namespace redress::security {

namespace {

std::string base64url(const unsigned char* bytes, std::size_t size) {
  std::vector<char> out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
  sodium_bin2base64(out.data(), out.size(), bytes, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string(out.data());
}

}  // namespace

Keyring Keyring::from_bytes(const std::array<unsigned char, 32>& key) {
  (void)new_token("");  // initialises libsodium
  Keyring k;
  k.key_ = key;
  return k;
}

Result<Keyring> Keyring::load_or_create(const std::string& data_dir) {
  (void)new_token("");
  std::string path = data_dir + "/server.key";
  Keyring keyring;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = ::read(fd, keyring.key_.data(), keyring.key_.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(keyring.key_.size()))
      return Error::unavailable(path +
                                " is not a 32-byte key; restore it from a backup (links and secrets depend on it)");
    return keyring;
  }
  if (errno != ENOENT) return Error::unavailable("cannot read " + path + ": " + std::strerror(errno));
  randombytes_buf(keyring.key_.data(), keyring.key_.size());
  fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error::unavailable("cannot create " + path + ": " + std::strerror(errno));
  bool written = ::write(fd, keyring.key_.data(), keyring.key_.size()) == static_cast<ssize_t>(keyring.key_.size());
  written = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return Error::unavailable("cannot write " + path);
  return keyring;
}

Keyring::ClientLink Keyring::new_client_link() const {
  unsigned char nonce[16];
  randombytes_buf(nonce, sizeof nonce);
  ClientLink link;
  link.nonce = base64url(nonce, sizeof nonce);
  link.token = client_token(link.nonce);
  link.hash = token_hash(link.token);
  return link;
}

std::string Keyring::client_token(std::string_view nonce) const {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  std::string message = "redress-client-link-v1:" + std::string(nonce);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key_.data(), key_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return "cl_" + base64url(mac, sizeof mac);
}

std::string Keyring::seal(std::string_view plaintext) const {
  std::vector<unsigned char> box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size());
  randombytes_buf(box.data(), crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(box.data() + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), box.data(),
                        key_.data());
  return base64url(box.data(), box.size());
}

Result<std::string> Keyring::unseal(std::string_view sealed) const {
  std::vector<unsigned char> box(sealed.size());
  std::size_t length = 0;
  if (sodium_base642bin(box.data(), box.size(), sealed.data(), sealed.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      length < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return Error::internal("a sealed secret is malformed");
  std::vector<unsigned char> plain(length - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES);
  if (crypto_secretbox_open_easy(plain.data(), box.data() + crypto_secretbox_NONCEBYTES,
                                 length - crypto_secretbox_NONCEBYTES, box.data(), key_.data()) != 0)
    return Error::internal("a sealed secret does not open with this server's key");
  return std::string(plain.begin(), plain.end());
}

}  // namespace redress::security
