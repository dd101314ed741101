//! `POST /publish?n=&size=&rate=&burst=`: its parameters and the publisher loop every server
//! runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::payload;

/// The parameters of `POST /publish`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishParams {
    /// How many messages.
    pub n: u64,
    /// Bytes of data per message.
    pub size: usize,
    /// Bursts per second; 0 = as fast as possible.
    pub rate: u64,
    /// Messages per burst, published back to back: a subscriber woken by the first finds
    /// them all (1 = one message per tick).
    pub burst: u64,
}

impl PublishParams {
    /// Reads `n`, `size`, `rate` and `burst` from a raw query string (defaults 1, 100, 0,
    /// 1; a burst of 0 is 1).
    pub fn from_query(query: &str) -> Self {
        let mut params = Self {
            n: 1,
            size: 100,
            rate: 0,
            burst: 1,
        };
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "n" => params.n = value.parse().unwrap_or(params.n),
                "size" => params.size = value.parse().unwrap_or(params.size),
                "rate" => params.rate = value.parse().unwrap_or(params.rate),
                "burst" => params.burst = value.parse().unwrap_or(params.burst),
                _ => {}
            }
        }
        params.burst = params.burst.max(1);
        params
    }
}

/// Publishes `params.n` payloads through `send`, counting them in `published` and timing each
/// `send` call for `/stats` (a publish call's time covers its lock and waking the
/// subscribers).
///
/// At rate 0 it yields to the scheduler after every burst, so the subscribers' tasks (which
/// run on the same runtime) get to write; otherwise it paces the bursts with an interval.
pub async fn run_publisher<F>(params: PublishParams, published: Arc<AtomicU64>, send: F)
where
    F: Fn(String),
{
    let mut ticker = (params.rate > 0).then(|| {
        let mut t = tokio::time::interval(Duration::from_nanos(1_000_000_000 / params.rate));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        t
    });
    for seq in 0..params.n {
        if seq % params.burst == 0 {
            match ticker.as_mut() {
                Some(t) => {
                    t.tick().await;
                }
                None => tokio::task::yield_now().await,
            }
        }
        let data = payload(seq, params.size);
        let started = Instant::now();
        send(data);
        crate::probe::record_publish(started.elapsed());
        published.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_come_from_the_query_with_defaults() {
        assert_eq!(
            PublishParams::from_query("n=5&size=10&rate=50"),
            PublishParams {
                n: 5,
                size: 10,
                rate: 50,
                burst: 1
            }
        );
        assert_eq!(
            PublishParams::from_query("size=x&other&burst=0"),
            PublishParams {
                n: 1,
                size: 100,
                rate: 0,
                burst: 1
            }
        );
        assert_eq!(PublishParams::from_query("n=6&burst=3").burst, 3);
    }

    #[tokio::test]
    async fn the_publisher_sends_and_counts_every_message() {
        let published = Arc::new(AtomicU64::new(0));
        let sent = std::sync::Mutex::new(Vec::new());
        let params = PublishParams::from_query("n=3&size=40");
        run_publisher(params, published.clone(), |data| {
            sent.lock().unwrap().push(data);
        })
        .await;
        assert_eq!(published.load(Ordering::Relaxed), 3);
        let sent = sent.into_inner().unwrap();
        assert!(sent.iter().all(|data| data.len() == 40));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_out_on_one_tick() {
        let start = tokio::time::Instant::now();
        let sent_at = std::sync::Mutex::new(Vec::new());
        let params = PublishParams::from_query("n=6&rate=1&burst=3");
        run_publisher(params, Arc::new(AtomicU64::new(0)), |_| {
            sent_at.lock().unwrap().push(start.elapsed().as_secs());
        })
        .await;
        assert_eq!(sent_at.into_inner().unwrap(), [0, 0, 0, 1, 1, 1]);
    }
}
