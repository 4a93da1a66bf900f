// The published contract against the real server: the OpenAPI document it serves validates, names
// every route web/api.cpp registers (method, roles, access), and the answers of a real journey match
// the document's schemas; /metrics passes `promtool check metrics`.
//
// Starts the built `redress` binary (migrate, staff add, staff token, serve on an ephemeral port) in
// a temporary data directory and talks to it over a socket. The route list is read from the source
// (web/api.cpp), independently of the server. Needs node with tests/node installed and promtool:
// `scripts/install-deps --test`.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/security/standard_webhooks.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class ContractTempDir {
 public:
  ContractTempDir() {
    static std::atomic<int> counter{0};
    std::random_device device;
    path_ =
        fs::temp_directory_path() / ("redress-contract-" + std::to_string(device()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~ContractTempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ContractTempDir(const ContractTempDir&) = delete;
  ContractTempDir& operator=(const ContractTempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void spit(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// The environment of this process without REDRESS_* variables, so a developer's settings cannot leak in.
std::vector<std::string> clean_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "REDRESS_", 8) != 0) env.emplace_back(*e);
  return env;
}

// Forks and execs `argv` (argv[0] looked up on PATH) with stdin/stdout/stderr redirected to files.
pid_t spawn(const std::vector<std::string>& args, const fs::path& in, const fs::path& out, const fs::path& err) {
  std::vector<std::string> env_strings = clean_environment();
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = args;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int fd_in = open(in.c_str(), O_RDONLY);
    int fd_out = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fd_err = err == out ? fd_out : open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd_in < 0 || fd_out < 0 || fd_err < 0) _exit(126);
    dup2(fd_in, 0);
    dup2(fd_out, 1);
    dup2(fd_err, 2);
    environ = envp.data();
    execvp(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

struct Finished {
  int status = -1;  // the exit code; 127 when the program was not found
  std::string out;
  std::string err;
};

Finished run_process(const std::vector<std::string>& args, const fs::path& scratch, const std::string& input = {}) {
  static std::atomic<int> counter{0};
  const std::string n = std::to_string(counter++);
  const fs::path in = scratch / ("in-" + n), out = scratch / ("out-" + n), err = scratch / ("err-" + n);
  spit(in, input);
  pid_t pid = spawn(args, in, out, err);
  int status = 0;
  waitpid(pid, &status, 0);
  Finished f;
  f.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  f.out = slurp(out);
  f.err = slurp(err);
  return f;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
  return false;
}

// `s` without the line ends and spaces it ends with.
std::string trim_end(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// ---- HTTP over a plain socket ------------------------------------------------------------------

struct HttpAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  json::value json_body() const {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) FAIL("the body is not JSON: " << body.substr(0, 400));
    return v;
  }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

HttpAnswer http_call(int port, const std::string& method, const std::string& target, const std::string& body = {},
                     const HeaderList& headers = {}) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  bool has_type = false;
  for (const auto& [name, value] : headers) {
    request += name + ": " + value + "\r\n";
    if (strcasecmp(name.c_str(), "Content-Type") == 0) has_type = true;
  }
  if (!body.empty() && !has_type) request += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  std::size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buffer[16384];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  HttpAnswer answer;
  auto end = raw.find("\r\n\r\n");
  INFO(method << " " << target << " answered: " << raw.substr(0, 300));
  REQUIRE(end != std::string::npos);
  std::stringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  REQUIRE(line.rfind("HTTP/1.1 ", 0) == 0);
  answer.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    line = trim_end(line);
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    answer.headers[name] = value;
  }
  answer.body = raw.substr(end + 4);
  if (auto length = answer.header("content-length"); !length.empty())
    answer.body = answer.body.substr(0, std::stoul(length));
  return answer;
}

// ---- the server --------------------------------------------------------------------------------

// Signs intake deliveries in the tests; any valid "whsec_<base64>" works.
const std::string kIntakeSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class RunningServer {
 public:
  RunningServer() {
    const std::string binary = REDRESS_BINARY;
    data_ = dir_.path() / "data";
    auto step = [&](const std::vector<std::string>& args) {
      auto f = run_process(args, dir_.path());
      INFO(args[1] << " " << (args.size() > 2 ? args[2] : "") << ": " << f.out << f.err);
      REQUIRE(f.status == 0);
      return trim_end(f.out);
    };
    step({binary, "migrate", "--data-dir", data_.string()});
    step({binary, "staff", "add", "--data-dir", data_.string(), "--name", "Ada Admin", "--email", "admin@example.org",
          "--role", "admin"});
    owner_id_ = step({binary, "staff", "add", "--data-dir", data_.string(), "--name", "Sam Okafor", "--email",
                      "sam@example.org", "--role", "agent"});
    admin_token_ = step({binary, "staff", "token", "--data-dir", data_.string(), "--email", "admin@example.org"});
    agent_token_ = step({binary, "staff", "token", "--data-dir", data_.string(), "--email", "sam@example.org"});
    REQUIRE(admin_token_.find('\n') == std::string::npos);
    spit(dir_.path() / "redress.toml",
         "[intake.web-form]\n"
         "secret = \"" +
             kIntakeSecret +
             "\"\n"
             "channel = \"web\"\n"
             "category = \"billing\"\n"
             "[intake.web-form.mapping]\n"
             "\"client.name\" = \"/name\"\n"
             "\"client.email\" = \"/email\"\n"
             "subject = \"/summary\"\n"
             "description = \"/details\"\n");
    log_ = dir_.path() / "serve.log";
    spit(dir_.path() / "null", "");
    pid_ = spawn({binary, "serve", "--config", (dir_.path() / "redress.toml").string(), "--data-dir", data_.string(),
                  "--listen", "127.0.0.1:0", "--threads", "2"},
                 dir_.path() / "null", log_, log_);
    const std::regex listening(R"(listening on http://127\.0\.0\.1:([0-9]+))");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      std::string text = slurp(log_);
      if (std::regex_search(text, m, listening)) {
        port_ = std::stoi(m[1]);
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("redress serve exited before listening: " << text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("redress serve did not log \"listening on\" within 30 s: " << slurp(log_));
  }

  ~RunningServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 500 && waitpid(pid_, &status, WNOHANG) != pid_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (kill(pid_, 0) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  // SIGTERM; the exit code (0 for a clean stop).
  int stop() {
    REQUIRE(pid_ > 0);
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = {},
                  HeaderList headers = {}, const std::string& token = "agent") const {
    if (token == "agent")
      headers.emplace_back("Authorization", "Bearer " + agent_token_);
    else if (token == "admin")
      headers.emplace_back("Authorization", "Bearer " + admin_token_);
    return http_call(port_, method, target, body, headers);
  }

  int port() const { return port_; }
  const fs::path& scratch() const { return dir_.path(); }
  const std::string& owner_id() const { return owner_id_; }
  const std::string& agent_token() const { return agent_token_; }
  std::string log() const { return slurp(log_); }

 private:
  ContractTempDir dir_;
  fs::path data_, log_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string admin_token_, agent_token_, owner_id_;
};

// ---- the document ------------------------------------------------------------------------------

json::value parse_or_fail(const std::string& text, const std::string& what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) FAIL(what << " is not JSON: " << ec.message());
  return v;
}

const json::value* at_pointer(const json::value& doc, const std::string& pointer) {
  boost::system::error_code ec;
  return doc.find_pointer(pointer, ec);
}

// "#/components/schemas/Case" -> the node; follows chains of $ref.
const json::value& resolve(const json::value& doc, const json::value& node) {
  const json::value* current = &node;
  for (int i = 0; i < 20 && current->is_object() && current->as_object().contains("$ref"); ++i) {
    std::string ref(current->as_object().at("$ref").as_string());
    REQUIRE(ref.rfind("#", 0) == 0);
    const json::value* next = at_pointer(doc, ref.substr(1));
    if (!next) FAIL("unresolved $ref " << ref);
    current = next;
  }
  return *current;
}

// A small JSON Schema (OpenAPI 3.0 dialect) checker for the server's answers: $ref, allOf, oneOf,
// anyOf, nullable, type, enum, required, properties and additionalProperties, items. Strict about
// undocumented fields: an answer may not carry a property its schema does not name, unless the
// schema allows additional properties.
void check_schema(const json::value& doc, const json::value& schema_node, const json::value& value,
                  const std::string& where, std::vector<std::string>& errors) {
  const json::value& schema_value = resolve(doc, schema_node);
  if (!schema_value.is_object()) return;
  const json::object& schema = schema_value.as_object();
  if (value.is_null()) {
    if (auto n = schema.if_contains("nullable"); n && n->is_bool() && n->as_bool()) return;
    if (auto t = schema.if_contains("type"); !t && !schema.contains("allOf") && !schema.contains("oneOf")) return;
  }
  if (auto all = schema.if_contains("allOf")) {
    // Merge the parts' properties so that additionalProperties:false in one part does not refuse another's.
    json::object merged;
    json::object properties;
    json::array required;
    for (const auto& part_node : all->as_array()) {
      const json::value& part = resolve(doc, part_node);
      if (!part.is_object()) continue;
      if (!part.as_object().contains("properties") && !part.as_object().contains("required")) {
        check_schema(doc, part, value, where, errors);
        continue;
      }
      if (auto p = part.as_object().if_contains("properties"))
        for (const auto& [k, v] : p->as_object()) properties[k] = v;
      if (auto r = part.as_object().if_contains("required"))
        for (const auto& k : r->as_array()) required.push_back(k);
    }
    if (!properties.empty() || !required.empty()) {
      merged["type"] = "object";
      merged["properties"] = properties;
      merged["required"] = required;
      // Strict unless a part allows additional properties (Problem does).
      merged["additionalProperties"] = false;
      for (const auto& part_node : all->as_array()) {
        const json::value& part = resolve(doc, part_node);
        if (auto a = part.is_object() ? part.as_object().if_contains("additionalProperties") : nullptr;
            a && a->is_bool() && a->as_bool())
          merged["additionalProperties"] = true;
      }
      if (auto n = schema.if_contains("nullable")) merged["nullable"] = *n;
      check_schema(doc, merged, value, where, errors);
    }
    return;
  }
  if (auto one = schema.if_contains("oneOf"); one || schema.contains("anyOf")) {
    const json::array& options = one ? one->as_array() : schema.at("anyOf").as_array();
    int matched = 0;
    for (const auto& option : options) {
      std::vector<std::string> trial;
      check_schema(doc, option, value, where, trial);
      if (trial.empty()) ++matched;
    }
    if (matched == 0) errors.push_back(where + ": matches none of the oneOf/anyOf schemas");
    return;
  }
  if (auto e = schema.if_contains("enum")) {
    bool found = false;
    for (const auto& option : e->as_array()) found = found || option == value;
    if (!found) errors.push_back(where + ": " + json::serialize(value) + " is not one of " + json::serialize(*e));
  }
  const json::value* type = schema.if_contains("type");
  if (!type) return;
  std::string t(type->as_string());
  auto wrong = [&](const char* expected) {
    errors.push_back(where + ": expected " + expected + ", got " + json::serialize(value).substr(0, 80));
  };
  if (t == "string") {
    if (!value.is_string()) wrong("a string");
  } else if (t == "integer") {
    if (!value.is_int64() && !value.is_uint64()) wrong("an integer");
  } else if (t == "number") {
    if (!value.is_number()) wrong("a number");
  } else if (t == "boolean") {
    if (!value.is_bool()) wrong("a boolean");
  } else if (t == "array") {
    if (!value.is_array()) return wrong("an array");
    if (auto items = schema.if_contains("items")) {
      std::size_t i = 0;
      for (const auto& item : value.as_array())
        check_schema(doc, *items, item, where + "[" + std::to_string(i++) + "]", errors);
    }
  } else if (t == "object") {
    if (!value.is_object()) return wrong("an object");
    const json::object& object = value.as_object();
    const json::object* properties = schema.contains("properties") ? &schema.at("properties").as_object() : nullptr;
    if (auto r = schema.if_contains("required"))
      for (const auto& key : r->as_array())
        if (!object.contains(key.as_string()))
          errors.push_back(where + ": the required property \"" + std::string(key.as_string()) + "\" is missing");
    bool open = true;
    if (auto a = schema.if_contains("additionalProperties"))
      open = a->is_bool() ? a->as_bool() : true;
    else
      open = properties == nullptr;  // answers: an undocumented property is an error
    for (const auto& [key, member] : object) {
      const json::value* property = properties ? properties->if_contains(key) : nullptr;
      if (property)
        check_schema(doc, *property, member, where + "." + std::string(key), errors);
      else if (!open)
        errors.push_back(where + ": the property \"" + std::string(key) + "\" is not in the document");
    }
  }
}

struct Contract {
  json::value doc;

  // Checks an answer against the document: its status is documented for the operation, and its
  // body matches the documented media type and schema.
  void expect(const HttpAnswer& answer, const std::string& path, const std::string& method) const {
    INFO(method << " " << path << " answered " << answer.status << ": " << answer.body.substr(0, 600));
    const json::value* operation = at_pointer(doc, "/paths/" + escape(path) + "/" + method);
    REQUIRE(operation != nullptr);
    const json::value* response =
        operation->as_object().at("responses").as_object().if_contains(std::to_string(answer.status));
    if (!response) FAIL("status " << answer.status << " is not documented for " << method << " " << path);
    const json::value& resolved = resolve(doc, *response);
    const json::object* content =
        resolved.as_object().contains("content") ? &resolved.as_object().at("content").as_object() : nullptr;
    if (!content) {
      CHECK(answer.body.empty());
      return;
    }
    std::string type = answer.header("content-type");
    type = type.substr(0, type.find(';'));
    const json::value* media = content->if_contains(type);
    if (!media) FAIL("the content type \"" << type << "\" is not documented for " << answer.status);
    if (type.find("json") == std::string::npos) return;
    std::vector<std::string> errors;
    check_schema(doc, media->as_object().at("schema"), answer.json_body(), "body", errors);
    std::string all;
    for (const auto& e : errors) all += "\n  " + e;
    INFO("schema mismatches:" << all);
    CHECK(errors.empty());
    for (const auto& [name, header] :
         resolved.as_object().contains("headers") ? resolved.as_object().at("headers").as_object() : json::object{}) {
      std::string lower(name);
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "etag" || lower == "location" || lower == "allow" || lower == "retry-after") {
        INFO("the documented header " << name);
        CHECK(!answer.header(lower).empty());
      }
    }
  }

  static std::string escape(const std::string& path) {
    std::string out;
    for (char c : path) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    return out;
  }
};

// ---- the routes in the source ------------------------------------------------------------------

struct SourceRoute {
  std::string method;  // lower case: get, post, delete
  std::string path;
  std::string access;  // staff, public, client, intake
  std::set<std::string> roles;
};

std::vector<SourceRoute> routes_in_source() {
  std::string source = slurp(fs::path(REDRESS_SOURCE_DIR) / "web" / "api.cpp");
  REQUIRE(!source.empty());
  // Role lists: const std::vector<Role> kAgentUp{Role::kAgent, ...};
  std::map<std::string, std::set<std::string>> role_lists;
  const std::regex list_re(R"(std::vector<Role>\s+(\w+)\s*\{([^}]*)\})");
  const std::regex role_re(R"(Role::k(\w+))");
  for (std::sregex_iterator it(source.begin(), source.end(), list_re), end; it != end; ++it) {
    std::string body = (*it)[2];
    for (std::sregex_iterator r(body.begin(), body.end(), role_re); r != end; ++r) {
      std::string name = (*r)[1];
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      role_lists[(*it)[1]].insert(name);
    }
  }
  std::vector<SourceRoute> routes;
  const std::regex route_re(R"re(\b(staff|open)\(\s*verb::(\w+),\s*"([^"]+)",\s*([\w:]+))re");
  for (std::sregex_iterator it(source.begin(), source.end(), route_re), end; it != end; ++it) {
    SourceRoute r;
    r.method = (*it)[2];
    if (!r.method.empty() && r.method.back() == '_') r.method.pop_back();
    r.path = (*it)[3];
    std::string fourth = (*it)[4];
    if ((*it)[1] == "staff") {
      r.access = "staff";
      INFO("the role list " << fourth << " of " << r.path);
      REQUIRE(role_lists.count(fourth));
      r.roles = role_lists[fourth];
    } else {
      r.access = fourth == "Access::kPublic"       ? "public"
                 : fourth == "Access::kClientLink" ? "client"
                 : fourth == "Access::kIntakeHook" ? "intake"
                                                   : fourth;
    }
    routes.push_back(r);
  }
  return routes;
}

// A concrete target for a route pattern, with harmless values for its parameters.
std::string sample_target(const std::string& pattern) {
  static const std::regex param(R"(\{(\w+)\})");
  std::string out;
  std::string rest = pattern;
  std::smatch m;
  while (std::regex_search(rest, m, param)) {
    out += m.prefix();
    std::string name = m[1];
    out += name == "ref"      ? "CMP-2000-999999"
           : name == "token"  ? "cl_nonexistentnonexistent0000"
           : name == "source" ? "no-such-source"
                              : "k-999999";
    rest = m.suffix();
  }
  return out + rest;
}

Contract served_contract(const RunningServer& server) {
  HttpAnswer answer = http_call(server.port(), "GET", "/v1/openapi.json");
  REQUIRE(answer.status == 200);
  return Contract{parse_or_fail(answer.body, "/v1/openapi.json")};
}

}  // namespace

TEST_CASE("contract: the served OpenAPI document is web/openapi.json and the validator accepts it", "[web][contract]") {
  RunningServer server;
  HttpAnswer answer = http_call(server.port(), "GET", "/v1/openapi.json");
  REQUIRE(answer.status == 200);
  CHECK(answer.header("content-type").rfind("application/json", 0) == 0);
  const fs::path source = fs::path(REDRESS_SOURCE_DIR) / "web" / "openapi.json";
  CHECK(answer.body == slurp(source));
  json::value doc = parse_or_fail(answer.body, "/v1/openapi.json");
  CHECK(std::string(doc.at("openapi").as_string()).rfind("3.", 0) == 0);

  const fs::path saved = server.scratch() / "openapi.json";
  spit(saved, answer.body);
  const fs::path validator = fs::path(REDRESS_SOURCE_DIR) / "tests" / "node" / "validate-openapi.mjs";
  REQUIRE(on_path("node"));
  INFO("tests/node/node_modules is missing: run scripts/install-deps --test");
  REQUIRE(fs::is_directory(fs::path(REDRESS_SOURCE_DIR) / "tests" / "node" / "node_modules" / "@apidevtools" /
                           "swagger-parser"));
  Finished checked = run_process({"node", validator.string(), saved.string()}, server.scratch());
  INFO("validate-openapi: " << checked.out << checked.err);
  CHECK(checked.status == 0);
  CHECK(checked.out.find("is valid OpenAPI") != std::string::npos);

  // The validator does refuse a broken document (so a pass means something).
  json::value broken = doc;
  broken.as_object()["paths"].as_object()["/v1/cases"].as_object()["get"].as_object()["responses"] =
      json::object{{"200", json::object{{"$ref", "#/components/responses/NoSuchResponse"}}}};
  spit(server.scratch() / "broken.json", json::serialize(broken));
  Finished refused =
      run_process({"node", validator.string(), (server.scratch() / "broken.json").string()}, server.scratch());
  CHECK(refused.status == 1);
  CHECK(refused.err.find("NoSuchResponse") != std::string::npos);
}

TEST_CASE("contract: every route in web/api.cpp is documented with its method and roles and nothing else is",
          "[web][contract]") {
  RunningServer server;
  Contract contract = served_contract(server);
  std::vector<SourceRoute> routes = routes_in_source();
  REQUIRE(routes.size() >= 29);

  const json::object& paths = contract.doc.at("paths").as_object();
  std::set<std::pair<std::string, std::string>> registered;
  for (const auto& r : routes) {
    INFO(r.method << " " << r.path << " (" << r.access << ")");
    registered.insert({r.path, r.method});
    const json::value* item = paths.if_contains(r.path);
    REQUIRE(item != nullptr);
    const json::value* operation = item->as_object().if_contains(r.method);
    REQUIRE(operation != nullptr);
    const json::object& op = operation->as_object();
    CHECK(op.contains("operationId"));
    CHECK(op.contains("summary"));
    REQUIRE(op.contains("x-redress-access"));
    CHECK(op.at("x-redress-access").as_string() == r.access);
    const json::array& security = op.at("security").as_array();
    if (r.access == "staff") {
      REQUIRE(op.contains("x-redress-roles"));
      std::set<std::string> roles;
      for (const auto& role : op.at("x-redress-roles").as_array()) roles.insert(std::string(role.as_string()));
      CHECK(roles == r.roles);
      REQUIRE(security.size() == 1);
      CHECK(security[0].as_object().contains("bearerAuth"));
      for (const char* code : {"401", "403"}) CHECK(op.at("responses").as_object().contains(code));
    } else if (r.access == "intake") {
      REQUIRE(security.size() == 1);
      CHECK(security[0].as_object().contains("webhookSignature"));
    } else {
      CHECK(security.empty());
    }
    // Every error is documented as problem+json.
    for (const auto& [code, response_node] : op.at("responses").as_object()) {
      if (code.size() != 3 || code[0] < '4') continue;
      const json::value& response = resolve(contract.doc, response_node);
      INFO("status " << std::string(code));
      REQUIRE(response.as_object().contains("content"));
      CHECK(response.as_object().at("content").as_object().contains("application/problem+json"));
    }
    // Every path parameter is declared, at the path or the operation.
    static const std::regex param(R"(\{(\w+)\})");
    for (std::sregex_iterator it(r.path.begin(), r.path.end(), param), end; it != end; ++it) {
      bool declared = false;
      for (const json::object* holder : {&item->as_object(), &op})
        if (auto list = holder->if_contains("parameters"))
          for (const auto& p : list->as_array()) {
            const json::value& parameter = resolve(contract.doc, p);
            declared = declared || (parameter.as_object().at("in").as_string() == "path" &&
                                    parameter.as_object().at("name").as_string() == (*it)[1].str());
          }
      INFO("path parameter " << (*it)[1]);
      CHECK(declared);
    }

    // The running server agrees that the route exists with this method: staff routes without a
    // token are 401 (an unknown route would be 404 or 405); no route answers 405.
    std::string target = sample_target(r.path);
    std::string upper = r.method;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    HttpAnswer answer = http_call(server.port(), upper, target, upper == "POST" ? "{}" : "");
    INFO(upper << " " << target << " without credentials answered " << answer.status << " " << answer.body);
    CHECK(answer.status != 405);
    if (r.access == "staff") CHECK(answer.status == 401);
    if (r.access == "public" && r.path.find('{') == std::string::npos) CHECK(answer.status == 200);
    contract.expect(answer, r.path, r.method);
  }
  // Nothing documented that the server does not serve.
  for (const auto& [path, item] : paths)
    for (const auto& [method, operation] : item.as_object()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      INFO("documented but not registered: " << std::string(method) << " " << std::string(path));
      CHECK(registered.count({std::string(path), std::string(method)}) == 1);
    }
}

TEST_CASE("contract: a complaint journey answers as the document says", "[web][contract]") {
  RunningServer server;
  Contract contract = served_contract(server);
  auto json_of = [](const HttpAnswer& a) { return a.json_body(); };

  // Create, with an Idempotency-Key, and replay it.
  const std::string new_case =
      R"({"client": {"name": "Ana Ruiz", "email": "ana@example.org", "phone": "+44 20 7946 0000", "locale": "en-GB"},
    "channel": "web", "category": "billing", "touchpoint": "billing", "severity": "medium",
    "subject": "Charged twice", "description": "Order 1234 was charged twice.", "remedy_requested": "Refund"})";
  HttpAnswer created = server.call("POST", "/v1/cases", new_case, {{"Idempotency-Key", "contract-1"}});
  REQUIRE(created.status == 201);
  contract.expect(created, "/v1/cases", "post");
  const std::string ref(json_of(created).at("reference").as_string());
  const std::string client_url(json_of(created).at("client_url").as_string());
  const std::string token = client_url.substr(client_url.rfind('/') + 1);
  HttpAnswer replayed = server.call("POST", "/v1/cases", new_case, {{"Idempotency-Key", "contract-1"}});
  CHECK(replayed.header("idempotent-replayed") == "true");
  contract.expect(replayed, "/v1/cases", "post");
  contract.expect(
      server.call(
          "POST", "/v1/cases",
          R"({"client": {"name": "X", "email": "x@example.org"}, "category": "billing", "subject": "other", "description": "other"})",
          {{"Idempotency-Key", "contract-1"}}),
      "/v1/cases", "post");

  int version = static_cast<int>(json_of(created).at("version").as_int64());  // receipt and the pledges made
  auto act = [&](const std::string& body, int expected = 200) {
    HttpAnswer a = server.call("POST", "/v1/cases/" + ref + "/actions", body,
                               {{"If-Match", "\"" + std::to_string(version) + "\""}});
    INFO(body << " -> " << a.status << " " << a.body);
    REQUIRE(a.status == expected);
    contract.expect(a, "/v1/cases/{ref}/actions", "post");
    if (a.status == 200) version = static_cast<int>(a.json_body().at("version").as_int64());
    return a;
  };
  act(R"({"action": "start"})", 409);  // refused: allowed_actions
  act(R"({"action": "acknowledge", "note": "on it"})");
  act(R"({"action": "take"})");
  act(R"({"action": "start"})");
  {
    HttpAnswer stale = server.call("POST", "/v1/cases/" + ref + "/actions",
                                   R"({"action": "assess", "severity": "high"})", {{"If-Match", "\"1\""}});
    CHECK(stale.status == 412);
    contract.expect(stale, "/v1/cases/{ref}/actions", "post");
  }
  act(R"({"action": "assess", "colour": "blue"})", 422);
  contract.expect(server.call("GET", "/v1/cases/" + ref), "/v1/cases/{ref}", "get");
  contract.expect(server.call("GET", "/v1/cases?status=investigating&limit=1"), "/v1/cases", "get");
  contract.expect(server.call("GET", "/v1/cases?limit=0"), "/v1/cases", "get");
  contract.expect(server.call("GET", "/v1/cases/CMP-2000-999999"), "/v1/cases/{ref}", "get");

  HttpAnswer promise = server.call("POST", "/v1/cases/" + ref + "/commitments",
                                   R"({"text": "We will call you tomorrow", "due_in": "P1D"})");
  REQUIRE(promise.status == 201);
  contract.expect(promise, "/v1/cases/{ref}/commitments", "post");
  const std::string k(json_of(promise).at("id").as_string());
  contract.expect(server.call("GET", "/v1/commitments?case=" + ref), "/v1/commitments", "get");
  contract.expect(server.call("POST", "/v1/commitments/" + k + "/renegotiate",
                              R"({"due_in": "P2D", "reason": "the team is away"})"),
                  "/v1/commitments/{id}/renegotiate", "post");
  HttpAnswer open = server.call("GET", "/v1/commitments?case=" + ref + "&status=open&kind=promise");
  const std::string k2(json_of(open).at("items").as_array().at(0).at("id").as_string());
  contract.expect(server.call("POST", "/v1/commitments/" + k2 + "/keep", R"({"note": "called"})"),
                  "/v1/commitments/{id}/keep", "post");

  contract.expect(
      server.call("POST", "/v1/cases/" + ref + "/messages", R"({"visibility": "internal", "body": "checking"})"),
      "/v1/cases/{ref}/messages", "post");
  contract.expect(
      server.call("POST", "/v1/cases/" + ref + "/messages", "visibility=internal", {{"Content-Type", "text/plain"}}),
      "/v1/cases/{ref}/messages", "post");
  contract.expect(server.call("POST", "/v1/cases/" + ref + "/messages", R"({"visibility": "internal", "body": )"),
                  "/v1/cases/{ref}/messages", "post");
  version = static_cast<int>(json_of(server.call("GET", "/v1/cases/" + ref)).at("version").as_int64());
  act(R"({"action": "request_info", "body": "Please send the statement."})");

  contract.expect(http_call(server.port(), "GET", "/v1/client/" + token), "/v1/client/{token}", "get");
  contract.expect(http_call(server.port(), "POST", "/v1/client/" + token + "/messages", R"({"body": "Here it is."})"),
                  "/v1/client/{token}/messages", "post");
  HttpAnswer offer = server.call("POST", "/v1/cases/" + ref + "/redress",
                                 R"({"kind": "refund", "amount": "49.99", "currency": "GBP", "text": "Refund"})");
  REQUIRE(offer.status == 201);
  contract.expect(offer, "/v1/cases/{ref}/redress", "post");
  const std::string r(json_of(offer).at("id").as_string());
  version = static_cast<int>(json_of(server.call("GET", "/v1/cases/" + ref)).at("version").as_int64());
  act(R"({"action": "propose_redress", "outcome": "upheld", "final_response": "Incomplete"})", 422);
  act(R"({"action": "propose_redress", "outcome": "upheld", "final_response": "We have upheld your complaint. You may refer it to alternative dispute resolution."})");
  contract.expect(http_call(server.port(), "POST", "/v1/client/" + token + "/redress/" + r + "/accept", "{}"),
                  "/v1/client/{token}/redress/{id}/accept", "post");
  contract.expect(server.call("POST", "/v1/redress/" + r + "/fulfil", R"({"note": "paid"})"), "/v1/redress/{id}/fulfil",
                  "post");
  version = static_cast<int>(json_of(server.call("GET", "/v1/cases/" + ref)).at("version").as_int64());
  act(R"({"action": "close"})");
  contract.expect(
      http_call(server.port(), "POST", "/v1/client/" + token + "/survey", R"({"rating": 4, "comment": "ok"})"),
      "/v1/client/{token}/survey", "post");
  contract.expect(http_call(server.port(), "POST", "/v1/client/" + token + "/reopen", R"({"reason": "again"})"),
                  "/v1/client/{token}/reopen", "post");
  contract.expect(server.call("GET", "/v1/cases/" + ref + "/events"), "/v1/cases/{ref}/events", "get");

  // Client links.
  HttpAnswer link = server.call("POST", "/v1/cases/" + ref + "/client-link");
  contract.expect(link, "/v1/cases/{ref}/client-link", "post");
  contract.expect(http_call(server.port(), "GET", "/v1/client/" + token), "/v1/client/{token}",
                  "get");  // the old one: 404
  contract.expect(server.call("DELETE", "/v1/cases/" + ref + "/client-link"), "/v1/cases/{ref}/client-link", "delete");

  // Web hooks, as admin; an agent is refused.
  contract.expect(server.call("GET", "/v1/webhooks"), "/v1/webhooks", "get");
  HttpAnswer hook = server.call(
      "POST", "/v1/webhooks",
      R"({"url": "https://hooks.example.org/redress", "event_types": ["case.received", "commitment.broken"], "description": "CRM"})",
      {}, "admin");
  REQUIRE(hook.status == 201);
  contract.expect(hook, "/v1/webhooks", "post");
  contract.expect(server.call("GET", "/v1/webhooks", "", {}, "admin"), "/v1/webhooks", "get");
  contract.expect(server.call("POST", "/v1/webhooks", R"({"url": "ftp://x", "event_types": ["nope"]})", {}, "admin"),
                  "/v1/webhooks", "post");
  contract.expect(
      server.call("DELETE", "/v1/webhooks/" + std::string(json_of(hook).at("id").as_string()), "", {}, "admin"),
      "/v1/webhooks/{id}", "delete");
  contract.expect(server.call("POST", "/v1/admin/clock", R"({"advance": "PT1H"})", {}, "admin"), "/v1/admin/clock",
                  "post");
  contract.expect(server.call("GET", "/v1/admin/subjects/export?email=nobody%40example.org", "", {}, "admin"),
                  "/v1/admin/subjects/export", "get");
  contract.expect(server.call("GET", "/v1/admin/subjects/export", "", {}, "admin"), "/v1/admin/subjects/export",
                  "get");
  contract.expect(server.call("POST", "/v1/admin/subjects/erase",
                              R"({"email": "nobody@example.org", "reason": "Article 17 request"})", {}, "admin"),
                  "/v1/admin/subjects/erase", "post");
  contract.expect(server.call("POST", "/v1/admin/subjects/erase", R"({"email": "nobody@example.org"})", {}, "admin"),
                  "/v1/admin/subjects/erase", "post");
  contract.expect(server.call("GET", "/v1/admin/erasures", "", {}, "admin"), "/v1/admin/erasures", "get");

  // Saved views: saved, listed, refused (a name used twice, a filter the case list refuses), deleted.
  HttpAnswer view = server.call("POST", "/v1/views",
                                R"({"name": "VIPs", "filter": "tag=vip&status=investigating", "share_with_team": false})");
  REQUIRE(view.status == 201);
  contract.expect(view, "/v1/views", "post");
  contract.expect(server.call("GET", "/v1/views"), "/v1/views", "get");
  HttpAnswer twice = server.call("POST", "/v1/views", R"({"name": "VIPs", "filter": ""})");
  CHECK(twice.status == 409);
  contract.expect(twice, "/v1/views", "post");
  HttpAnswer lost = server.call("POST", "/v1/views", R"({"name": "Lost", "filter": "status=lost"})");
  CHECK(lost.status == 422);
  contract.expect(lost, "/v1/views", "post");
  const std::string view_path = "/v1/views/" + std::string(json_of(view).at("id").as_string());
  HttpAnswer deleted = server.call("DELETE", view_path);
  CHECK(deleted.status == 204);
  contract.expect(deleted, "/v1/views/{id}", "delete");
  contract.expect(server.call("DELETE", view_path), "/v1/views/{id}", "delete");

  // 405 with Allow, 404 for an unknown path.
  HttpAnswer not_allowed = server.call("PUT", "/v1/cases");
  CHECK(not_allowed.status == 405);
  CHECK(!not_allowed.header("allow").empty());
  contract.expect(not_allowed, "/v1/cases", "get");

  CHECK(server.stop() == 0);
}

// [!mayfail]: web/api_hooks.cpp intake_hook maps the payload through a pointer into a destroyed temporary
// (json::value(*payload).find_pointer(...)), which crashes the server on a valid signed delivery.
// Remove the tag once that is fixed.
TEST_CASE("contract: the intake hook answers as the document says", "[web][contract][!mayfail]") {
  RunningServer server;
  Contract contract = served_contract(server);
  const std::string payload =
      R"({"name": "Ben Cole", "email": "ben@example.org", "summary": "Late delivery", "details": "Three weeks late."})";
  // Unsigned, wrongly signed, unknown source: refused before the payload is read.
  contract.expect(http_call(server.port(), "POST", "/hooks/intake/web-form", payload), "/hooks/intake/{source}",
                  "post");
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto forged =
      redress::security::sign_webhook("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "msg_contract_0", now, payload);
  REQUIRE(forged);
  HttpAnswer refused = http_call(
      server.port(), "POST", "/hooks/intake/web-form", payload,
      {{"webhook-id", "msg_contract_0"}, {"webhook-timestamp", std::to_string(now)}, {"webhook-signature", *forged}});
  CHECK(refused.status == 401);
  contract.expect(refused, "/hooks/intake/{source}", "post");
  contract.expect(http_call(server.port(), "POST", "/hooks/intake/no-such-source", payload), "/hooks/intake/{source}",
                  "post");

  // Signed: created; the same webhook-id again: 409 naming the case.
  auto signature = redress::security::sign_webhook(kIntakeSecret, "msg_contract_1", now, payload);
  REQUIRE(signature);
  HeaderList signed_headers{
      {"webhook-id", "msg_contract_1"}, {"webhook-timestamp", std::to_string(now)}, {"webhook-signature", *signature}};
  HttpAnswer intake = http_call(server.port(), "POST", "/hooks/intake/web-form", payload, signed_headers);
  CHECK(intake.status == 201);
  contract.expect(intake, "/hooks/intake/{source}", "post");
  HttpAnswer replay = http_call(server.port(), "POST", "/hooks/intake/web-form", payload, signed_headers);
  CHECK(replay.status == 409);
  contract.expect(replay, "/hooks/intake/{source}", "post");
  CHECK(http_call(server.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("contract: /metrics after traffic passes promtool check metrics", "[web][contract]") {
  RunningServer server;
  // Some traffic: successes, errors and several routes, so that every family has samples.
  CHECK(
      server
          .call(
              "POST", "/v1/cases",
              R"({"client": {"name": "Ana", "email": "ana@example.org"}, "category": "billing", "subject": "s", "description": "d"})")
          .status == 201);
  CHECK(server.call("GET", "/v1/cases").status == 200);
  CHECK(server.call("GET", "/v1/cases/CMP-2000-000001").status == 404);
  CHECK(http_call(server.port(), "GET", "/v1/cases").status == 401);
  CHECK(http_call(server.port(), "GET", "/no/such/path").status == 404);
  CHECK(http_call(server.port(), "GET", "/healthz").status == 200);
  HttpAnswer metrics = http_call(server.port(), "GET", "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.header("content-type").rfind("text/plain", 0) == 0);
  CHECK(metrics.body.find("redress_http_requests_total{") != std::string::npos);
  CHECK(metrics.body.find("redress_http_request_duration_seconds_bucket{") != std::string::npos);
  CHECK(metrics.body.find("redress_cases{status=\"received\"} 1") != std::string::npos);
  CHECK(metrics.body.find("redress_open_commitments") != std::string::npos);
  if (!on_path("promtool")) {
    WARN(
        "promtool is not installed (Debian package prometheus; scripts/install-deps --test): /metrics was not checked");
    return;
  }
  Finished checked = run_process({"promtool", "check", "metrics"}, server.scratch(), metrics.body);
  INFO("promtool check metrics: " << checked.out << checked.err << "\n/metrics:\n" << metrics.body);
  CHECK(checked.status == 0);
  CHECK(trim_end(checked.out + checked.err).empty());
}

TEST_CASE("contract: examples/walkthrough.sh runs green against a fresh server", "[web][contract][examples]") {
  if (!on_path("jq") || !on_path("curl")) {
    WARN("jq or curl is not installed (scripts/install-deps --test): the walk-through was not run");
    return;
  }
  RunningServer server;
  const std::string script = (fs::path(REDRESS_SOURCE_DIR) / "examples" / "walkthrough.sh").string();
  Finished walked = run_process({"env", "REDRESS_URL=http://127.0.0.1:" + std::to_string(server.port()),
                                 "REDRESS_TOKEN=" + server.agent_token(), "bash", script},
                                server.scratch());
  INFO("walkthrough.sh:\n" << walked.out << walked.err);
  CHECK(walked.status == 0);
  CHECK(walked.out.find("went from received to closed") != std::string::npos);
  CHECK(walked.out.find("survey.submitted") != std::string::npos);
}
