//! Fault injection: make the service fail on purpose, repeatably.
//!
//! A rule names an operation (or `*` for all), a probability, and an effect: one of the modeled
//! errors, added latency, or both. Each rule draws from its own random generator, seeded from the
//! rule's `seed` (or the server's), so the same rules and the same sequence of requests give the
//! same faults every time: a user's test of their retry logic is repeatable.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorKind};

/// The errors a rule can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultError {
    Throttled,
    ServiceUnavailable,
    ServiceFailure,
    Unauthorized,
    Forbidden,
    NotFound,
    BadRequest,
}

impl FaultError {
    fn kind(self) -> ErrorKind {
        match self {
            FaultError::Throttled => ErrorKind::Throttled,
            FaultError::ServiceUnavailable => ErrorKind::ServiceUnavailable,
            FaultError::ServiceFailure => ErrorKind::ServiceFailure,
            FaultError::Unauthorized => ErrorKind::Unauthorized,
            FaultError::Forbidden => ErrorKind::Forbidden,
            FaultError::NotFound => ErrorKind::NotFound,
            FaultError::BadRequest => ErrorKind::BadRequest,
        }
    }
}

/// A fault rule, as the admin API and the config file take it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// An operation name of the model (`ListUsers`), or `*` for every operation.
    #[serde(default = "all_operations")]
    pub operation: String,
    /// The chance, from 0 to 1, that a matching request is affected.
    #[serde(default = "always")]
    pub probability: f64,
    /// The modeled error to answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<FaultError>,
    /// Latency added before the request is served (or failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Seed of the rule's random draws; the server's `--fault-seed` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

fn all_operations() -> String {
    "*".to_string()
}

fn always() -> f64 {
    1.0
}

impl FaultRule {
    /// Checks the rule; `known` says whether an operation name exists in the model.
    pub fn validate(&self, known: impl Fn(&str) -> bool) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!(
                "probability must be between 0 and 1, got {}",
                self.probability
            ));
        }
        if self.error.is_none() && self.latency_ms.is_none() {
            return Err("a rule needs an error, a latency_ms, or both".into());
        }
        if self.operation != "*" && !known(&self.operation) {
            return Err(format!(
                "unknown operation {:?}: use an operation name of the Chime model or \"*\"",
                self.operation
            ));
        }
        Ok(())
    }
}

/// What the rules decided for one request.
#[derive(Debug, Default)]
pub struct Injection {
    pub latency: Option<Duration>,
    pub error: Option<ApiError>,
}

struct ActiveRule {
    id: u64,
    rule: FaultRule,
    rng: StdRng,
}

/// The active rules of a server.
pub struct Faults {
    default_seed: u64,
    state: Mutex<(u64, Vec<ActiveRule>)>,
}

impl Faults {
    /// No rules yet; rules without a seed of their own use `default_seed`.
    pub fn new(default_seed: u64) -> Faults {
        Faults {
            default_seed,
            state: Mutex::new((0, Vec::new())),
        }
    }

    /// Adds a (validated) rule and returns its id.
    pub fn add(&self, rule: FaultRule) -> u64 {
        let mut state = self.state.lock().expect("fault rules");
        state.0 += 1;
        let id = state.0;
        let rng = StdRng::seed_from_u64(rule.seed.unwrap_or(self.default_seed));
        state.1.push(ActiveRule { id, rule, rng });
        id
    }

    /// The rules, with their ids, in the order they apply.
    pub fn list(&self) -> Vec<(u64, FaultRule)> {
        let state = self.state.lock().expect("fault rules");
        state.1.iter().map(|r| (r.id, r.rule.clone())).collect()
    }

    /// Removes one rule; false if there was none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut state = self.state.lock().expect("fault rules");
        let before = state.1.len();
        state.1.retain(|r| r.id != id);
        state.1.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.state.lock().expect("fault rules").1.clear();
    }

    /// Draws every rule matching `operation`, in order. Latencies add up; the first error
    /// drawn is the one answered.
    pub fn draw(&self, operation: &str) -> Injection {
        let mut state = self.state.lock().expect("fault rules");
        let mut injection = Injection::default();
        for active in state.1.iter_mut() {
            let rule = &active.rule;
            if rule.operation != "*" && rule.operation != operation {
                continue;
            }
            if active.rng.random::<f64>() >= rule.probability {
                continue;
            }
            if let Some(ms) = rule.latency_ms {
                *injection.latency.get_or_insert(Duration::ZERO) += Duration::from_millis(ms);
            }
            if let (Some(error), None) = (rule.error, &injection.error) {
                injection.error = Some(ApiError::new(
                    error.kind(),
                    format!(
                        "Injected fault: {error:?} on {operation} (fault rule {})",
                        active.id
                    ),
                ));
            }
        }
        injection
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(probability: f64, seed: u64) -> FaultRule {
        FaultRule {
            operation: "ListUsers".into(),
            probability,
            error: Some(FaultError::Throttled),
            latency_ms: None,
            seed: Some(seed),
        }
    }

    fn sequence(faults: &Faults, n: usize) -> Vec<bool> {
        (0..n)
            .map(|_| faults.draw("ListUsers").error.is_some())
            .collect()
    }

    #[test]
    fn same_seed_same_sequence() {
        let a = Faults::new(0);
        a.add(rule(0.3, 42));
        let b = Faults::new(0);
        b.add(rule(0.3, 42));
        let (sa, sb) = (sequence(&a, 200), sequence(&b, 200));
        assert_eq!(sa, sb);
        let hits = sa.iter().filter(|h| **h).count();
        assert!((30..=90).contains(&hits), "{hits} of 200 at p=0.3");
    }

    #[test]
    fn rules_match_their_operation_and_clear() {
        let f = Faults::new(7);
        f.add(rule(1.0, 1));
        assert!(f.draw("GetUser").error.is_none());
        let e = f.draw("ListUsers").error.unwrap();
        assert_eq!(e.kind, ErrorKind::Throttled);
        f.clear();
        assert!(f.draw("ListUsers").error.is_none());
    }

    #[test]
    fn validation() {
        let known = |op: &str| op == "ListUsers";
        assert!(rule(0.5, 1).validate(known).is_ok());
        assert!(rule(1.5, 1).validate(known).is_err());
        let mut r = rule(0.5, 1);
        r.operation = "Nope".into();
        assert!(r.validate(known).is_err());
        r.operation = "*".into();
        r.error = None;
        assert!(r.validate(known).is_err());
    }
}
