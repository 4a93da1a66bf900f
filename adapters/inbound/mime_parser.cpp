// parse_message: GMime 3 takes the message apart; this file walks GMime's tree and turns it into
// a ParsedMessage (parsed_message.h), converting every text to UTF-8 on the way.
#include <gmime/gmime.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <cctype>
#include <cstring>
#include <mutex>

#include "adapters/inbound/classify.h"
#include "adapters/inbound/html_text.h"
#include "adapters/inbound/parsed_message.h"
#include "adapters/inbound/quoting.h"

namespace redress::inbound {

namespace {

constexpr int kMaxDepth = 32;                   // nested multiparts walked; deeper ones are ignored
constexpr std::size_t kMaxHeaders = 500;        // top-level headers kept
constexpr std::size_t kMaxHeaderValueBytes = 4096;
constexpr std::size_t kMaxMessageIds = 200;     // References kept
constexpr std::size_t kMaxFilenameBytes = 200;

std::once_flag gmime_initialised;

// ---- small owners of GLib objects ----
struct Unref {
  void operator()(gpointer object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <typename T>
using Owned = std::unique_ptr<T, Unref>;

struct OptionsFree {
  void operator()(GMimeParserOptions* options) const { g_mime_parser_options_free(options); }
};

// ---- text ----
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  const char* space = " \t\r\n";
  auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// Length of the valid UTF-8 sequence at the start of `s` (no overlong forms, surrogates, or code
// points past U+10FFFF), or 0.
std::size_t utf8_sequence(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  if (c < 0x80) return 1;
  std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (length == 0 || c > 0xF4 || s.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i)
    if ((byte(i) & 0xC0) != 0x80) return 0;
  if (c == 0xE0 && byte(1) < 0xA0) return 0;  // overlong
  if (c == 0xED && byte(1) >= 0xA0) return 0;  // surrogate
  if (c == 0xF0 && byte(1) < 0x90) return 0;  // overlong
  if (c == 0xF4 && byte(1) >= 0x90) return 0;  // past U+10FFFF
  return length;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Invalid sequences become U+FFFD; NUL and the C0 controls other than tab and line feed go
// (a carriage return before a line feed included: text keeps "\n" line ends).
std::string clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence(s.substr(i));
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (n == 1 && c < 0x20 && c != '\n' && c != '\t') {
      if (c == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n')) out += '\n';  // a lone CR ends a line
      ++i;
      continue;
    }
    if (n == 1 && c == 0x7F) {
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

// One line: clean_text, with every line end and tab a space, trimmed.
std::string one_line(std::string_view s) {
  std::string out = clean_text(s);
  for (char& c : out)
    if (c == '\n' || c == '\t') c = ' ';
  return std::string(trim(out));
}

std::string one_line(const char* s) { return s == nullptr ? std::string() : one_line(std::string_view(s)); }

// Cut to at most `bytes`, on a UTF-8 boundary.
void cut_utf8(std::string& s, std::size_t bytes) {
  if (s.size() <= bytes) return;
  std::size_t cut = bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
}

// The iconv name to convert from: the labels mail actually uses for the Windows supersets
// (WHATWG Encoding: "iso-8859-1" means windows-1252; Shift_JIS mail is written by CP932).
std::string source_charset(std::string_view label) {
  std::string name = lower(trim(label));
  if (name == "iso-8859-1" || name == "latin1" || name == "iso_8859-1" || name == "us-ascii" || name == "ascii" ||
      name == "ansi_x3.4-1968")
    return "WINDOWS-1252";
  if (name == "shift_jis" || name == "shift-jis" || name == "sjis" || name == "x-sjis" || name == "ms_kanji" ||
      name == "windows-31j")
    return "CP932";
  if (name == "gb2312" || name == "gbk" || name == "x-gbk") return "GB18030";
  if (name == "ks_c_5601-1987" || name == "euc-kr") return "CP949";
  const char* canonical = g_mime_charset_iconv_name(name.c_str());
  return canonical == nullptr ? name : canonical;
}

// `bytes` in `label`'s charset, as UTF-8. Sequences the charset cannot decode become U+FFFD. With
// no label (or an unknown one), UTF-8 when the bytes are valid UTF-8, else windows-1252.
std::string to_utf8(std::string_view bytes, std::string_view label) {
  std::string name = lower(trim(label));
  if (name == "utf-8" || name == "utf8" || ((name.empty() || name == "us-ascii") && valid_utf8(bytes)))
    return clean_text(bytes);
  std::string from = name.empty() || name == "us-ascii" ? "WINDOWS-1252" : source_charset(name);
  iconv_t converter = g_mime_iconv_open("UTF-8", from.c_str());
  if (converter == reinterpret_cast<iconv_t>(-1)) {
    if (valid_utf8(bytes)) return clean_text(bytes);
    converter = g_mime_iconv_open("UTF-8", "WINDOWS-1252");
    if (converter == reinterpret_cast<iconv_t>(-1)) return clean_text(bytes);
  }
  std::string out;
  std::string buffer(4096, '\0');
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  while (in_left > 0) {
    char* out_pointer = buffer.data();
    std::size_t out_left = buffer.size();
    std::size_t result = iconv(converter, &in, &in_left, &out_pointer, &out_left);
    out.append(buffer.data(), buffer.size() - out_left);
    if (result == static_cast<std::size_t>(-1)) {
      if (errno == E2BIG) continue;
      out += kReplacement;  // EILSEQ: an invalid byte; EINVAL: a sequence cut short at the end
      if (errno == EINVAL) break;
      ++in;
      --in_left;
      iconv(converter, nullptr, nullptr, nullptr, nullptr);  // back to the initial shift state
    }
  }
  char* out_pointer = buffer.data();
  std::size_t out_left = buffer.size();
  iconv(converter, nullptr, nullptr, &out_pointer, &out_left);  // a stateful charset's closing sequence
  out.append(buffer.data(), buffer.size() - out_left);
  g_mime_iconv_close(converter);
  return clean_text(out);
}

// "<left@right>" from GMime's id without brackets: only printable ASCII other than space and "<>".
std::string bracketed_id(const char* id) {
  if (id == nullptr) return {};
  std::string inner;
  for (const char* p = id; *p != '\0'; ++p)
    if (*p > ' ' && *p < 127 && *p != '<' && *p != '>') inner += *p;
  if (inner.empty()) return {};
  cut_utf8(inner, 250);
  return "<" + inner + ">";
}

std::vector<std::string> message_ids(GMimeParserOptions* options, const char* value) {
  std::vector<std::string> ids;
  if (value == nullptr) return ids;
  GMimeReferences* references = g_mime_references_parse(options, value);
  if (references == nullptr) return ids;
  int count = g_mime_references_length(references);
  for (int i = 0; i < count && ids.size() < kMaxMessageIds; ++i) {
    std::string id = bracketed_id(g_mime_references_get_message_id(references, i));
    if (!id.empty()) ids.push_back(std::move(id));
  }
  g_mime_references_free(references);
  return ids;
}

// An addr-spec with its domain lower-cased; "" when it holds spaces or controls (unparseable).
std::string clean_address(const char* address) {
  if (address == nullptr) return {};
  std::string out = clean_text(address);
  if (out.empty() || out.size() > 320) return {};
  for (char c : out)
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',') return {};
  auto at = out.rfind('@');
  if (at != std::string::npos)
    for (std::size_t i = at + 1; i < out.size(); ++i)
      out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  return out;
}

void collect_addresses(InternetAddressList* list, std::vector<MailAddress>& out, int depth = 0) {
  if (list == nullptr || depth > 2) return;
  int count = internet_address_list_length(list);
  for (int i = 0; i < count && out.size() < 500; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      out.push_back(MailAddress{one_line(internet_address_get_name(address)),
                                clean_address(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address)))});
    } else if (INTERNET_ADDRESS_IS_GROUP(address)) {
      collect_addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), out, depth + 1);
    }
  }
}

MailAddress first_address(InternetAddressList* list) {
  std::vector<MailAddress> all;
  collect_addresses(list, all);
  return all.empty() ? MailAddress{} : all.front();
}

// ---- parts ----
std::string decoded_content(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return {};
  Owned<GMimeStream> stream(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, stream.get());
  GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream.get()));
  if (array == nullptr || array->data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(array->data), array->len);
}

