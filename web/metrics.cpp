#include "web/metrics.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace redress::web {

namespace {

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// A Prometheus sample value or bucket bound, with the precision a double holds.
std::string sample_value(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

// The sample lines of one histogram (`labels` without braces; "" for none).
void render_histogram(std::ostringstream& out, const std::string& name, const std::string& labels,
                      const HistogramCounts& h) {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.buckets[i];
    out << name << "_bucket{" << prefix << "le=\"" << sample_value(h.bounds[i]) << "\"} " << cumulative << "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out << name << "_bucket{" << prefix << "le=\"+Inf\"} " << h.count << "\n";
  out << name << "_sum" << braces << " " << sample_value(h.sum) << "\n";
  out << name << "_count" << braces << " " << h.count << "\n";
}

void render_store(std::ostringstream& out, const WriteStats& store) {
  auto histogram = [&](const char* name, const char* help, const HistogramCounts& h) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
    render_histogram(out, name, "", h);
  };
  auto single = [&](const char* name, const char* type, const char* help, std::int64_t value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << value << "\n";
  };
  histogram("redress_store_queue_wait_seconds",
            "Time a write waited in the store's queue before the writer began its group.", store.queue_wait);
  histogram("redress_store_group_seconds", "Time the writer spent on a group of writes, from BEGIN to COMMIT.",
            store.group);
  histogram("redress_store_sync_seconds", "Time each sync of the write-ahead log to disk took (durability full).",
            store.sync);
  histogram("redress_store_write_seconds",
            "Time from a write's submission to its answer, durable by then: queue, group, commit and sync.",
            store.write);
  single("redress_store_groups_total", "counter", "Groups of writes committed (or refused) together.", store.groups);
  single("redress_store_writes_total", "counter", "Writes the store has run (actions, creations, administration).",
         store.writes);
  single("redress_store_syncs_total", "counter", "Syncs of the write-ahead log to disk.", store.syncs);
  single("redress_store_checkpoints_total", "counter", "Checkpoints of the write-ahead log into the database.",
         store.checkpoints);
  single("redress_store_queued_writes", "gauge", "Writes waiting for the writer now.", store.queued);
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
    out << "# HELP redress_http_request_duration_seconds Time from a request's arrival to its response, by method and "
           "route.\n"
           "# TYPE redress_http_request_duration_seconds histogram\n";
    for (const auto& [key, h] : latency_) {
      HistogramCounts counts;
      counts.bounds = kBuckets;
      std::copy(h.buckets.begin(), h.buckets.end(), counts.buckets.begin());
      counts.count = h.count;
      counts.sum = h.sum;
      render_histogram(out, "redress_http_request_duration_seconds",
                       "method=\"" + escape(key.first) + "\",route=\"" + escape(key.second) + "\"", counts);
    }
  }
  out << "# HELP redress_http_connections Open HTTP connections.\n# TYPE redress_http_connections gauge\n"
      << "redress_http_connections " << connections_.load(std::memory_order_relaxed) << "\n";
  out << "# HELP redress_http_connections_refused_total Connections refused because the connection cap was reached.\n"
         "# TYPE redress_http_connections_refused_total counter\n"
      << "redress_http_connections_refused_total " << refused_.load(std::memory_order_relaxed) << "\n";
  out << "# HELP redress_http_connections_timed_out_total Connections closed because a request was not read, or a "
         "response not taken, within the read timeout.\n"
         "# TYPE redress_http_connections_timed_out_total counter\n"
      << "redress_http_connections_timed_out_total " << timed_out_.load(std::memory_order_relaxed) << "\n";
  out << "# HELP redress_cases Cases by lifecycle status.\n# TYPE redress_cases gauge\n";
  for (const auto& [status, count] : gauges.cases_by_status)
    out << "redress_cases{status=\"" << escape(status) << "\"} " << count << "\n";
  out << "# HELP redress_open_commitments Commitments that are open (not yet kept, broken, renegotiated or "
         "cancelled).\n"
         "# TYPE redress_open_commitments gauge\n"
      << "redress_open_commitments " << gauges.open_commitments << "\n";
  if (gauges.outbox_pending >= 0)
    out << "# HELP redress_outbox_pending Notifications waiting to be delivered.\n# TYPE redress_outbox_pending gauge\n"
        << "redress_outbox_pending " << gauges.outbox_pending << "\n";
  if (gauges.view_cache) {
    out << "# HELP redress_view_cache_hits_total Case views answered from a rendering whose stamp the store "
           "confirmed.\n"
           "# TYPE redress_view_cache_hits_total counter\n"
        << "redress_view_cache_hits_total " << gauges.view_cache_hits << "\n"
        << "# HELP redress_view_cache_misses_total Case views read and rendered (none kept, or the store's stamp "
           "differed).\n"
           "# TYPE redress_view_cache_misses_total counter\n"
        << "redress_view_cache_misses_total " << gauges.view_cache_misses << "\n"
        << "# HELP redress_view_cache_entries Case view renderings kept.\n# TYPE redress_view_cache_entries gauge\n"
        << "redress_view_cache_entries " << gauges.view_cache_entries << "\n"
        << "# HELP redress_view_cache_bytes Bytes the kept renderings take.\n# TYPE redress_view_cache_bytes gauge\n"
        << "redress_view_cache_bytes " << gauges.view_cache_bytes << "\n";
  }
  if (gauges.store) render_store(out, *gauges.store);
  return out.str();
}

}  // namespace redress::web
