//! Routing: each class tries the deployments of its route in order. A 429 from
//! one deployment (quota, or a full reserved queue) spills the request to the
//! next; when every deployment refuses, the client backs off and retries the
//! whole route, up to `max_attempts` attempts.

use rand::Rng;

use crate::engine::SimTime;
use crate::rng::SimRng;
use crate::scenario::{ClientPolicy, Jitter};

/// Wait before attempt `failed + 1`, after `failed` attempts (>= 1) have failed:
/// exponential backoff base x 2^(failed-1), capped, with the policy's jitter.
pub fn backoff(policy: &ClientPolicy, failed: u32, rng: &mut SimRng) -> SimTime {
    let exp = failed.saturating_sub(1).min(40);
    let cap = policy
        .backoff_base_us
        .saturating_mul(1u64 << exp)
        .min(policy.backoff_max_us);
    match policy.jitter {
        Jitter::None => cap,
        Jitter::Full => rng.random_range(0..=cap),
        Jitter::Equal => cap / 2 + rng.random_range(0..=cap - cap / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};

    fn policy(jitter: Jitter) -> ClientPolicy {
        ClientPolicy {
            max_attempts: 5,
            backoff_base_us: 100,
            backoff_max_us: 1000,
            jitter,
            timeout_us: None,
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = policy(Jitter::None);
        let mut rng = stream(1, 0, Purpose::Retry, 0);
        let waits: Vec<u64> = (1..=6).map(|n| backoff(&p, n, &mut rng)).collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn jitter_stays_in_its_window() {
        let mut rng = stream(1, 0, Purpose::Retry, 0);
        for n in 1..6 {
            let full = backoff(&policy(Jitter::Full), n, &mut rng);
            let cap = (100u64 << (n - 1)).min(1000);
            assert!(full <= cap);
            let equal = backoff(&policy(Jitter::Equal), n, &mut rng);
            assert!(equal >= cap / 2 && equal <= cap);
        }
    }
}