std::string media_type(GMimeObject* object) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  if (type == nullptr) return "application/octet-stream";
  const char* main = g_mime_content_type_get_media_type(type);
  const char* sub = g_mime_content_type_get_media_subtype(type);
  std::string result = lower(one_line(main)) + "/" + lower(one_line(sub));
  return result == "/" ? "application/octet-stream" : result;
}

std::string content_type_parameter(GMimeObject* object, const char* name) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  return type == nullptr ? std::string() : one_line(g_mime_content_type_get_parameter(type, name));
}

// The name a file is saved as: path parts removed, one line, not too long.
std::string clean_filename(std::string_view name) {
  std::string out = one_line(name);
  auto slash = out.find_last_of("/\\");
  if (slash != std::string::npos) out = out.substr(slash + 1);
  out = std::string(trim(out));
  while (!out.empty() && out.front() == '.') out.erase(0, 1);  // no hidden or "..": a name, not a path
  cut_utf8(out, kMaxFilenameBytes);
  return out;
}

struct Body {
  std::string plain;  // text/plain parts, UTF-8
  std::string html;   // text/html parts, UTF-8

  void append(const Body& other) {
    if (!other.plain.empty()) plain += (plain.empty() ? "" : "\n") + other.plain;
    if (!other.html.empty()) html += other.html;
  }
};

