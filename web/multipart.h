// MultipartForm: a multipart/form-data body (RFC 7578) — the text fields and the files of a form
// with <input type=file>, and of the API's add-message with files — parsed by GMime 3, not by hand.
//
// parse() takes the request's Content-Type (which carries the boundary) and the body. Text fields
// must be UTF-8 and follow the text rules of form bodies (web/text_rules.h); a file is kept as the
// exact bytes sent, with its filename (RFC 2231/5987 encodings decoded by GMime; path parts dropped)
// and its declared content type. A file input left empty (no filename, no bytes) is not a file.
// Pure; thread-safe (GMime is initialised once).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace redress::web {

struct UploadedFile {
  std::string field;  // the form field's name
  std::string filename;
  std::string content_type;  // as sent; "application/octet-stream" when none
  std::string bytes;
};

class MultipartForm {
 public:
  // kInvalid when the type is not multipart/form-data with a boundary, or the body is not one.
  [[nodiscard]] static Result<MultipartForm> parse(std::string_view content_type, std::string_view body);

  // The value of text field `name`, "" when absent.
  [[nodiscard]] const std::string& get(const std::string& name) const;
  [[nodiscard]] const std::multimap<std::string, std::string>& fields() const { return fields_; }
  [[nodiscard]] const std::vector<UploadedFile>& files() const { return files_; }

 private:
  std::multimap<std::string, std::string> fields_;
  std::vector<UploadedFile> files_;
};

// True when the request's Content-Type is multipart/form-data.
[[nodiscard]] bool is_multipart_form(std::string_view content_type);

}  // namespace redress::web
