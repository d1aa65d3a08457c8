//! Pacing an export's CloudWatch Logs reads under the account's quotas.
//!
//! GetLogEvents (25 requests per second), FilterLogEvents and DescribeLogStreams (5 each) are
//! quotas per account and region, shared with every other tool and person in the account: an
//! export that fires as fast as it can throttles them all and spends its own retries. One token
//! bucket per operation, shared by every stream of the export, keeps the export at a configured
//! rate below the quota (`export.max_requests_per_second`). Throttling that happens all the
//! same (someone else is reading too) halves the bucket's rate, and each answered call adds
//! back a twentieth of the configured rate (additive increase, multiplicative decrease), so the
//! export settles at what the account has to spare instead of failing.
//!
//! The bucket is a plain value (`TokenBucket`, time passed in); `Pacer` wraps the buckets for
//! concurrent streams. Hand-written rather than `governor`: its quota is fixed at construction,
//! and the adaptive rate is the point here.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::MaxRequestsPerSecond;
use crate::ports::LogReadApi;

/// The slowest a throttled bucket gets: one request every two seconds still finishes.
const MIN_RATE: f64 = 0.5;
/// Each answered call adds back this share of the configured rate.
const ADDITIVE_SHARE: f64 = 0.05;

/// A token bucket with an adaptive rate. `reserve` takes a token now and says how long to wait
/// before using it; a negative balance is a queue of reservations, so concurrent callers are
/// spaced `1 / rate` apart without a lock held while they wait.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    ceiling: f64,
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// Starts full: `burst` requests may go at once, then `per_second`.
    pub fn new(per_second: f64, burst: f64, now: Instant) -> TokenBucket {
        let ceiling = per_second.max(MIN_RATE);
        TokenBucket {
            ceiling,
            rate: ceiling,
            burst: burst.max(1.0),
            tokens: burst.max(1.0),
            last: now,
        }
    }

    /// Reserves one request at `now`; the caller sends it after the returned wait.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }

    /// AWS throttled a call all the same: halve the rate.
    pub fn throttled(&mut self) {
        self.rate = (self.rate / 2.0).max(MIN_RATE);
    }

    /// A call was answered: grow back towards the configured rate.
    pub fn answered(&mut self) {
        self.rate = (self.rate + self.ceiling * ADDITIVE_SHARE).min(self.ceiling);
    }

    /// Requests per second now.
    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// One export's buckets: the stream listing and the events read.
#[derive(Debug)]
pub struct Pacer {
    describe: Mutex<TokenBucket>,
    read: Mutex<TokenBucket>,
}

/// A short burst: enough to start every ENI's first read together, small enough not to
/// throttle others.
const BURST: f64 = 4.0;

impl Pacer {
    pub fn new(rates: &MaxRequestsPerSecond, api: LogReadApi) -> Pacer {
        let now = Instant::now();
        let read = match api {
            LogReadApi::GetLogEvents => rates.get_log_events,
            LogReadApi::FilterLogEvents => rates.filter_log_events,
        };
        Pacer {
            describe: Mutex::new(TokenBucket::new(rates.describe_log_streams, BURST, now)),
            read: Mutex::new(TokenBucket::new(read, BURST, now)),
        }
    }

    /// Waits for the next DescribeLogStreams call's turn.
    pub async fn describe(&self) {
        Self::wait(&self.describe).await;
    }

    /// Waits for the next events read's turn.
    pub async fn read(&self) {
        Self::wait(&self.read).await;
    }

    pub fn read_throttled(&self) {
        Self::with(&self.read, TokenBucket::throttled);
    }

    pub fn read_answered(&self) {
        Self::with(&self.read, TokenBucket::answered);
    }

    async fn wait(bucket: &Mutex<TokenBucket>) {
        let wait = Self::with(bucket, |b| b.reserve(Instant::now()));
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    fn with<T>(bucket: &Mutex<TokenBucket>, f: impl FnOnce(&mut TokenBucket) -> T) -> T {
        // A poisoned bucket only means another stream panicked mid-update; its numbers are
        // still a valid pace.
        let mut guard = bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, seconds: f64) -> Instant {
        start + Duration::from_secs_f64(seconds)
    }

    #[test]
    fn a_burst_goes_at_once_then_requests_are_spaced_by_the_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(20.0, 4.0, t0);
        let waits: Vec<f64> = (0..8).map(|_| bucket.reserve(t0).as_secs_f64()).collect();
        assert_eq!(&waits[..4], &[0.0; 4]);
        for (i, w) in waits[4..].iter().enumerate() {
            let expected = (i + 1) as f64 / 20.0;
            assert!((w - expected).abs() < 1e-9, "{waits:?}");
        }
    }

    #[test]
    fn over_a_long_run_the_bucket_admits_the_rate_and_no_more() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(25.0, 4.0, t0);
        // A caller that sends each request as soon as it may: 10 s of requests.
        let mut now = t0;
        let mut sent = 0;
        while now < at(t0, 10.0) {
            now += bucket.reserve(now);
            sent += 1;
        }
        // 4 at once, then 25 per second.
        assert!((250..=255).contains(&sent), "{sent}");
    }

    #[test]
    fn throttling_halves_the_rate_and_answers_grow_it_back_to_the_ceiling_only() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(20.0, 1.0, t0);
        bucket.throttled();
        assert_eq!(bucket.rate(), 10.0);
        bucket.throttled();
        assert_eq!(bucket.rate(), 5.0);
        for _ in 0..5 {
            bucket.answered();
        }
        assert!((bucket.rate() - 10.0).abs() < 1e-9);
        for _ in 0..100 {
            bucket.answered();
        }
        assert_eq!(bucket.rate(), 20.0);
        for _ in 0..20 {
            bucket.throttled();
        }
        assert_eq!(bucket.rate(), MIN_RATE);
    }

    #[test]
    fn an_idle_bucket_refills_to_its_burst_only() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3.0, t0);
        for _ in 0..3 {
            bucket.reserve(t0);
        }
        let later = at(t0, 60.0);
        let waits: Vec<Duration> = (0..4).map(|_| bucket.reserve(later)).collect();
        assert_eq!(&waits[..3], &[Duration::ZERO; 3]);
        assert!(waits[3] > Duration::ZERO);
    }
}
