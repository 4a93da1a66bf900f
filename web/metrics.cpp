#include "web/metrics.h"

#include <cstdio>
#include <sstream>

namespace redress::web {

namespace {

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// A Prometheus sample value or bucket bound, with the precision a double holds.
std::string sample_value(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

}  // namespace

void Metrics::observe(const std::string& method, const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{method, route, status}];
  auto& h = latency_[{method, route}];
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  if (i < kBuckets.size()) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::render(const Gauges& gauges) const {
  std::ostringstream out;
  {
    std::lock_guard lock(mutex_);
    out << "# HELP redress_http_requests_total HTTP requests answered, by method, route and status.\n"
           "# TYPE redress_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
      const auto& [method, route, status] = key;
      out << "redress_http_requests_total{method=\"" << escape(method) << "\",route=\"" << escape(route)
          << "\",status=\"" << status << "\"} " << count << "\n";
    }
    out << "# HELP redress_http_request_duration_seconds Time from a request's arrival to its response, by method and route.\n"
           "# TYPE redress_http_request_duration_seconds histogram\n";
    for (const auto& [key, h] : latency_) {
      std::string labels = "method=\"" + escape(key.first) + "\",route=\"" + escape(key.second) + "\"";
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.buckets[i];
        out << "redress_http_request_duration_seconds_bucket{" << labels << ",le=\"" << sample_value(kBuckets[i]) << "\"} "
            << cumulative << "\n";
      }
      out << "redress_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count << "\n";
      out << "redress_http_request_duration_seconds_sum{" << labels << "} " << sample_value(h.sum) << "\n";
      out << "redress_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
    }
  }
  out << "# HELP redress_http_connections Open HTTP connections.\n# TYPE redress_http_connections gauge\n"
      << "redress_http_connections " << connections_.load(std::memory_order_relaxed) << "\n";
  out << "# HELP redress_http_connections_refused_total Connections refused because the connection cap was reached.\n"
         "# TYPE redress_http_connections_refused_total counter\n"
      << "redress_http_connections_refused_total " << refused_.load(std::memory_order_relaxed) << "\n";
  out << "# HELP redress_http_connections_timed_out_total Connections closed because a request was not read, or a response not taken, within the read timeout.\n"
         "# TYPE redress_http_connections_timed_out_total counter\n"
      << "redress_http_connections_timed_out_total " << timed_out_.load(std::memory_order_relaxed) << "\n";
  out << "# HELP redress_cases Cases by lifecycle status.\n# TYPE redress_cases gauge\n";
  for (const auto& [status, count] : gauges.cases_by_status)
    out << "redress_cases{status=\"" << escape(status) << "\"} " << count << "\n";
  out << "# HELP redress_open_commitments Commitments that are open (not yet kept, broken, renegotiated or cancelled).\n"
         "# TYPE redress_open_commitments gauge\n"
      << "redress_open_commitments " << gauges.open_commitments << "\n";
  if (gauges.outbox_pending >= 0)
    out << "# HELP redress_outbox_pending Notifications waiting to be delivered.\n# TYPE redress_outbox_pending gauge\n"
        << "redress_outbox_pending " << gauges.outbox_pending << "\n";
  if (gauges.view_cache) {
    out << "# HELP redress_view_cache_hits_total Case views answered from a rendering whose stamp the store confirmed.\n"
           "# TYPE redress_view_cache_hits_total counter\n"
        << "redress_view_cache_hits_total " << gauges.view_cache_hits << "\n"
        << "# HELP redress_view_cache_misses_total Case views read and rendered (none kept, or the store's stamp differed).\n"
           "# TYPE redress_view_cache_misses_total counter\n"
        << "redress_view_cache_misses_total " << gauges.view_cache_misses << "\n"
        << "# HELP redress_view_cache_entries Case view renderings kept.\n# TYPE redress_view_cache_entries gauge\n"
        << "redress_view_cache_entries " << gauges.view_cache_entries << "\n"
        << "# HELP redress_view_cache_bytes Bytes the kept renderings take.\n# TYPE redress_view_cache_bytes gauge\n"
        << "redress_view_cache_bytes " << gauges.view_cache_bytes << "\n";
  }
  return out.str();
}

}  // namespace redress::web
