-- wrk reporter: prints one machine-readable line after wrk's own summary.
-- RESULT <requests> <duration_us> <p50_us> <p90_us> <p99_us> <max_us> <socket_errors> <non_2xx_3xx>
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
