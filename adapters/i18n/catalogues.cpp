#include "adapters/i18n/catalogues.h"

#include <boost/locale/generator.hpp>
#include <boost/locale/message.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "adapters/templating/mustache.h"

namespace redress::i18n {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kOpen = "{{#t}}";
constexpr std::string_view kClose = "{{/t}}";

// "es_MX.UTF-8@euro", "ES-mx" -> "es-mx": how tags are compared.
std::string normal_tag(std::string_view tag) {
  std::string out(tag.substr(0, std::min(tag.find('.'), tag.find('@'))));
  for (char& c : out) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  out.erase(0, out.find_first_not_of(" \t"));
  return out;
}

// The {{tags}} of a Mustache text, each as sigil and trimmed name ("#owner", "client.name",
// "{client.name}" for a triple).
std::multiset<std::string> tags_of(std::string_view text) {
  std::multiset<std::string> tags;
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    bool triple = text.substr(pos, 3) == "{{{";
    std::size_t start = pos + (triple ? 3 : 2);
    std::size_t close = text.find(triple ? "}}}" : "}}", start);
    if (close == std::string_view::npos) break;
    std::string inside(text.substr(start, close - start));
    inside.erase(0, inside.find_first_not_of(" \t"));
    std::string sigil;
    if (triple)
      sigil = "{";
    else if (!inside.empty() && std::string_view("#^/!>&=").find(inside.front()) != std::string_view::npos)
      sigil = std::string(1, inside.front()), inside.erase(0, 1);
    inside.erase(0, inside.find_first_not_of(" \t"));
    inside.erase(inside.find_last_not_of(" \t") + 1);
    tags.insert(sigil + inside);
    pos = close + (triple ? 3 : 2);
  }
  return tags;
}

std::size_t line_at(std::string_view text, std::size_t offset) {
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 80)) out += c == '\n' ? ' ' : c;
  if (text.size() > 80) out += "...";
  return out + "\"";
}

}  // namespace

Language::Language() : tag_("en"), name_("English") {}

Language::Language(std::string tag, std::locale locale)
    : tag_(std::move(tag)), locale_(std::move(locale)), has_catalogue_(true) {
  // TRANSLATORS: the language's own name, as the switcher on the pages shows it ("Español").
  name_ = translate_in("language", translatable_in("language", "English"));
  if (name_ == "English") name_ = tag_;
}

std::string Language::translate(std::string_view english) const {
  if (!has_catalogue_) return std::string(english);
  const auto& facet = std::use_facet<boost::locale::message_format<char>>(locale_);
  const std::string id(english);
  const char* found = facet.get(facet.domain(Catalogues::kDomain), nullptr, id.c_str());
  return found ? std::string(found) : id;
}

std::string Language::translate_in(std::string_view context, std::string_view english) const {
  if (!has_catalogue_) return std::string(english);
  const auto& facet = std::use_facet<boost::locale::message_format<char>>(locale_);
  const std::string id(english), where(context);
  const char* found = facet.get(facet.domain(Catalogues::kDomain), where.c_str(), id.c_str());
  return found ? std::string(found) : id;
}

Catalogues::Catalogues() { languages_.push_back(std::make_shared<const Language>()); }

const Catalogues& Catalogues::english_only() {
  static const Catalogues kEnglish;
  return kEnglish;
}

fs::path Catalogues::built_dir() { return fs::path(REDRESS_LOCALE_DIR); }

Result<Catalogues> Catalogues::load(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error::not_found("translations: " + dir.string() + " is not a folder");
  std::vector<std::string> tags;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory()) continue;
    if (fs::is_regular_file(entry.path() / "LC_MESSAGES" / (std::string(kDomain) + ".mo"), ec))
      tags.push_back(entry.path().filename().string());
  }
  if (ec) return Error::invalid("translations: cannot list " + dir.string() + ": " + ec.message());
  std::sort(tags.begin(), tags.end());
  Catalogues out;
  for (const auto& tag : tags) {
    if (normal_tag(tag) == "en")
      return Error::invalid("translations in " + dir.string() + ": " + tag +
                            " is English, the language the templates are written in; it takes no catalogue");
    try {
      boost::locale::generator generator;
      generator.categories(boost::locale::category_t::message | boost::locale::category_t::information);
      generator.add_messages_path(dir.string());
      generator.add_messages_domain(kDomain);
      std::string locale_name = tag;
      std::replace(locale_name.begin(), locale_name.end(), '-', '_');
      auto language = std::make_shared<const Language>(tag, generator(locale_name + ".UTF-8"));
      // Every catalogue names its language; one that does not was not read (or not written for us).
      if (language->name() == tag)
        return Error::invalid("translations: " + (dir / tag / "LC_MESSAGES" / "redress.mo").string() +
                              " does not name its language: translate msgctxt \"language\" msgid \"English\" with "
                              "the language's own name (docs/languages.md)");
      out.languages_.push_back(std::move(language));
    } catch (const std::exception& e) {
      return Error::invalid("translations: the catalogue " + tag + " in " + dir.string() + " cannot be loaded: " +
                            e.what());
    }
  }
  return out;
}