bool has_visible_text(std::string_view s) { return s.find_first_not_of(" \t\r\n") != std::string_view::npos; }

class Walker {
 public:
  Walker(const ParseLimits& limits, GMimeParserOptions* options) : limits_(limits), options_(options) {}

  void walk(GMimeObject* object, int depth, Body& body) {
    if (object == nullptr || depth > kMaxDepth || ++parts_seen_ > limits_.max_parts) return;
    if (GMIME_IS_MULTIPART(object)) {
      walk_multipart(GMIME_MULTIPART(object), depth, body);
    } else if (GMIME_IS_MESSAGE_PART(object)) {
      take_message_part(GMIME_MESSAGE_PART(object));
    } else if (GMIME_IS_PART(object)) {
      take_part(GMIME_PART(object), body);
    }
  }

  std::vector<ParsedAttachment> attachments;
  std::string report_type;                // the top-level multipart/report's, lower-cased
  std::optional<BounceReport> delivery;   // from its message/delivery-status part
  std::string returned_message_id;        // from the returned message or its headers

 private:
  void walk_multipart(GMimeMultipart* multipart, int depth, Body& body) {
    GMimeObject* object = GMIME_OBJECT(multipart);
    std::string type = media_type(object);
    int count = g_mime_multipart_get_count(multipart);
    if (type == "multipart/alternative") {
      // One rendition of the text: the first plain one and the last (richest) HTML one; the
      // files of every rendition are kept (an HTML rendition's inline images).
      Body chosen;
      for (int i = 0; i < count; ++i) {
        Body rendition;
        walk(g_mime_multipart_get_part(multipart, i), depth + 1, rendition);
        if (chosen.plain.empty() && has_visible_text(rendition.plain)) chosen.plain = std::move(rendition.plain);
        if (has_visible_text(rendition.html)) chosen.html = std::move(rendition.html);
      }
      body.append(chosen);
      return;
    }
    if (type == "multipart/report" && depth == 0) report_type = lower(content_type_parameter(object, "report-type"));
    // multipart/signed: the signed content only, not the signature.
    if (type == "multipart/signed") count = std::min(count, 1);
    for (int i = 0; i < count; ++i) walk(g_mime_multipart_get_part(multipart, i), depth + 1, body);
  }

