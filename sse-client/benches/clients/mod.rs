//! The three clients the benches compare, each reading one URL, behind one interface:
//! sse-client (reqwest 0.13), LaunchDarkly's eventsource-client 0.18 (its hyper transport)
//! and reqwest-eventsource 0.6 (reqwest 0.12, eventsource-stream).

use std::hint::black_box;

use futures_util::stream::{BoxStream, StreamExt};

/// One of the compared clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    SseClient,
    EventsourceClient,
    ReqwestEventsource,
}

impl Kind {
    pub(crate) const ALL: [Self; 3] = [
        Self::SseClient,
        Self::EventsourceClient,
        Self::ReqwestEventsource,
    ];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::SseClient => "sse-client",
            Self::EventsourceClient => "eventsource-client",
            Self::ReqwestEventsource => "reqwest-eventsource",
        }
    }

    #[allow(dead_code)] // Only the idle bench picks a kind by name.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// The HTTP clients, shared by every event source opened through them, as a service that
/// opens many streams would share them.
pub(crate) struct Clients {
    reqwest: reqwest::Client,
    reqwest_012: reqwest_012::Client,
    transport: launchdarkly_sdk_transport::HyperTransport,
}

impl Clients {
    pub(crate) fn new() -> Self {
        Self {
            reqwest: reqwest::Client::new(),
            reqwest_012: reqwest_012::Client::new(),
            transport: launchdarkly_sdk_transport::HyperTransport::builder()
                .build_http()
                .expect("a plain-HTTP transport"),
        }
    }

    /// Opens `url` with `kind` (no reconnect): a stream with one item per event received
    /// (the event itself goes to `black_box`), or an error message, which ends it.
    pub(crate) fn events(&self, kind: Kind, url: &str) -> BoxStream<'static, Result<(), String>> {
        match kind {
            Kind::SseClient => {
                use sse_client::{EventSource, Item};
                let request = self.reqwest.get(url).build().expect("a valid URL");
                EventSource::new(self.reqwest.clone(), request)
                    .filter_map(|item| async move {
                        match item {
                            Ok(Item::Event(event)) => received(event),
                            Ok(_) => None,
                            Err(err) => Some(Err(format!("sse-client: {err}"))),
                        }
                    })
                    .boxed()
            }
            Kind::EventsourceClient => {
                use es::Client as _;
                use eventsource_client as es;
                let client = es::ClientBuilder::for_url(url)
                    .expect("a valid URL")
                    .reconnect(es::ReconnectOptions::reconnect(false).build())
                    .build_with_transport(self.transport.clone());
                client
                    .stream()
                    .filter_map(|item| async move {
                        match item {
                            Ok(es::SSE::Event(event)) => received(event),
                            Ok(_) => None,
                            Err(err) => Some(Err(format!("eventsource-client: {err:?}"))),
                        }
                    })
                    .boxed()
            }
            Kind::ReqwestEventsource => {
                use reqwest_eventsource::{Event, EventSource};
                EventSource::new(self.reqwest_012.get(url))
                    .expect("a GET can be cloned")
                    .filter_map(|item| async move {
                        match item {
                            Ok(Event::Message(event)) => received(event),
                            Ok(Event::Open) => None,
                            Err(err) => Some(Err(format!("reqwest-eventsource: {err}"))),
                        }
                    })
                    .boxed()
            }
        }
    }
}

/// An event arrived: keep the compiler from skipping its decoding.
fn received<T>(event: T) -> Option<Result<(), String>> {
    black_box(event);
    Some(Ok(()))
}
