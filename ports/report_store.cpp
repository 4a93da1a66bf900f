#include "ports/report_store.h"

#include <boost/json.hpp>

namespace redress {

bool read_survey_data(std::string_view data_text, SurveyAnswer& answer) {
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(data_text, ec);
  if (ec || !parsed.is_object()) return false;
  const boost::json::object& data = parsed.get_object();
  auto score = [](const boost::json::value* v) { return v && v->is_int64() ? static_cast<int>(v->get_int64()) : 0; };
  // Where the event names the owner and team of when the client answered (since 2026-12-07).
  if (const boost::json::value* owner = data.if_contains("owner"); owner && owner->is_string())
    answer.owner_id = owner->get_string();
  if (const boost::json::value* team = data.if_contains("team"); team && team->is_string())
    answer.owner_team = team->get_string();
  answer.overall = score(data.if_contains("overall"));
  if (answer.overall == 0) answer.overall = score(data.if_contains("rating"));
  if (const boost::json::value* rater = data.if_contains("rater"); rater && rater->is_object()) {
    RaterScores scores;
    int* fields[] = {&scores.reliability, &scores.assurance, &scores.tangibles, &scores.empathy,
                     &scores.responsiveness};
    for (std::size_t i = 0; i < rater_dimensions().size(); ++i)
      *fields[i] = score(rater->get_object().if_contains(rater_dimensions()[i]));
    answer.rater = scores;
  }
  return true;
}

}  // namespace redress