  void take_part(GMimePart* part, Body& body) {
    GMimeObject* object = GMIME_OBJECT(part);
    std::string type = media_type(object);
    const char* filename = g_mime_part_get_filename(part);
    const char* disposition = g_mime_object_get_disposition(object);
    bool attachment_disposition = disposition != nullptr && g_ascii_strcasecmp(disposition, "attachment") == 0;
    if ((type == "text/plain" || type == "text/html") && !attachment_disposition && filename == nullptr) {
      std::string text = to_utf8(decoded_content(part), content_type_parameter(object, "charset"));
      std::string& into = type == "text/plain" ? body.plain : body.html;
      if (!into.empty() && !text.empty()) into += "\n";
      into += text;
      return;
    }
    if (type == "message/delivery-status" || type == "message/global-delivery-status") {
      if (!delivery) delivery = parse_delivery_status(clean_text(decoded_content(part)));
      return;
    }
    if (type == "text/rfc822-headers" || type == "message/global-headers") {
      if (returned_message_id.empty()) returned_message_id = message_id_in_headers(decoded_content(part));
      return;
    }
    if (type == "application/pgp-signature" || type == "application/pkcs7-signature" ||
        type == "application/x-pkcs7-signature")
      return;  // a signature of the text: nothing a reader opens
    ParsedAttachment file;
    file.filename = clean_filename(filename == nullptr ? "" : filename);
    file.content_type = type;
    file.bytes = decoded_content(part);
    const char* content_id = g_mime_object_get_content_id(object);
    file.content_id = content_id == nullptr ? std::string() : bracketed_id(content_id);
    if (file.content_id.size() >= 2) file.content_id = file.content_id.substr(1, file.content_id.size() - 2);
    file.is_inline = !file.content_id.empty() && !attachment_disposition;
    add(std::move(file));
  }

  // A message inside the message (a forward as an attachment, a bounce's returned message): one
  // file of type message/rfc822, never walked into.
  void take_message_part(GMimeMessagePart* part) {
    GMimeObject* object = GMIME_OBJECT(part);
    GMimeMessage* message = g_mime_message_part_get_message(part);
    ParsedAttachment file;
    file.content_type = media_type(object);
    if (message != nullptr) {
      if (returned_message_id.empty()) returned_message_id = bracketed_id(g_mime_message_get_message_id(message));
      char* bytes = g_mime_object_to_string(GMIME_OBJECT(message), nullptr);
      if (bytes != nullptr) {
        file.bytes = bytes;
        g_free(bytes);
      }
    }
    const char* filename = g_mime_object_get_content_disposition_parameter(object, "filename");
    if (filename == nullptr) filename = g_mime_object_get_content_type_parameter(object, "name");
    file.filename = clean_filename(filename == nullptr ? "" : filename);
    if (file.filename.empty() && message != nullptr) {
      std::string subject = clean_filename(one_line(g_mime_message_get_subject(message)));
      if (!subject.empty()) file.filename = subject + ".eml";
    }
    add(std::move(file));
  }

  void add(ParsedAttachment file) {
    if (file.filename.empty()) file.filename = "attachment-" + std::to_string(attachments.size() + 1);
    attachments.push_back(std::move(file));
  }

  std::string message_id_in_headers(const std::string& headers) {
    Owned<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(headers.data(), headers.size()));
    Owned<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    Owned<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), options_));
    return message == nullptr ? std::string() : bracketed_id(g_mime_message_get_message_id(message.get()));
  }

  const ParseLimits& limits_;
  GMimeParserOptions* options_;
  std::size_t parts_seen_ = 0;
};

std::unique_ptr<GMimeParserOptions, OptionsFree> parser_options() {
  std::unique_ptr<GMimeParserOptions, OptionsFree> options(g_mime_parser_options_new());
  g_mime_parser_options_set_address_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_rfc2047_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_allow_addresses_without_domain(options.get(), FALSE);
  // Undeclared 8-bit header text: UTF-8 when it is, else windows-1252.
  const char* fallback[] = {"UTF-8", "WINDOWS-1252", nullptr};
  g_mime_parser_options_set_fallback_charsets(options.get(), fallback);
  return options;
}

// Whether the first line is a header field ("Name: value"), so the input is a message at all.
bool starts_with_header(std::string_view raw) {
  auto colon = raw.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > 200) return false;
  for (char c : raw.substr(0, colon))
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 127) return false;
  return true;
}

}  // namespace

