//! The wait before a reconnect: exponential backoff with full jitter, above the reconnection
//! time and below a cap.

use std::time::Duration;

/// The range the wait before a reconnect is drawn from, uniformly.
///
/// `reconnection_time` is the floor: the server's last `retry:` or, until it sent one, the
/// configured time (WHATWG: wait at least the reconnection time). The ceiling doubles with
/// each failed `attempt` (0 for the first reconnect since the last healthy connection),
/// starting at twice the larger of the floor and `configured`, so a server's `retry: 0`
/// cannot make a tight loop, and it never exceeds `cap` unless the floor does (the server's
/// `retry:` wins).
pub(crate) fn range(
    reconnection_time: Duration,
    configured: Duration,
    cap: Duration,
    attempt: u32,
) -> (Duration, Duration) {
    let base = reconnection_time.max(configured);
    // 2^31 times any base of a millisecond or more is already beyond any sensible cap.
    let growth = 1u32 << attempt.saturating_add(1).min(31);
    let ceiling = base.saturating_mul(growth).min(cap).max(reconnection_time);
    (reconnection_time, ceiling)
}

/// A point of `range` picked by `unit`, a random number in `[0, 1)`: full jitter, so that
/// clients dropped together do not come back together.
pub(crate) fn pick((floor, ceiling): (Duration, Duration), unit: f64) -> Duration {
    floor + (ceiling - floor).mul_f64(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn ceiling_doubles_from_twice_the_base_up_to_the_cap() {
        let ceilings: Vec<u128> = (0..8)
            .map(|attempt| range(100 * MS, 100 * MS, 5_000 * MS, attempt).1.as_millis())
            .collect();
        assert_eq!(ceilings, [200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }

    #[test]
    fn floor_is_the_reconnection_time_even_beyond_the_cap() {
        assert_eq!(
            range(3 * MS, 1_000 * MS, 30_000 * MS, 0),
            (3 * MS, 2_000 * MS)
        );
        assert_eq!(
            range(60_000 * MS, 1_000 * MS, 30_000 * MS, 4),
            (60_000 * MS, 60_000 * MS)
        );
    }

    #[test]
    fn a_zero_retry_still_grows_from_the_configured_time() {
        let (floor, ceiling) = range(Duration::ZERO, 500 * MS, 30_000 * MS, 2);
        assert_eq!((floor, ceiling), (Duration::ZERO, 4_000 * MS));
    }

    #[test]
    fn huge_attempt_counts_saturate_at_the_cap() {
        assert_eq!(
            range(
                Duration::from_secs(1),
                Duration::from_secs(1),
                Duration::MAX,
                u32::MAX
            )
            .1,
            Duration::from_secs(1 << 31)
        );
        assert_eq!(range(MS, MS, 30_000 * MS, u32::MAX), (MS, 30_000 * MS));
    }

    #[test]
    fn pick_spans_the_range() {
        let range = (100 * MS, 300 * MS);
        assert_eq!(pick(range, 0.0), 100 * MS);
        assert_eq!(pick(range, 0.5), 200 * MS);
        assert!(pick(range, 0.999_999) < 300 * MS);
    }
}
