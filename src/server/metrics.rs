//! Prometheus metrics, served as text at `/metrics`.
//!
//! Each server owns its own recorder rather than installing a process-wide one, so that several
//! servers in one process (tests, the library entry point) keep separate counts. Requests record
//! through [`metrics::with_local_recorder`].
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `belfry_requests_total` | counter | `operation`, `status` |
//! | `belfry_request_duration_seconds` | histogram | `operation` |
//! | `belfry_throttled_total` | counter | |
//! | `belfry_throttle_delayed_total` | counter | |
//! | `belfry_faults_injected_total` | counter | `operation`, `effect` |
//! | `belfry_store_connections` | gauge | `state` (`idle`, `in_use`) |
//! | `belfry_store_max_connections` | gauge | |
//! | `belfry_bot_events_total` | counter | `outcome` (`delivered`, `failed`, `not_sent`) |

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use metrics::{Counter, Histogram, counter, gauge, histogram, with_local_recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use std::sync::atomic::Ordering;

use crate::events::EventStats;
use crate::store::PoolStats;

/// Upper bounds (seconds) of the latency histogram's buckets.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_25, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The metrics of one server.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// The request counter and latency histogram of each (operation, status), registered
    /// once: looking them up by their labels on every request cost more than recording.
    requests: RwLock<HashMap<(&'static str, u16), RequestHandles>>,
}

/// The request counter and the latency histogram of one (operation, status).
type RequestHandles = (Counter, Histogram);

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("belfry_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("non-empty buckets")
            .build_recorder();
        let handle = recorder.handle();
        Metrics {
            recorder,
            handle,
            requests: RwLock::new(HashMap::new()),
        }
    }

    /// One request answered: `operation` is `-` when the request never resolved to one.
    pub fn request(&self, operation: &'static str, status: u16, latency: Duration) {
        let known = self
            .requests
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(operation, status))
            .cloned();
        let (count, duration) = known.unwrap_or_else(|| {
            let handles = with_local_recorder(&self.recorder, || {
                (
                    counter!("belfry_requests_total", "operation" => operation, "status" => status.to_string()),
                    histogram!("belfry_request_duration_seconds", "operation" => operation),
                )
            });
            self.requests
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert((operation, status), handles.clone());
            handles
        });
        count.increment(1);
        duration.record(latency.as_secs_f64());
    }

    pub fn throttled(&self) {
        with_local_recorder(&self.recorder, || {
            counter!("belfry_throttled_total").increment(1);
        });
    }

    /// A request over the rate that waited for its token instead of being refused.
    pub fn throttle_delayed(&self) {
        with_local_recorder(&self.recorder, || {
            counter!("belfry_throttle_delayed_total").increment(1);
        });
    }

    /// A fault rule fired: `effect` is the error's name, or `latency`.
    pub fn fault(&self, operation: &'static str, effect: &'static str) {
        with_local_recorder(&self.recorder, || {
            counter!("belfry_faults_injected_total", "operation" => operation, "effect" => effect)
                .increment(1);
        });
    }

    /// The Prometheus text exposition, with the pool's usage and the bot events' counts read
    /// now.
    pub fn render(&self, pool: PoolStats, events: &EventStats) -> String {
        with_local_recorder(&self.recorder, || {
            for (outcome, count) in [
                ("delivered", &events.delivered),
                ("failed", &events.failed),
                ("not_sent", &events.not_sent),
            ] {
                counter!("belfry_bot_events_total", "outcome" => outcome)
                    .absolute(count.load(Ordering::Relaxed));
            }
            gauge!("belfry_store_connections", "state" => "idle").set(pool.idle as f64);
            gauge!("belfry_store_connections", "state" => "in_use")
                .set(pool.size.saturating_sub(pool.idle) as f64);
            gauge!("belfry_store_max_connections").set(pool.max as f64);
        });
        self.handle.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::new();
        m.request("ListUsers", 200, Duration::from_millis(3));
        m.request("ListUsers", 200, Duration::from_millis(4));
        m.request("GetUser", 404, Duration::from_millis(1));
        m.throttled();
        let events = EventStats::default();
        events.failed.fetch_add(2, Ordering::Relaxed);
        let text = m.render(
            PoolStats {
                size: 3,
                idle: 1,
                max: 8,
            },
            &events,
        );
        assert!(
            text.contains(r#"belfry_bot_events_total{outcome="failed"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"belfry_requests_total{operation="ListUsers",status="200"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"belfry_requests_total{operation="GetUser",status="404"} 1"#));
        assert!(text.contains(
            r#"belfry_request_duration_seconds_bucket{operation="ListUsers",le="0.005"} 2"#
        ));
        assert!(text.contains(r#"belfry_request_duration_seconds_count{operation="ListUsers"} 2"#));
        assert!(text.contains("belfry_throttled_total 1"));
        assert!(text.contains(r#"belfry_store_connections{state="in_use"} 2"#));
        assert!(text.contains("belfry_store_max_connections 8"));
    }

    #[test]
    fn two_servers_count_apart() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.request("ListUsers", 200, Duration::from_millis(1));
        let stats = PoolStats {
            size: 0,
            idle: 0,
            max: 1,
        };
        let events = EventStats::default();
        assert!(a.render(stats, &events).contains("belfry_requests_total"));
        assert!(!b.render(stats, &events).contains("belfry_requests_total"));
    }
}
