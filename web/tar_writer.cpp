#include "web/tar_writer.h"

#include <cstring>

namespace redress::web {

namespace {

constexpr std::size_t kBlock = 512;

// Writes `value` as `width - 1` octal digits and a NUL, as ustar's numeric fields are.
void octal(char* field, std::size_t width, std::uint64_t value) {
  std::memset(field, '0', width - 1);
  field[width - 1] = '\0';
  for (std::size_t i = width - 1; i-- > 0 && value; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
}

}  // namespace

Status TarWriter::add(const std::string& name, std::string_view bytes, std::int64_t mtime) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos)
    return Error::invalid_field("name", "an archive member needs a relative name without ..: " + name);
  std::string prefix;
  std::string base = name;
  if (base.size() > 100) {
    // Split at the last '/' that leaves at most 100 bytes of name and 155 of prefix.
    std::size_t cut = name.rfind('/', 155);
    while (cut != std::string::npos && name.size() - cut - 1 > 100) cut = std::string::npos;
    if (cut == std::string::npos || cut == 0)
      return Error::invalid_field("name", "too long for a tar archive: " + name);
    prefix = name.substr(0, cut);
    base = name.substr(cut + 1);
  }
  char header[kBlock] = {};
  std::memcpy(header, base.data(), base.size());
  octal(header + 100, 8, 0600);
  octal(header + 108, 8, 0);
  octal(header + 116, 8, 0);
  octal(header + 124, 12, bytes.size());
  octal(header + 136, 12, static_cast<std::uint64_t>(mtime < 0 ? 0 : mtime));
  std::memset(header + 148, ' ', 8);  // the checksum counts its own field as spaces
  header[156] = '0';                  // a regular file
  std::memcpy(header + 257, "ustar", 6);
  std::memcpy(header + 263, "00", 2);
  std::memcpy(header + 345, prefix.data(), prefix.size());
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  octal(header + 148, 7, sum);
  header[155] = ' ';
  out_.append(header, kBlock);
  out_.append(bytes);
  out_.append((kBlock - bytes.size() % kBlock) % kBlock, '\0');
  ++files_;
  return Status::success();
}

std::string TarWriter::finish() {
  out_.append(2 * kBlock, '\0');
  return std::move(out_);
}

std::string safe_component(std::string_view name) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    out += (c == '/' || c == '\\' || u < 0x20 || u == 0x7F) ? '_' : c;
  }
  std::size_t dots = 0;
  while (dots < out.size() && out[dots] == '.') ++dots;
  if (dots) out.replace(0, dots, std::string(dots, '_'));
  if (out.size() > 80) {
    std::size_t end = 80;
    while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80) --end;
    out.resize(end);
  }
  return out.empty() ? "file" : out;
}

}  // namespace redress::web
