#include "adapters/inbound/html_text.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

namespace redress::inbound {

namespace {

// Deeper elements are rendered as their bare text: the walk is recursive, and a message of
// ten thousand nested <div>s must not exhaust the stack.
constexpr int kMaxDepth = 200;

bool name_is(const xmlNode* node, const char* name) {
  return node->name != nullptr && std::strcmp(reinterpret_cast<const char*>(node->name), name) == 0;
}

bool name_in(const xmlNode* node, std::initializer_list<const char*> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* name) { return name_is(node, name); });
}

std::string attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return {};
  std::string result(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return result;
}

std::string trimmed(std::string_view s) {
  const char* space = " \t\r\n";
  auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(space);
  return std::string(s.substr(first, last - first + 1));
}

// Writes text line by line. Breaks are requested, not written, until the next visible text: a
// run of closing and opening blocks yields one line end (or one blank line), never a ladder.
class Renderer {
 public:
  // A break of `lines` line ends before the next text: 1 ends the line, 2 leaves a blank line.
  void request_break(int lines) {
    pending_breaks_ = std::max(pending_breaks_, lines);
    pending_space_ = false;
  }
  // <br>: each one ends a line, two in a row leave a blank line.
  void line_break() {
    pending_breaks_ = std::min(pending_breaks_ + 1, 2);
    pending_space_ = false;
  }
  // Flowing text: whitespace runs collapse to one space.
  void flowing(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0') {  // U+00A0 NO-BREAK SPACE
        ++i;
        c = ' ';
      }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        if (line_has_text_) pending_space_ = true;
        continue;
      }
      put(c);
    }
  }
  // Preformatted text: spaces and line ends kept.
  void preformatted(std::string_view text) {
    for (char c : text) {
      if (c == '\r') continue;
      if (c == '\n') {
        line_break();
      } else if (c == ' ' || c == '\t') {
        flush_breaks();
        start_line_if_needed();
        out_ += c;
        line_has_text_ = true;
      } else {
        put(c);
      }
    }
  }
  // Text written as is at the start of a line (a bullet), counted as visible.
  void marker(std::string_view text) {
    flush_breaks();
    start_line_if_needed();
    out_ += text;
    blank_depth_ = quote_depth_;
    pending_space_ = false;
    line_has_text_ = false;  // the item's own text follows without a space
  }
  void push_quote() { ++quote_depth_; }
  void pop_quote() {
    if (quote_depth_ > 0) --quote_depth_;
    blank_depth_ = std::min(blank_depth_, quote_depth_);
  }
  [[nodiscard]] std::size_t size() const { return out_.size(); }
  [[nodiscard]] std::string_view since(std::size_t position) const {
    return std::string_view(out_).substr(std::min(position, out_.size()));
  }
  std::string finish() {
    // Trailing spaces on each line, repeated blank lines, and blank lines at either end go.
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= out_.size()) {
      auto end = out_.find('\n', start);
      if (end == std::string::npos) end = out_.size();
      std::string line = out_.substr(start, end - start);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
      bool blank = line.find_first_not_of("> ") == std::string::npos;
      if (!(blank && !lines.empty() && lines.back() == line)) lines.push_back(std::move(line));
      start = end + 1;
    }
    std::size_t first = 0;
    while (first < lines.size() && lines[first].empty()) ++first;
    std::size_t last = lines.size();
    while (last > first && lines[last - 1].empty()) --last;
    std::string result;
    for (std::size_t i = first; i < last; ++i) {
      if (i > first) result += '\n';
      result += lines[i];
    }
    return result;
  }

 private:
  void put(char c) {
    flush_breaks();
    start_line_if_needed();
    if (pending_space_ && line_has_text_) out_ += ' ';
    pending_space_ = false;
    out_ += c;
    line_has_text_ = true;
    blank_depth_ = quote_depth_;
  }

  void flush_breaks() {
    if (pending_breaks_ == 0) return;
    if (!out_.empty()) {
      for (int i = 0; i < pending_breaks_; ++i) {
        if (i > 0) write_prefix(/*blank_line=*/true);
        out_ += '\n';
      }
    }
    pending_breaks_ = 0;
    line_has_text_ = false;
    line_started_ = false;
  }

  void start_line_if_needed() {
    if (line_started_) return;
    write_prefix(/*blank_line=*/false);
    line_started_ = true;
  }

  void write_prefix(bool blank_line) {
    // A blank line between a quote and the text around it belongs to the shallower of the two.
    int depth = blank_line ? blank_depth_ : quote_depth_;
    for (int i = 0; i < depth; ++i) out_ += (blank_line && i + 1 == depth) ? ">" : "> ";
  }

  std::string out_;
  int pending_breaks_ = 0;
  bool pending_space_ = false;
  bool line_has_text_ = false;  // visible text on the current line
  bool line_started_ = false;   // the current line's quote prefix is written
  int quote_depth_ = 0;
  int blank_depth_ = 0;  // the least quote depth since the last text
};

