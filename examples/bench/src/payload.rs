//! The message data: `<unix_nanos> <seq> <padding>`, so that the load generator reads the
//! publish time of every event it receives.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch (the clock the load generator reads too).
pub fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The data of message `seq`: `<unix_nanos> <seq> ` padded with `x` to `size` bytes.
pub fn payload(seq: u64, size: usize) -> String {
    let mut data = format!("{} {} ", unix_nanos(), seq);
    if data.len() < size {
        data.extend(std::iter::repeat_n('x', size - data.len()));
    }
    data
}

/// The send timestamp a payload carries, if it is one.
pub fn payload_nanos(data: &str) -> Option<u64> {
    data.split(' ').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_has_its_size_and_carries_its_send_time() {
        let data = payload(7, 100);
        assert_eq!(data.len(), 100);
        assert!(payload_nanos(&data).unwrap() > 0);
        assert_eq!(data.split(' ').nth(1), Some("7"));
        assert_eq!(payload_nanos("retry"), None);
    }
}
