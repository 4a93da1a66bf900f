#include "web/router.h"

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/url/parse.hpp>

#include <set>

#include "web/text_rules.h"

namespace redress::web {

namespace json = boost::json;

namespace {

// A handler for json::basic_parser that only looks for a key given twice in one object (Boost.JSON
// keeps one of them silently; RFC 8259 leaves the meaning open, so a strict reader refuses it).
struct DuplicateKeyFinder {
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;
  struct Frame {
    bool object = false;
    std::set<std::string> keys;
    std::string key;  // the member being read
  };
  std::vector<Frame> frames;
  std::string partial_key;
  std::string duplicate;  // the dotted path of the first key given twice

  bool begin(bool object) {
    frames.push_back(Frame{object, {}, {}});
    return true;
  }
  bool end() {
    frames.pop_back();
    return true;
  }
  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return begin(false); }
  bool on_array_end(std::size_t, boost::system::error_code&) { return end(); }
  bool on_object_begin(boost::system::error_code&) { return begin(true); }
  bool on_object_end(std::size_t, boost::system::error_code&) { return end(); }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(json::string_view part, std::size_t, boost::system::error_code&) {
    partial_key.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view part, std::size_t, boost::system::error_code& ec) {
    partial_key.append(part.data(), part.size());
    Frame& frame = frames.back();
    if (!frame.keys.insert(partial_key).second) {
      for (const auto& f : frames)
        if (f.object && &f != &frame) duplicate += f.key + ".";
      duplicate += partial_key;
      ec = json::error::syntax;
      return false;
    }
    frame.key = std::move(partial_key);
    partial_key.clear();
    return true;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_double(double, json::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }
};

// The dotted path of a key that `text` (well-formed JSON) gives twice in one object; empty when none.
std::string duplicate_key(std::string_view text, std::size_t max_depth) {
  json::parse_options options;
  options.max_depth = max_depth;
  json::basic_parser<DuplicateKeyFinder> parser(options);
  boost::system::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  return parser.handler().duplicate;
}

}  // namespace

const std::string& RequestContext::param(const std::string& name) const {
  static const std::string empty;
  auto it = params.find(name);
  return it == params.end() ? empty : it->second;
}

std::optional<std::string> RequestContext::query_value(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

Actor RequestContext::actor() const {
  if (!staff) return Actor::system();
  if (staff->role == Role::kIntake) return Actor::intake(staff->id);
  return Actor::staff(staff->id, staff->role);
}

Result<json::object> parse_json_object(std::string_view text, std::size_t max_depth) {
  json::parse_options options;
  options.max_depth = max_depth;
  json::stream_parser parser(json::storage_ptr(), options);
  boost::system::error_code ec;
  std::size_t used = parser.write_some(text.data(), text.size(), ec);
  if (!ec && used < text.size() && text.substr(used).find_first_not_of(" \t\r\n") != std::string_view::npos)
    ec = json::error::extra_data;
  if (!ec) parser.finish(ec);
  if (ec) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < used && i < text.size(); ++i) {
      if (text[i] == '\n')
        ++line, column = 1;
      else
        ++column;
    }
    return Error::invalid("the body is not valid JSON: " + ec.message() + " at line " + std::to_string(line) +
                              ", column " + std::to_string(column) + " (byte " + std::to_string(used) + ")",
                          {FieldError{"body", ec.message()}});
  }
  json::value value = parser.release();
  if (!value.is_object())
    return Error::invalid("the body must be a JSON object", {FieldError{"body", "must be an object"}});
  if (std::string key = duplicate_key(text, max_depth); !key.empty())
    return Error::invalid("the body gives the key \"" + key + "\" more than once",
                          {FieldError{key, "is given more than once"}});
  return std::move(value.get_object());
}

void Router::add(RouteSpec spec) {
  Compiled compiled;
  std::string_view path = spec.pattern;
  // "/" is the empty path (no segments), as dispatch splits it; any other pattern has one or more.
  std::size_t start = path == "/" ? path.size() + 1 : 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    compiled.segments.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  routes_.push_back(std::move(spec));
  compiled_.push_back(std::move(compiled));
}

bool Router::match(const Compiled& route, const std::vector<std::string>& path,
                   std::map<std::string, std::string>& params) {
  if (route.segments.size() != path.size()) return false;
  std::map<std::string, std::string> captured;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string& pattern = route.segments[i];
    if (pattern.size() > 2 && pattern.front() == '{' && pattern.back() == '}') {
      const std::string& value = path[i];
      if (value.empty() || value == "." || value == ".." || value.size() > 512) return false;
      for (unsigned char c : value)
        if (c < 0x20 || c == 0x7f || c == '/') return false;
      captured[pattern.substr(1, pattern.size() - 2)] = value;
    } else if (pattern != path[i]) {
      return false;
    }
  }
  params = std::move(captured);
  return true;
}

