use sse_core::SseConfig;
use tower_layer::Layer;

use super::{SseService, SseStats};

/// [`Layer`] that applies [`SseService`]: SSE headers, no compression, heartbeats at event
/// boundaries, a stream limit and `Last-Event-ID` parsing.
///
/// The layer is an [`SseConfig`], the configuration every framework's SSE middleware shares:
/// build one with its setters and turn it into a layer with [`From`]. Clones share one
/// [`SseStats`] handle, and with it the stream limit's count; [`SseLayer::new`] starts a
/// fresh count.
///
/// ```
/// use std::time::Duration;
/// use sse_core::{Heartbeat, OverLimit, SseConfig};
/// use sse_tower::SseLayer;
///
/// let config = SseConfig::new()
///     .heartbeat(Heartbeat::every(Duration::from_secs(20)))
///     .max_streams(10_000)
///     .over_limit(OverLimit::RetryLater);
/// let layer = SseLayer::from(config.clone()); // the same policy serves actix-web too
/// assert_eq!(layer.stats().live(), config.stats().live());
/// ```
///
/// See the [module docs](super) for what it does and where to place it.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct SseLayer {
    config: SseConfig,
}

impl SseLayer {
    /// The defaults of [`SseConfig::new`]: heartbeats after 15 s idle, no stream limit,
    /// `Content-Encoding: identity` on SSE responses and `Accept-Encoding` removed from SSE
    /// requests.
    pub fn new() -> Self {
        Self::default()
    }

    /// The configuration this layer applies.
    pub fn config(&self) -> &SseConfig {
        &self.config
    }

    /// A handle on the stream counters, shared by every clone of this layer.
    #[must_use]
    pub fn stats(&self) -> SseStats {
        self.config.stats()
    }
}

impl From<SseConfig> for SseLayer {
    fn from(config: SseConfig) -> Self {
        Self { config }
    }
}

impl<S> Layer<S> for SseLayer {
    type Service = SseService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SseService::new(inner, self.config.clone())
    }
}
