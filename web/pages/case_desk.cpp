#include "web/pages/case_desk.h"

#include <boost/json.hpp>

namespace redress::web {

namespace json = boost::json;

void put_case_desk(PagesContext& pages, const Case& c, const SignedIn&, json::object& data) {
  json::array tags;
  for (const auto& tag : c.tags) tags.push_back(json::object{{"tag", tag}});
  data["has_tags"] = !tags.empty();
  data["tags"] = std::move(tags);
  if (!c.merged_into.empty()) {
    data["merged_into"] = c.merged_into;
    data["merged_into_url"] = "/staff/cases/" + c.merged_into;
  }
  // Each linked case as it is now: its status and subject, and whether the link is a merge.
  json::array linked;
  for (const auto& reference : c.links) {
    // "linked", not "reference": inside the list the template still reads the case's own reference.
    json::object o{{"linked", reference}, {"url", "/staff/cases/" + reference}};
    bool merge = reference == c.merged_into;
    if (auto other = pages.api.reads.load_case(reference)) {
      o["status"] = to_string(other->record.status);
      o["subject"] = other->record.subject;
      if (other->record.merged_into == c.reference) {
        o["merged_here"] = true;
        merge = true;
      }
    }
    o["merged_there"] = reference == c.merged_into;
    o["unlinkable"] = !merge;
    linked.push_back(std::move(o));
  }
  data["has_linked"] = !linked.empty();
  data["linked_cases"] = std::move(linked);
}

}  // namespace redress::web