void Router::dispatch(Request request, std::string request_id, std::string client_address, Reply reply,
                      std::string& route) const {
  route = "unmatched";
  auto url = boost::urls::parse_origin_form(std::string_view(request.target().data(), request.target().size()));
  if (!url) {
    reply(problem(http::status::bad_request, "bad-target", "The request target is not valid",
                  "the target must be an absolute path"));
    return;
  }
  std::vector<std::string> segments;
  for (auto segment : url->segments()) segments.push_back(std::string(segment));
  if (url->encoded_path().empty() || url->encoded_path() == "/") segments.clear();

  const RouteSpec* found = nullptr;
  std::map<std::string, std::string> params;
  std::string allow;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    std::map<std::string, std::string> captured;
    if (!match(compiled_[i], segments, captured)) continue;
    // HEAD is GET without the body (the server drops it, web/server.cpp): wherever GET is.
    bool head_of_get = request.method() == http::verb::head && routes_[i].method == http::verb::get;
    if (routes_[i].method == request.method() || head_of_get) {
      found = &routes_[i];
      params = std::move(captured);
      break;
    }
    std::string method(http::to_string(routes_[i].method));
    if (routes_[i].method == http::verb::get) method += ", HEAD";
    if (allow.find(method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + method;
  }
  if (!found) {
    if (!allow.empty()) {
      route = "method-not-allowed";
      Response res = problem(http::status::method_not_allowed, "method-not-allowed", "Method not allowed",
                             std::string(request.method_string()) + " is not allowed here; allowed: " + allow);
      res.set(http::field::allow, allow);
      reply(std::move(res));
    } else {
      reply(problem(http::status::not_found, "not-found", "Not found", "no such resource"));
    }
    return;
  }
  route = found->pattern;

  auto context = std::make_shared<RequestContext>();
  context->request_id = std::move(request_id);
  context->client_address = std::move(client_address);
  context->route = found->pattern;
  context->params = std::move(params);
  for (auto param : url->params()) context->query.emplace(std::string(param.key), std::string(param.value));

  if (found->access == Access::kStaff) {
    auto header = request[http::field::authorization];
    std::string_view value(header.data(), header.size());
    if (value.size() < 8 || !boost::beast::iequals(value.substr(0, 7), std::string_view("Bearer "))) {
      Response res = problem(http::status::unauthorized, "unauthorized", "Authentication required",
                             "send Authorization: Bearer <token>");
      res.set(http::field::www_authenticate, "Bearer realm=\"redress\"");
      reply(std::move(res));
      return;
    }
    auto staff = authenticate_(std::string(value.substr(7)));
    if (!staff && staff.error().code == ErrorCode::kUnavailable) {
      // The tokens could not be read (the database out of reach): not the caller's fault.
      reply(problem_from(staff.error()));
      return;
    }
    if (!staff) {
      Response res = problem(http::status::unauthorized, "unauthorized", "Authentication failed",
                             "the token is unknown or revoked");
      res.set(http::field::www_authenticate, "Bearer realm=\"redress\", error=\"invalid_token\"");
      reply(std::move(res));
      return;
    }
    if (std::find(found->roles.begin(), found->roles.end(), staff->role) == found->roles.end()) {
      reply(problem(http::status::forbidden, "forbidden", "Not allowed for this role",
                    "the " + std::string(to_string(staff->role)) + " role may not " +
                        std::string(http::to_string(found->method)) + " " + found->pattern));
      return;
    }
    context->staff = std::move(staff).value();
  }

  if (found->json_body) {
    auto type = request[http::field::content_type];
    std::string_view content_type(type.data(), type.size());
    auto semicolon = content_type.find(';');
    std::string_view media = content_type.substr(0, semicolon);
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    bool json_type =
        boost::beast::iequals(media, std::string_view("application/json")) ||
        (media.size() > 5 && boost::beast::iequals(media.substr(media.size() - 5), std::string_view("+json")));
    const bool form_with_files = found->multipart == RouteSpec::Multipart::kAccepted &&
                                 boost::beast::iequals(media, std::string_view("multipart/form-data"));
    if (!request.body().empty() && !json_type && !form_with_files) {
      reply(problem(http::status::unsupported_media_type, "unsupported-media-type", "Unsupported media type",
                    "send the body as application/json"));
      return;
    }
    if (!request.body().empty() && !form_with_files) {
      auto body = parse_json_object(request.body(), max_depth_);
      if (!body) {
        json::object extra;
        json::array fields;
        for (const auto& f : body.error().fields)
          fields.push_back(json::object{{"field", f.field}, {"message", f.message}});
        extra["fields"] = std::move(fields);
        reply(problem(http::status::bad_request, "malformed-json", "The body is not valid JSON", body.error().detail,
                      std::move(extra)));
        return;
      }
      if (auto faults = text_faults(*body); !faults.empty()) {
        reply(problem_from(Error::invalid("a text in the body carries a character it may not", std::move(faults))));
        return;
      }
      context->body = std::move(body).value();
    }
  }
  context->request = std::move(request);
  found->handler(context, std::move(reply));
}

}  // namespace redress::web
