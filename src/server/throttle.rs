//! Throttling: a token bucket per access key.
//!
//! The bucket is checked after authentication, so a forged or unknown key never drains a real
//! caller's bucket, and the number of buckets is bounded by the number of real keys.
//!
//! Each bucket is kept as the Generic Cell Rate Algorithm keeps it: one instant, the
//! *theoretical arrival time* (TAT) at which the bucket would be full again. A request that
//! finds a token takes it at once. A request over the limit *reserves* the next free token,
//! moving the TAT on, and sleeps until that token's time: reservations are handed out in
//! arrival order, so a waiting request can never be overtaken by later ones and its wait is
//! known the moment it arrives. (A limiter that only checks, sleeps and checks again lets
//! every newcomer that lands between a token's arrival and the sleeper's wake-up take the
//! token; with fast clients a sleeper lost for a whole second. That is why this is not
//! `governor`, which has no reservations.) When the reserved token is further away than
//! `max_wait`, nothing is reserved and the caller gets `ThrottledClientException` (429)
//! with `Retry-After`.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    /// Each key's theoretical arrival time.
    buckets: Mutex<HashMap<String, Instant>>,
    /// The time one token takes to come back.
    interval: Duration,
    /// How far the TAT may run ahead of now with a token still free: `burst - 1` intervals.
    tolerance: Duration,
    max_wait: Duration,
    /// How many buckets may be kept at once (see [`Throttle::bounded`]).
    max_keys: usize,
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
        let interval = (rate.per / rate.count).max(Duration::from_nanos(1));
        Throttle {
            buckets: Mutex::new(HashMap::new()),
            interval,
            tolerance: interval * (burst.max(1) - 1),
            max_wait,
            max_keys: usize::MAX,
        }
    }

    /// [`Throttle::new`] keeping at most `max_keys` buckets, for keys that anyone can make up
    /// (the console's sign-in throttles every id tried). When a new key finds the map full,
    /// the buckets that have filled up again (they hold nothing a fresh one would not) are
    /// dropped; if it is still full, the new key is refused as if over its rate, so a flood
    /// of made-up keys slows every newcomer down rather than growing the map.
    pub fn bounded(rate: Rate, burst: u32, max_wait: Duration, max_keys: usize) -> Throttle {
        Throttle {
            max_keys: max_keys.max(1),
            ..Throttle::new(rate, burst, max_wait)
        }
    }

    /// Admits a request of `access_key_id` now, after a wait within `max_wait`, or not.
    pub async fn admit(&self, access_key_id: &str) -> Admission {
        match self.reserve(access_key_id, Instant::now()) {
            Ok(Duration::ZERO) => Admission::Now,
            Ok(wait) => {
                tokio::time::sleep(wait).await;
                Admission::AfterWait(wait)
            }
            Err(wait) => Admission::Refused(wait),
        }
    }

    /// Takes the key's next token for a request arriving at `now`: `Ok` with how long until
    /// the token is there (zero when it is there now), or `Err` with that time when it is
    /// beyond `max_wait`, in which case nothing is taken.
    fn reserve(&self, access_key_id: &str, now: Instant) -> Result<Duration, Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(access_key_id) && buckets.len() >= self.max_keys {
            let tolerance = self.tolerance;
            buckets.retain(|_, tat| tat.saturating_duration_since(now) > tolerance);
            if buckets.len() >= self.max_keys {
                return Err(self.interval);
            }
        }
        let tat = match buckets.get_mut(access_key_id) {
            Some(tat) => tat,
            None => buckets.entry(access_key_id.to_string()).or_insert(now),
        };
        let start = (*tat).max(now);
        let wait = start.duration_since(now).saturating_sub(self.tolerance);
        if wait > self.max_wait {
            return Err(wait);
        }
        *tat = start + self.interval;
        Ok(wait)
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
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.reserve("AKIA1", now), Ok(Duration::ZERO));
        }
        let wait = throttle.reserve("AKIA1", now).unwrap_err();
        assert_eq!(wait, Duration::from_secs(3600));
        assert_eq!(throttle.reserve("AKIA2", now), Ok(Duration::ZERO));
    }

    #[test]
    fn waits_are_reserved_in_arrival_order_and_refusals_take_nothing() {
        let ms = Duration::from_millis;
        // 10/s with a burst of 2: two tokens now, then one every 100 ms.
        let throttle = Throttle::new("10/s".parse().unwrap(), 2, ms(250));
        let t0 = Instant::now();
        let waits: Vec<_> = (0..5).map(|_| throttle.reserve("k", t0)).collect();
        assert_eq!(
            waits,
            [Ok(ms(0)), Ok(ms(0)), Ok(ms(100)), Ok(ms(200)), Err(ms(300))]
        );
        // The refusal reserved nothing: 50 ms later the next token is still the one at 300 ms.
        assert_eq!(throttle.reserve("k", t0 + ms(50)), Ok(ms(250)));
        // A newcomer queues behind it: its token is the one at 400 ms.
        assert_eq!(throttle.reserve("k", t0 + ms(150)), Ok(ms(250)));
        // Once the reservations have passed, the bucket fills again, up to the burst.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(throttle.reserve("k", later), Ok(ms(0)));
        assert_eq!(throttle.reserve("k", later), Ok(ms(0)));
        assert_eq!(throttle.reserve("k", later), Ok(ms(100)));
    }

    #[test]
    fn a_bounded_throttle_drops_full_buckets_and_refuses_newcomers_when_full() {
        let throttle = Throttle::bounded("1/s".parse().unwrap(), 1, Duration::ZERO, 2);
        let t0 = Instant::now();
        assert_eq!(throttle.reserve("a", t0), Ok(Duration::ZERO));
        assert_eq!(throttle.reserve("b", t0), Ok(Duration::ZERO));
        // Both buckets are empty and the map is full: a newcomer waits like an old key.
        assert_eq!(throttle.reserve("c", t0), Err(Duration::from_secs(1)));
        assert_eq!(throttle.reserve("a", t0), Err(Duration::from_secs(1)));
        // A second later both are full again and dropped: room for the newcomer.
        let later = t0 + Duration::from_secs(1);
        assert_eq!(throttle.reserve("c", later), Ok(Duration::ZERO));
        assert!(throttle.buckets.lock().unwrap().len() <= 2);
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
