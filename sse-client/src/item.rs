//! What an [`EventSource`](crate::EventSource) yields: [`Item`], [`Opened`] and [`Event`].

use std::time::Duration;

use reqwest::{header::HeaderMap, StatusCode};

/// An item of an [`EventSource`](crate::EventSource) that is not an error: a connection
/// opened, or an event arrived.
///
/// ```no_run
/// # async fn run(mut events: sse_client::EventSource) {
/// use futures_util::StreamExt;
/// use sse_client::Item;
///
/// while let Some(item) = events.next().await {
///     match item {
///         Ok(Item::Open(opened)) => println!("connected: {}", opened.status),
///         Ok(Item::Event(event)) => println!("{}: {}", event.event, event.data),
///         Ok(_) => {}
///         Err(err) => eprintln!("{err}"),
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Item {
    /// A connection was accepted (`200 OK`, `text/event-stream`); events follow.
    Open(Opened),
    /// An event was dispatched.
    Event(Event),
}

/// A connection the server accepted: the response's status and headers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Opened {
    /// The status, `200 OK`.
    pub status: StatusCode,
    /// The response's headers.
    pub headers: HeaderMap,
}

/// An event the server dispatched, as a browser's
/// [`MessageEvent`](https://developer.mozilla.org/en-US/docs/Web/API/MessageEvent) sees it.
///
/// ```
/// # fn show(event: sse_client::Event) {
/// println!("{} #{}: {}", event.event, event.id, event.data);
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// The last event ID when the event was dispatched: this event's
    /// [`id`](https://developer.mozilla.org/en-US/docs/Web/API/Server-sent_events/Using_server-sent_events#id)
    /// field, or the last one before it (also from an earlier connection), or `""`. It is
    /// what the event source sends as `Last-Event-ID` when it reconnects.
    pub id: String,
    /// The [event type](https://developer.mozilla.org/en-US/docs/Web/API/Server-sent_events/Using_server-sent_events#event):
    /// the block's `event` field, or `"message"`.
    pub event: String,
    /// The block's `data` lines joined with LF.
    pub data: String,
    /// The reconnection time a [`retry`](https://developer.mozilla.org/en-US/docs/Web/API/Server-sent_events/Using_server-sent_events#retry)
    /// field set since the previous event of this connection, if any. The event source
    /// has already applied it.
    pub retry: Option<Duration>,
}

#[cfg(feature = "json")]
impl Event {
    /// Decodes the event's data as JSON.
    ///
    /// # Errors
    ///
    /// If the data is not JSON of type `T`.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Price {
    ///     symbol: String,
    ///     cents: u64,
    /// }
    ///
    /// # fn run(event: sse_client::Event) -> Result<(), serde_json::Error> {
    /// let price: Price = event.json()?;
    /// println!("{} at {}", price.symbol, price.cents);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.data)
    }
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Price {
        symbol: String,
        cents: u64,
    }

    fn event(data: &str) -> Event {
        Event {
            data: data.into(),
            ..Event::default()
        }
    }

    #[test]
    fn json_decodes_the_data_or_says_why_not() {
        let price: Price = event(r#"{"symbol": "ACME", "cents": 1250}"#)
            .json()
            .unwrap();
        assert_eq!(
            price,
            Price {
                symbol: "ACME".into(),
                cents: 1250
            }
        );
        assert!(event(r#"{"symbol": "ACME"}"#).json::<Price>().is_err());
        assert!(event("not json").json::<Price>().is_err());
    }
}
