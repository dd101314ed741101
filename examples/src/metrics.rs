//! `GET /metrics`: the SSE middleware's and the hub's counters in the Prometheus text
//! format, written by `prometheus-client` at each scrape from the counters the libraries
//! keep anyway ([`SseStats`], [`HubStats`](sse_core::hub::HubStats)): nothing is counted
//! twice and nothing is added to the path of an event.
//!
//! # Metrics
//!
//! | name | type | what |
//! |---|---|---|
//! | `sse_streams_open` | gauge | SSE response bodies alive now (follows the body's drop) |
//! | `sse_streams_opened_total` | counter | SSE streams opened |
//! | `sse_streams_closed_total{reason}` | counter | streams closed, by `reason`: `client_gone`, `ended` (the handler's stream ended), `error`, `shutdown` (the server's shutdown signal), `evicted_slow` (the hub ended a subscriber that fell behind) |
//! | `sse_streams_rejected_total` | counter | streams turned away by the stream limit |
//! | `sse_heartbeats_total` | counter | heartbeat comments injected |
//! | `sse_written_bytes_total` | counter | bytes of SSE bodies handed to the server to write |
//! | `sse_subscribers` | gauge | hub subscriptions alive now |
//! | `sse_events_published_total` | counter | events published to the hub |
//! | `sse_events_delivered_total` | counter | events handed to subscribers (once per subscriber), live or replayed |
//! | `sse_events_replayed_total` | counter | of those, events replayed after a Last-Event-ID |
//! | `sse_replays_total` | counter | reconnections resumed from their Last-Event-ID |
//! | `sse_gaps_total` | counter | reconnections told `sse-gap` (their Last-Event-ID was no longer held) |
//! | `sse_ring_events` | gauge | events held for replay |
//! | `sse_ring_bytes` | gauge | encoded bytes held for replay |
//!
//! No label takes a value a client chooses (no topic names): `reason` is the only label,
//! with the fixed set of values of [`CloseReason`].
//!
//! # Example
//!
//! ```
//! use sse_core::SseStats;
//! use sse_examples::{App, Config, ReplyBody};
//!
//! let app = App::new(Config::default());
//! let reply = app.metrics(&SseStats::new());
//! let ReplyBody::Full { content_type, bytes } = reply.body else { unreachable!() };
//! assert!(content_type.starts_with("application/openmetrics-text"));
//! let text = std::str::from_utf8(&bytes).unwrap();
//! assert!(text.contains("\nsse_streams_closed_total{reason=\"client_gone\"} 0\n"));
//! assert!(text.ends_with("# EOF\n"));
//! ```

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use sse_core::hub::Hub;
use sse_core::{CloseReason, SseStats};

/// The content type of the text `prometheus-client` writes (OpenMetrics text 1.0, which
/// Prometheus scrapes natively).
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The metrics text of `streams` (the SSE middleware's counters) and `hub`.
pub(crate) fn encode(streams: &SseStats, hub: &Hub) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SseCollector {
        streams: streams.clone(),
        hub: hub.clone(),
    }));
    let mut text = String::new();
    // Writing into a `String` cannot fail; an error here would be a bug of the encoder.
    if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &registry) {
        tracing::error!(error = %err, "encoding the metrics failed");
    }
    text
}

/// Reads the counters at each scrape.
#[derive(Debug)]
struct SseCollector {
    streams: SseStats,
    hub: Hub,
}

impl Collector for SseCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let streams = &self.streams;
        let live = i64::try_from(streams.live()).unwrap_or(i64::MAX);
        gauge(
            &mut encoder,
            "sse_streams_open",
            "SSE response bodies alive now",
            None,
            live,
        )?;
        counter(
            &mut encoder,
            "sse_streams_opened",
            "SSE streams opened",
            None,
            streams.opened(),
        )?;
        let closed = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "sse_streams_closed",
            "SSE streams closed, by reason",
            None,
            closed.metric_type(),
        )?;
        for reason in CloseReason::ALL {
            let labels = [("reason", reason.as_str())];
            ConstCounter::new(streams.closed_by(reason)).encode(family.encode_family(&labels)?)?;
        }
        counter(
            &mut encoder,
            "sse_streams_rejected",
            "SSE streams turned away by the stream limit",
            None,
            streams.rejected(),
        )?;
        counter(
            &mut encoder,
            "sse_heartbeats",
            "Heartbeat comments injected into idle SSE streams",
            None,
            streams.heartbeats(),
        )?;
        counter(
            &mut encoder,
            "sse_written",
            "Bytes of SSE response bodies handed to the server to write",
            Some(&Unit::Bytes),
            streams.written_bytes(),
        )?;

        let hub = self.hub.stats();
        let subscribers = i64::try_from(hub.active_subscribers).unwrap_or(i64::MAX);
        gauge(
            &mut encoder,
            "sse_subscribers",
            "Hub subscriptions alive now",
            None,
            subscribers,
        )?;
        counter(
            &mut encoder,
            "sse_events_published",
            "Events published to the hub",
            None,
            hub.published,
        )?;
        counter(
            &mut encoder,
            "sse_events_delivered",
            "Events handed to subscribers (once per subscriber), live or replayed",
            None,
            hub.delivered,
        )?;
        counter(
            &mut encoder,
            "sse_events_replayed",
            "Events replayed to subscribers that came with a Last-Event-ID",
            None,
            hub.replayed,
        )?;
        counter(
            &mut encoder,
            "sse_replays",
            "Reconnections resumed right after their Last-Event-ID",
            None,
            hub.resumed,
        )?;
        counter(
            &mut encoder,
            "sse_gaps",
            "Reconnections told sse-gap: their Last-Event-ID was no longer held",
            None,
            hub.gaps,
        )?;
        let ring_len = i64::try_from(hub.ring_len).unwrap_or(i64::MAX);
        gauge(
            &mut encoder,
            "sse_ring_events",
            "Events held for replay",
            None,
            ring_len,
        )?;
        let ring_bytes = i64::try_from(hub.ring_bytes).unwrap_or(i64::MAX);
        gauge(
            &mut encoder,
            "sse_ring",
            "Encoded bytes held for replay",
            Some(&Unit::Bytes),
            ring_bytes,
        )
    }
}

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, unit, metric.metric_type())?)
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, unit, metric.metric_type())?)
}
