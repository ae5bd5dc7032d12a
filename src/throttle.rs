//! Throttling: a token bucket per access key.
//!
//! The bucket is checked after authentication, so a forged or unknown key never drains a real
//! caller's bucket, and the number of buckets is bounded by the number of real keys. A caller
//! over its limit gets `ThrottledClientException` (429) with `Retry-After`, which AWS clients'
//! standard retry mode honours.

use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A sustained rate: `count` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl FromStr for Rate {
    type Err = String;

    /// Parses `50/s`, `600/m` or `36000/h`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid rate {s:?}: expected N/s, N/m or N/h, e.g. 50/s");
        let (count, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(format!("invalid rate {s:?}: the count must be at least 1"));
        }
        Ok(Rate { count, per })
    }
}

/// The token buckets of every access key.
pub struct Throttle {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    max_wait: Duration,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A token was there.
    Now,
    /// The request waited this long for its token.
    AfterWait(Duration),
    /// Over the limit for longer than `max_wait`: the next token comes in this long.
    Refused(Duration),
}

impl Throttle {
    /// Buckets refilling at `rate`, holding at most `burst` tokens (at least 1); a request
    /// waits up to `max_wait` for a token before it is refused.
    pub fn new(rate: Rate, burst: u32, max_wait: Duration) -> Throttle {
        let period = rate.per / rate.count;
        let burst = NonZeroU32::new(burst.max(1)).expect("at least 1");
        let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
            .expect("a positive period")
            .allow_burst(burst);
        Throttle {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            max_wait,
        }
    }

    /// Admits a request of `access_key_id` now, after a wait within `max_wait`, or not.
    pub async fn admit(&self, access_key_id: &str) -> Admission {
        let started = Instant::now();
        let mut waited = false;
        loop {
            match self.check(access_key_id) {
                Ok(()) if !waited => return Admission::Now,
                Ok(()) => return Admission::AfterWait(started.elapsed()),
                Err(wait) if started.elapsed() + wait > self.max_wait => {
                    return Admission::Refused(wait);
                }
                // Another request of the same key may take the token first: check again.
                Err(wait) => {
                    waited = true;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Takes a token from the key's bucket, or says how long until one is there.
    fn check(&self, access_key_id: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&access_key_id.to_string())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates() {
        assert_eq!(
            "50/s".parse::<Rate>().unwrap(),
            Rate {
                count: 50,
                per: Duration::from_secs(1)
            }
        );
        assert_eq!(
            "600/m".parse::<Rate>().unwrap().per,
            Duration::from_secs(60)
        );
        assert!("0/s".parse::<Rate>().is_err());
        assert!("50".parse::<Rate>().is_err());
        assert!("50/d".parse::<Rate>().is_err());
    }

    #[test]
    fn each_key_has_its_own_bucket() {
        let throttle = Throttle::new("1/h".parse().unwrap(), 3, Duration::ZERO);
        for _ in 0..3 {
            assert!(throttle.check("AKIA1").is_ok());
        }
        let wait = throttle.check("AKIA1").unwrap_err();
        assert!(wait > Duration::from_secs(60), "{wait:?}");
        assert!(throttle.check("AKIA2").is_ok());
    }

    #[tokio::test]
    async fn waits_within_max_wait_and_refuses_beyond() {
        let throttle = Throttle::new("100/s".parse().unwrap(), 1, Duration::from_millis(50));
        assert_eq!(throttle.admit("k").await, Admission::Now);
        // The next token is 10 ms away: within max_wait, so the request waits for it.
        match throttle.admit("k").await {
            Admission::AfterWait(waited) => assert!(waited >= Duration::from_millis(5)),
            other => panic!("expected a wait, got {other:?}"),
        }
        let slow = Throttle::new("1/h".parse().unwrap(), 1, Duration::from_millis(50));
        assert_eq!(slow.admit("k").await, Admission::Now);
        match slow.admit("k").await {
            Admission::Refused(wait) => assert!(wait > Duration::from_secs(3000)),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