Result<ParsedMessage> parse_message(std::string_view raw, const ParseLimits& limits) {
  std::call_once(gmime_initialised, [] { g_mime_init(); });
  if (raw.empty()) return Error::invalid("the message is empty");
  if (raw.size() > limits.max_message_bytes)
    return Error::invalid("the message is " + std::to_string(raw.size()) + " bytes, more than the limit of " +
                          std::to_string(limits.max_message_bytes));
  // An mbox "From " line (Postfix's pipe, procmail) is not a header.
  if (raw.substr(0, 5) == "From ") {
    auto end = raw.find('\n');
    raw = end == std::string_view::npos ? std::string_view() : raw.substr(end + 1);
  }
  if (!starts_with_header(raw)) return Error::invalid("the input does not start with a header: it is not a message");

  auto options = parser_options();
  Owned<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  Owned<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  Owned<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), options.get()));
  if (message == nullptr) return Error::invalid("the input has no header block: it is not a message");
  GMimeObject* object = GMIME_OBJECT(message.get());
  GMimeHeaderList* header_list = g_mime_object_get_header_list(object);
  int header_count = header_list == nullptr ? 0 : g_mime_header_list_get_count(header_list);
  if (header_count == 0) return Error::invalid("the input has no header block: it is not a message");

  ParsedMessage parsed;
  for (int i = 0; i < header_count && parsed.headers.size() < kMaxHeaders; ++i) {
    GMimeHeader* header = g_mime_header_list_get_header_at(header_list, i);
    std::string name = one_line(g_mime_header_get_name(header));
    if (name.empty()) continue;
    std::string value = one_line(g_mime_header_get_value(header));
    cut_utf8(value, kMaxHeaderValueBytes);
    parsed.headers.push_back(MailHeader{std::move(name), std::move(value)});
  }

  parsed.message_id = bracketed_id(g_mime_message_get_message_id(message.get()));
  parsed.in_reply_to = message_ids(options.get(), g_mime_object_get_header(object, "In-Reply-To"));
  parsed.references = message_ids(options.get(), g_mime_object_get_header(object, "References"));
  parsed.from = first_address(g_mime_message_get_from(message.get()));
  parsed.reply_to = first_address(g_mime_message_get_reply_to(message.get()));
  collect_addresses(g_mime_message_get_to(message.get()), parsed.to);
  collect_addresses(g_mime_message_get_cc(message.get()), parsed.cc);
  if (const MailHeader* return_path = find_header(parsed.headers, "Return-Path")) {
    std::string_view path = trim(return_path->value);
    if (path.size() >= 2 && path.front() == '<' && path.back() == '>') path = trim(path.substr(1, path.size() - 2));
    parsed.return_path = clean_address(std::string(path).c_str());
    parsed.has_empty_return_path = path.empty();
  }
  parsed.subject = one_line(g_mime_message_get_subject(message.get()));
  if (GDateTime* date = g_mime_message_get_date(message.get())) {
    parsed.date = from_micros(g_date_time_to_unix(date) * 1'000'000 + g_date_time_get_microsecond(date));
  }

  Walker walker(limits, options.get());
  Body body;
  walker.walk(g_mime_message_get_mime_part(message.get()), 0, body);
  if (has_visible_text(body.plain)) {
    parsed.text = std::move(body.plain);
  } else if (has_visible_text(body.html)) {
    parsed.text = html_to_text(body.html);
    parsed.from_html = true;
  }
  cut_utf8(parsed.text, limits.max_text_bytes);
  parsed.new_text = new_text_of(parsed.text);
  parsed.attachments = std::move(walker.attachments);

  ClassifyInput input;
  input.headers = &parsed.headers;
  input.from = parsed.from;
  input.has_empty_return_path = parsed.has_empty_return_path;
  input.subject = parsed.subject;
  input.report_type = walker.report_type;
  input.delivery = walker.delivery;
  Classification classification = classify_mail(input);
  parsed.kind = classification.kind;
  parsed.kind_reason = std::move(classification.reason);
  if (parsed.kind == MailKind::kBounce) {
    BounceReport bounce = walker.report_type == "delivery-status" && walker.delivery ? *walker.delivery : BounceReport{};
    if (bounce.failed_recipients.empty()) {
      // A bounce without a status report: Exim's X-Failed-Recipients names them.
      if (const MailHeader* failed = find_header(parsed.headers, "X-Failed-Recipients")) {
        std::vector<MailAddress> addresses;
        Owned<InternetAddressList> list(internet_address_list_parse(options.get(), failed->value.c_str()));
        collect_addresses(list.get(), addresses);
        for (const MailAddress& address : addresses)
          if (!address.address.empty()) bounce.failed_recipients.push_back(lower(address.address));
      }
    }
    bounce.original_message_id = walker.returned_message_id;
    parsed.bounce = std::move(bounce);
  }
  return parsed;
}

}  // namespace redress::inbound
