#include "web/multipart.h"

#include <gmime/gmime.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "web/text_rules.h"

namespace redress::web {

namespace {

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct Unref {
  void operator()(void* object) const {
    if (object) g_object_unref(object);
  }
};
template <typename T>
using Owned = std::unique_ptr<T, Unref>;

bool is_utf8(std::string_view text) { return g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr); }

// The decoded content of a leaf part (transfer encodings undone; form-data parts rarely have one).
std::string part_bytes(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return {};
  Owned<GMimeStream> sink(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(content, sink.get()) < 0) return {};
  GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(sink.get()));
  return std::string(reinterpret_cast<const char*>(array->data), array->len);
}

// A browser sends the file's name alone; some clients send a path ("C:\\Users\\ana\\photo.jpg").
std::string base_name(std::string name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name = name.substr(slash + 1);
  std::string clean;
  for (unsigned char c : name)
    if (c >= 0x20 && c != 0x7f) clean.push_back(static_cast<char>(c));
  return clean;
}

}  // namespace

bool is_multipart_form(std::string_view content_type) {
  constexpr std::string_view kType = "multipart/form-data";
  if (content_type.size() < kType.size()) return false;
  for (std::size_t i = 0; i < kType.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(content_type[i])) != kType[i]) return false;
  return content_type.size() == kType.size() || content_type[kType.size()] == ';' || content_type[kType.size()] == ' ';
}

Result<MultipartForm> MultipartForm::parse(std::string_view content_type, std::string_view body) {
  if (!is_multipart_form(content_type) || content_type.find("boundary=") == std::string_view::npos)
    return Error::invalid("the body is not multipart/form-data with a boundary",
                          {FieldError{"Content-Type", "must be multipart/form-data with a boundary"}});
  init_gmime();
  // GMime parses a MIME entity: the request's Content-Type as its header, then the body.
  std::string entity = "Content-Type: " + std::string(content_type) + "\r\n\r\n";
  entity.append(body);
  Owned<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(entity.data(), entity.size()));
  Owned<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  Owned<GMimeObject> root(g_mime_parser_construct_part(parser.get(), nullptr));
  if (!root || !GMIME_IS_MULTIPART(root.get()))
    return Error::invalid("the multipart/form-data body cannot be read", {FieldError{"body", "is not multipart"}});
  GMimeMultipart* multipart = GMIME_MULTIPART(root.get());
  MultipartForm form;
  const int count = g_mime_multipart_get_count(multipart);
  for (int i = 0; i < count; ++i) {
    GMimeObject* object = g_mime_multipart_get_part(multipart, i);
    if (!GMIME_IS_PART(object)) continue;  // nested multiparts (RFC 2388's multipart/mixed) are not used by browsers
    const char* name = g_mime_object_get_content_disposition_parameter(object, "name");
    if (!name || !*name) continue;
    GMimePart* part = GMIME_PART(object);
    const char* filename = g_mime_part_get_filename(part);
    std::string bytes = part_bytes(part);
    if (filename) {
      if (!*filename && bytes.empty()) continue;  // a file input left empty
      UploadedFile file;
      file.field = name;
      file.filename = base_name(filename);
      if (file.filename.empty() || !is_utf8(file.filename)) file.filename = "attachment";
      GMimeContentType* type = g_mime_object_get_content_type(object);
      if (type) {
        char* text = g_mime_content_type_get_mime_type(type);
        file.content_type = text ? text : "";
        g_free(text);
      }
      if (file.content_type.empty()) file.content_type = "application/octet-stream";
      file.bytes = std::move(bytes);
      form.files_.push_back(std::move(file));
      continue;
    }
    if (!is_utf8(bytes))
      return Error::invalid(std::string("the form field ") + name + " is not valid UTF-8",
                            {FieldError{name, "is not valid UTF-8"}});
    if (bytes.find('\0') != std::string::npos)
      return Error::invalid(std::string("the form field ") + name + " contains a NUL byte",
                            {FieldError{name, "must not contain a NUL byte"}});
    if (char32_t control = forbidden_bidi_control(name, bytes); control != 0) {
      char code[16];
      std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(control));
      return Error::invalid(std::string("the form field ") + name + " contains the bidirectional control " + code,
                            {FieldError{name, std::string("must not contain the bidirectional control ") + code}});
    }
    // Browsers send line breaks in text areas as CRLF; the stored text uses LF, as urlencoded forms give.
    std::string text;
    for (std::size_t k = 0; k < bytes.size(); ++k)
      if (!(bytes[k] == '\r' && k + 1 < bytes.size() && bytes[k + 1] == '\n')) text.push_back(bytes[k]);
    form.fields_.emplace(name, std::move(text));
  }
  return form;
}

const std::string& MultipartForm::get(const std::string& name) const {
  static const std::string kEmpty;
  auto it = fields_.find(name);
  return it == fields_.end() ? kEmpty : it->second;
}

}  // namespace redress::web
