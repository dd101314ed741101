//! Error types of the encoder.

use std::fmt;

/// Why an [`Event`](crate::Event) could not be built: a field that would let its value
/// escape into other fields or events.
///
/// ```
/// use sse_core::{Event, EventError};
///
/// let err = Event::builder().event("a\rdata: evil").data("x").build().unwrap_err();
/// assert_eq!(err, EventError::EventLineBreak);
/// assert_eq!(err.to_string(), "event name contains a line break (CR or LF)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventError {
    /// The `event` name contains CR or LF.
    EventLineBreak,
    /// The `id` contains CR or LF.
    IdLineBreak,
    /// The `id` contains NUL, which makes clients ignore the whole `id` line and resume from
    /// the previous id.
    IdNul,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EventLineBreak => "event name contains a line break (CR or LF)",
            Self::IdLineBreak => "event id contains a line break (CR or LF)",
            Self::IdNul => "event id contains a NUL character",
        })
    }
}

impl std::error::Error for EventError {}