struct ListState {
  bool ordered = false;
  int next = 1;
};

class Walker {
 public:
  explicit Walker(Renderer& out) : out_(out) {}

  void children(const xmlNode* node, int depth, bool pre) {
    for (const xmlNode* child = node->children; child != nullptr; child = child->next) visit(child, depth + 1, pre);
  }

  void visit(const xmlNode* node, int depth, bool pre) {
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      if (node->content == nullptr) return;
      std::string_view text(reinterpret_cast<const char*>(node->content));
      if (pre)
        out_.preformatted(text);
      else
        out_.flowing(text);
      return;
    }
    if (node->type != XML_ELEMENT_NODE) return;  // comments, processing instructions
    if (name_in(node, {"script", "style", "head", "title", "template", "noscript", "svg", "object", "iframe"})) return;
    if (depth > kMaxDepth) {
      xmlChar* content = xmlNodeGetContent(node);
      if (content != nullptr) {
        out_.flowing(reinterpret_cast<const char*>(content));
        xmlFree(content);
      }
      return;
    }
    if (name_is(node, "br")) {
      out_.line_break();
      return;
    }
    if (name_is(node, "hr")) {
      out_.request_break(1);
      out_.flowing("----");
      out_.request_break(1);
      return;
    }
    if (name_is(node, "img")) {
      std::string alt = trimmed(attribute(node, "alt"));
      if (!alt.empty()) out_.flowing(" [" + alt + "] ");
      return;
    }
    if (name_in(node, {"ul", "ol", "dl", "menu"})) {
      lists_.push_back(ListState{name_is(node, "ol"), 1});
      out_.request_break(lists_.size() == 1 ? 2 : 1);
      children(node, depth, pre);
      lists_.pop_back();
      out_.request_break(lists_.empty() ? 2 : 1);
      return;
    }
    if (name_is(node, "li")) {
      out_.request_break(1);
      std::string bullet(2 * (lists_.empty() ? 0 : lists_.size() - 1), ' ');
      if (!lists_.empty() && lists_.back().ordered)
        bullet += std::to_string(lists_.back().next++) + ". ";
      else
        bullet += "\xE2\x80\xA2 ";  // U+2022 BULLET
      out_.marker(bullet);
      children(node, depth, pre);
      out_.request_break(1);
      return;
    }
    if (name_is(node, "blockquote")) {
      out_.request_break(1);
      out_.push_quote();
      children(node, depth, pre);
      out_.request_break(1);
      out_.pop_quote();
      return;
    }
    if (name_is(node, "a")) {
      std::size_t start = out_.size();
      children(node, depth, pre);
      std::string href = trimmed(attribute(node, "href"));
      std::string text = trimmed(out_.since(start));
      bool useful = !href.empty() && href[0] != '#' && href.rfind("javascript:", 0) != 0;
      std::string bare = href.rfind("mailto:", 0) == 0 ? href.substr(7) : href;
      if (useful && text != href && text != bare) out_.flowing(text.empty() ? href : " (" + href + ")");
      return;
    }
    bool paragraph = name_in(node, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "address", "figure",
                                    "fieldset", "form", "section", "article", "header", "footer", "aside", "nav"});
    bool line = name_in(node, {"div", "tr", "dt", "dd", "caption", "center", "main", "details", "summary", "body",
                               "html", "option", "legend", "figcaption"});
    bool cell = name_in(node, {"td", "th"});
    if (paragraph) out_.request_break(2);
    if (line) out_.request_break(1);
    if (cell) out_.flowing(" ");
    children(node, depth, pre || name_is(node, "pre"));
    if (paragraph) out_.request_break(2);
    if (line) out_.request_break(1);
    if (cell) out_.flowing(" ");
  }

 private:
  Renderer& out_;
  std::vector<ListState> lists_;
};

std::once_flag libxml_initialised;

}  // namespace

std::string html_to_text(std::string_view html) {
  std::call_once(libxml_initialised, [] { xmlInitParser(); });
  if (html.empty()) return {};
  int size = static_cast<int>(std::min<std::size_t>(html.size(), INT_MAX));
  // UTF-8 always (the mail parser converted the part's charset); a <meta charset> is ignored.
  int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                HTML_PARSE_NODEFDTD | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT | XML_PARSE_HUGE;
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(htmlReadMemory(html.data(), size, nullptr, "UTF-8", options),
                                                     &xmlFreeDoc);
  if (doc == nullptr) return {};
  Renderer renderer;
  Walker walker(renderer);
  for (const xmlNode* node = doc->children; node != nullptr; node = node->next) walker.visit(node, 0, false);
  return renderer.finish();
}

}  // namespace redress::inbound
