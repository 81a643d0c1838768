//! Delivery policy, kept apart from sending and signing: the retry schedule (exponential backoff
//! with jitter, `Retry-After` on 429/503, both bounded) and the per-webhook rate limit (a token
//! bucket).

use std::time::{Duration, Instant};

use rand::Rng as _;

/// Backoff before the second attempt (before jitter); doubles for each later one.
pub const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Longest backoff between two attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Longest `Retry-After` honoured; larger values are cut to this.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(30);

/// The pause before attempt `next_attempt` (2 or more): "equal jitter", i.e. a uniformly random
/// value between half and all of `min(BACKOFF_MAX, BACKOFF_BASE · 2^(next_attempt-2))`.
pub fn backoff(next_attempt: u32) -> Duration {
    let ceiling = backoff_ceiling(next_attempt);
    let half = ceiling / 2;
    let spread = u64::try_from((ceiling - half).as_micros()).unwrap_or(u64::MAX);
    half + Duration::from_micros(rand::rng().random_range(0..=spread))
}

/// The upper bound of [`backoff`] for `next_attempt`.
pub fn backoff_ceiling(next_attempt: u32) -> Duration {
    let doublings = next_attempt.saturating_sub(2).min(20);
    BACKOFF_BASE
        .saturating_mul(1u32 << doublings)
        .min(BACKOFF_MAX)
}

/// The pause a destination asked for with `Retry-After` (delta-seconds only; HTTP dates and
/// garbage are ignored), honoured on 429 and 503 and cut to [`RETRY_AFTER_MAX`].
pub fn retry_after(status: u16, header: Option<&str>) -> Option<Duration> {
    if status != 429 && status != 503 {
        return None;
    }
    let seconds: u64 = header?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(RETRY_AFTER_MAX))
}

/// The pause before `next_attempt`: what the destination asked for, else [`backoff`].
pub fn pause_before(next_attempt: u32, asked: Option<Duration>) -> Duration {
    asked.unwrap_or_else(|| backoff(next_attempt))
}

/// A token bucket: `rate` tokens per second, holding at most `rate` (one second of burst).
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// A full bucket for `per_second` deliveries per second (at least 1).
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        Self {
            rate,
            tokens: rate,
            last: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    pub fn try_acquire(&mut self) -> bool {
        self.try_acquire_at(Instant::now())
    }

    fn try_acquire_at(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        assert_eq!(backoff_ceiling(2), Duration::from_millis(100));
        assert_eq!(backoff_ceiling(3), Duration::from_millis(200));
        assert_eq!(backoff_ceiling(4), Duration::from_millis(400));
        assert_eq!(backoff_ceiling(12), BACKOFF_MAX);
        assert_eq!(backoff_ceiling(u32::MAX), BACKOFF_MAX);
        for attempt in [2, 3, 5, 9, 40, u32::MAX] {
            let ceiling = backoff_ceiling(attempt);
            for _ in 0..200 {
                let pause = backoff(attempt);
                assert!(pause >= ceiling / 2, "{attempt}: {pause:?}");
                assert!(pause <= ceiling, "{attempt}: {pause:?}");
            }
        }
        // Jitter: not always the same value.
        let pauses: std::collections::HashSet<Duration> = (0..50).map(|_| backoff(5)).collect();
        assert!(pauses.len() > 1);
    }

    #[test]
    fn retry_after_only_on_429_and_503_and_bounded() {
        assert_eq!(retry_after(429, Some("0")), Some(Duration::ZERO));
        assert_eq!(retry_after(503, Some(" 2 ")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(429, Some("99999")), Some(RETRY_AFTER_MAX));
        assert_eq!(retry_after(500, Some("1")), None);
        assert_eq!(retry_after(429, None), None);
        assert_eq!(
            retry_after(429, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(retry_after(429, Some("-1")), None);
        assert_eq!(
            pause_before(3, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert!(pause_before(3, None) <= backoff_ceiling(3));
    }

    #[test]
    fn bucket_allows_a_burst_then_refills() {
        let start = Instant::now();
        let mut bucket = RateLimiter::new(5);
        bucket.last = start;
        let granted = (0..10).filter(|_| bucket.try_acquire_at(start)).count();
        assert_eq!(granted, 5);
        assert!(!bucket.try_acquire_at(start + Duration::from_millis(100)));
        assert!(bucket.try_acquire_at(start + Duration::from_millis(300)));
        // Never more than one second's worth, however long it was idle.
        let later = start + Duration::from_secs(3600);
        let granted = (0..10).filter(|_| bucket.try_acquire_at(later)).count();
        assert_eq!(granted, 5);
    }
}
