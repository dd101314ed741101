//! The options every framework's SSE responder offers, written once: sse-axum's `Sse`,
//! sse-warp's `Sse` and sse-actix's `Sse` are each a newtype over [`SseStream`] (the orphan
//! rule asks for one type per framework trait), and this macro gives each the same setters,
//! with the same docs, in the spelling of its framework, and the same `Debug` impl.
//!
//! [`SseStream`]: crate::SseStream

/// Generates a responder's option setters and its `Debug` impl. The responder is a struct
/// `$responder<S>` with a field `stream: SseStream<S>`; each setter is named by the caller
/// (axum and warp use plain names, actix-web-lab's style is `with_*`). Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __responder_options {
    (
        $responder:ident {
            heartbeat: $heartbeat:ident,
            retry: $retry:ident,
            shutdown: $shutdown:ident,
            max_chunk: $max_chunk:ident $(,)?
        }
    ) => {
        impl<S> $responder<S>
        where
            S: $crate::__private::Stream,
            S::Item: $crate::TryEvent,
        {
            /// Writes `heartbeat` (the comment `:\n` by default, see
            /// [`Heartbeat`](sse_core::Heartbeat)) whenever the stream has been idle for its
            /// interval, so that proxies and clients don't time the connection out. The
            /// heartbeat timer is shared by every stream of the runtime with that interval.
            pub fn $heartbeat(mut self, heartbeat: $crate::Heartbeat) -> Self {
                self.stream = self.stream.heartbeat(heartbeat);
                self
            }

            /// Writes [`retry:`] first, which sets how long the client waits before it
            /// reconnects.
            ///
            /// [`retry:`]: https://developer.mozilla.org/en-US/docs/Web/API/Server-sent_events/Using_server-sent_events#retry
            pub fn $retry(mut self, retry: ::std::time::Duration) -> Self {
                self.stream = self.stream.retry(retry);
                self
            }

            /// Ends the response when `token` is cancelled, after writing `last_event` if
            /// given (for example [`Event::retry_jittered`](sse_core::Event::retry_jittered),
            /// so that clients don't all come back at once).
            ///
            /// Cancel the token when the server's graceful shutdown starts: open event
            /// streams otherwise keep it waiting, forever or until its timeout.
            pub fn $shutdown(
                mut self,
                token: $crate::CancellationToken,
                last_event: ::core::option::Option<$crate::Event>,
            ) -> Self {
                self.stream = self.stream.shutdown(token, last_event);
                self
            }

            /// Caps the size of a chunk that joins several ready events (64 KiB by default).
            /// A single larger event is still written whole, as one chunk.
            pub fn $max_chunk(mut self, max_chunk: usize) -> Self {
                self.stream = self.stream.max_chunk(max_chunk);
                self
            }
        }

        impl<S> ::core::fmt::Debug for $responder<S>
        where
            S: $crate::__private::Stream,
            S::Item: $crate::TryEvent,
        {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                self.stream.fmt_options(::core::stringify!($responder), f)
            }
        }
    };
}
