// The pool in Prometheus' text exposition format (version 0.0.4), for GET /metrics and
// `passenger-status --show=metrics`.
#pragma once

#include "admin/pool_snapshot.hpp"

#include <string>
#include <string_view>

namespace passenger::admin {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string prometheus_metrics(const PoolSnapshot& pool);

// A label value with \, " and newline escaped as the format requires.
std::string escape_label_value(std::string_view value);

}  // namespace passenger::admin
