//! [`EventId`]: the ids the hub gives events, ordered, with an epoch.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The id of an event published through a [`Hub`](super::Hub), written `"{epoch}-{seq}"`.
///
/// It has the shape of a Redis Streams id (`"{milliseconds}-{sequence}"`), so a Redis
/// backplane can use `XADD`'s ids as is. Ids compare first by epoch, then by sequence.
///
/// The in-memory hub's epoch is the time it started, in milliseconds since the Unix epoch
/// (made unique within the process), so an id from before a restart is never mistaken for
/// one of the new run: the hub treats it as unknown and signals a gap.
///
/// ```
/// use sse_core::hub::EventId;
///
/// let id: EventId = "1764300000000-42".parse()?;
/// assert_eq!((id.epoch(), id.seq()), (1764300000000, 42));
/// assert_eq!(id.to_string(), "1764300000000-42");
/// assert!("42".parse::<EventId>().is_err());
/// # Ok::<(), sse_core::hub::ParseEventIdError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    epoch: u64,
    seq: u64,
}

impl EventId {
    /// An id from its two parts.
    pub const fn new(epoch: u64, seq: u64) -> Self {
        Self { epoch, seq }
    }

    /// The epoch: the hub's start time (in-memory), or the milliseconds part of a Redis id.
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The sequence number within the epoch.
    pub const fn seq(&self) -> u64 {
        self.seq
    }

    /// The next id in the same epoch.
    pub(crate) const fn successor(self) -> Self {
        Self::new(self.epoch, self.seq.saturating_add(1))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.epoch, self.seq)
    }
}

impl FromStr for EventId {
    type Err = ParseEventIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (epoch, seq) = s.split_once('-').ok_or(ParseEventIdError(()))?;
        Ok(Self::new(parse_u64(epoch)?, parse_u64(seq)?))
    }
}

/// Digits only: `u64::from_str` would also take a leading `+`.
fn parse_u64(s: &str) -> Result<u64, ParseEventIdError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseEventIdError(()));
    }
    s.parse().map_err(|_| ParseEventIdError(()))
}

/// A string that is not an [`EventId`] (`"{epoch}-{seq}"`, both decimal `u64`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseEventIdError(());

impl fmt::Display for ParseEventIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid hub event id, expected \"{epoch}-{seq}\"")
    }
}

impl std::error::Error for ParseEventIdError {}

/// A fresh epoch: the wall clock in milliseconds, strictly greater than any epoch handed out
/// before in this process (two hubs started in the same millisecond still differ).
pub(crate) fn new_epoch() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last.saturating_add(1));
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_signs_spaces_and_missing_parts() {
        for bad in [
            "", "-", "1-", "-1", "+1-2", "1-+2", " 1-2", "1-2-3", "a-1", "1_2",
        ] {
            assert!(bad.parse::<EventId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn order_is_epoch_then_seq() {
        assert!(EventId::new(1, 9) < EventId::new(2, 0));
        assert!(EventId::new(2, 1) < EventId::new(2, 2));
    }

    #[test]
    fn epochs_are_unique_and_increasing() {
        let a = new_epoch();
        let b = new_epoch();
        assert!(b > a);
    }
}