const Language* Catalogues::exact(std::string_view tag) const {
  const std::string wanted = normal_tag(tag);
  for (const auto& language : languages_)
    if (normal_tag(language->tag()) == wanted) return language.get();
  return nullptr;
}

const Language* Catalogues::match(std::string_view tag) const {
  const std::string wanted = normal_tag(tag);
  if (wanted.empty()) return nullptr;
  if (const Language* found = exact(wanted)) return found;
  return exact(wanted.substr(0, wanted.find('-')));
}

const Language& Catalogues::for_tag(std::string_view tag) const {
  const Language* found = match(tag);
  return found ? *found : english();
}

const Language* Catalogues::negotiate(std::string_view header) const {
  struct Range {
    std::string tag;
    double q = 1.0;
  };
  std::vector<Range> ranges;
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    Range range;
    std::size_t semicolon = item.find(';');
    range.tag = normal_tag(item.substr(0, semicolon));
    if (semicolon != std::string_view::npos) {
      std::string_view parameters = item.substr(semicolon + 1);
      auto q = parameters.find("q=");
      if (q != std::string_view::npos) {
        std::string value(parameters.substr(q + 2));
        value.erase(value.find_last_not_of(" \t") + 1);
        try {
          std::size_t used = 0;
          range.q = std::stod(value, &used);
          if (used != value.size()) range.q = 0;
        } catch (const std::exception&) {
          range.q = 0;
        }
      }
    }
    if (!range.tag.empty() && range.tag != "*" && range.q > 0) ranges.push_back(std::move(range));
  }
  std::stable_sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.q > b.q; });
  for (const auto& range : ranges)
    if (const Language* found = match(range.tag)) return found;
  return nullptr;
}

std::vector<std::string> marked_texts(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = text.find(kOpen, pos)) != std::string_view::npos) {
    std::size_t start = pos + kOpen.size();
    std::size_t end = text.find(kClose, start);
    if (end == std::string_view::npos) break;
    out.emplace_back(text.substr(start, end - start));
    pos = end + kClose.size();
  }
  return out;
}

Result<std::string> translate_template(std::string_view text, const Language& language, const std::string& file) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  std::size_t pos = 0;
  for (;;) {
    std::size_t open = text.find(kOpen, pos);
    std::size_t stray = text.find(kClose, pos);
    if (stray < open)
      return Error::invalid(file + ":" + std::to_string(line_at(text, stray)) + ": {{/t}} without its {{#t}}");
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      return out;
    }
    out.append(text.substr(pos, open - pos));
    std::size_t start = open + kOpen.size();
    std::size_t close = text.find(kClose, start);
    const std::string where = file + ":" + std::to_string(line_at(text, open));
    if (close == std::string_view::npos) return Error::invalid(where + ": {{#t}} is not closed by {{/t}}");
    std::string_view english = text.substr(start, close - start);
    if (english.find(kOpen) != std::string_view::npos)
      return Error::invalid(where + ": a text marked for translation holds another {{#t}}");
    const auto english_tags = tags_of(english);
    for (const auto& tag : english_tags)
      if (!tag.empty() && (tag.front() == '>' || tag.front() == '='))
        return Error::invalid(where + ": a text marked for translation cannot hold a partial or change delimiters (" +
                              quoted(english) + ")");
    if (language.is_english()) {
      out.append(english);
    } else {
      std::string translated = language.translate(english);
      // What the translator wrote is checked as if it were a template of its own.
      if (auto s = templating::check_template(file, 1, translated, {}); !s)
        return Error::invalid(where + ": the " + language.tag() + " translation of " + quoted(english) +
                              " is not valid Mustache: " + s.error().detail);
      for (const auto& tag : tags_of(translated))
        if (!english_tags.count(tag))
          return Error::invalid(where + ": the " + language.tag() + " translation of " + quoted(english) + " uses " +
                                (!tag.empty() && tag.front() == '{' ? "{{" + tag + "}}}" : "{{" + tag + "}}") +
                                ", which the English text does not; a translation may use only the text's own {{tags}}");
      out.append(translated);
    }
    pos = close + kClose.size();
  }
}

}  // namespace redress::i18n
