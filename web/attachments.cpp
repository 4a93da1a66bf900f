#include "web/attachments.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace redress::web {

namespace json = boost::json;

std::string size_text(std::int64_t bytes) {
  char text[32];
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  if (bytes < 1024 * 1024) return std::to_string((bytes + 512) / 1024) + " KB";
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

Result<std::vector<AttachmentRef>> store_files(BlobStore* blobs, const AttachmentLimits& limits,
                                               const std::vector<UploadedFile>& files) {
  std::vector<AttachmentRef> stored;
  if (files.empty()) return stored;
  if (!blobs) return Error::invalid_field("files", "files are not accepted here");
  if (static_cast<int>(files.size()) > limits.max_files)
    return Error::invalid_field("files", std::to_string(files.size()) +
                                             " files were sent; a message may carry at most " +
                                             std::to_string(limits.max_files));
  std::int64_t total = 0;
  for (const auto& file : files) {
    const auto size = static_cast<std::int64_t>(file.bytes.size());
    if (size > limits.max_file_bytes)
      return Error::invalid_field("files", file.filename + " is " + size_text(size) + "; each file may be at most " +
                                               size_text(limits.max_file_bytes));
    total += size;
  }
  if (total > limits.max_total_bytes)
    return Error::invalid_field("files", "the files come to " + size_text(total) + "; a message may carry at most " +
                                             size_text(limits.max_total_bytes) + " in all");
  for (const auto& file : files) {
    auto put = blobs->put_blob(file.bytes);
    if (!put) return put.error();
    stored.push_back(AttachmentRef{put->key, file.filename, file.content_type, put->size});
  }
  return stored;
}

Result<std::vector<AttachmentRef>> take_form_files(BlobStore* blobs, const AttachmentLimits& limits,
                                                   RequestContext& ctx, const std::vector<std::string>& integers) {
  auto type = ctx.request[http::field::content_type];
  std::string_view content_type(type.data(), type.size());
  if (!is_multipart_form(content_type)) return std::vector<AttachmentRef>{};
  auto form = MultipartForm::parse(content_type, ctx.request.body());
  if (!form) return form.error();
  json::object body;
  for (const auto& [name, value] : form->fields()) {
    bool whole = !value.empty() && value.size() < 19 && value.find_first_not_of("0123456789") == std::string::npos;
    if (whole && std::find(integers.begin(), integers.end(), name) != integers.end())
      body[name] = std::stoll(value);
    else
      body[name] = value;
  }
  ctx.body = std::move(body);
  return store_files(blobs, limits, form->files());
}

std::string content_disposition(const std::string& filename) {
  std::string fallback, encoded;
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : filename) {
    bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    fallback.push_back(plain || c == ' ' ? static_cast<char>(c) : '_');
    if (plain) {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 15]);
    }
  }
  if (fallback.empty()) fallback = "attachment";
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

Response attachment_download(const AttachmentRef& file, std::string bytes) {
  Response response{http::status::ok, 11};
  // The declared type when it is a plain type/subtype; it never decides how the file is shown.
  std::string type = file.content_type;
  bool plain = !type.empty() && type.find('/') != std::string::npos;
  for (unsigned char c : type)
    plain = plain && (std::isalnum(c) || c == '/' || c == '.' || c == '+' || c == '-' || c == '_');
  response.set(http::field::content_type, plain ? type : "application/octet-stream");
  response.set(http::field::content_disposition, content_disposition(file.filename));
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy", "sandbox; default-src 'none'");
  response.set(http::field::cache_control, "private, no-store");
  response.set("Cross-Origin-Resource-Policy", "same-origin");
  response.body() = std::move(bytes);
  response.prepare_payload();
  return response;
}

}  // namespace redress::web
