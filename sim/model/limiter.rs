//! Quota limiters of on-demand deployments, one shape per vendor (docs/model.md section 6.1).
//!
//! A limiter answers one question at a request's arrival: admit it, or 429. The shapes differ
//! in three things only, each written down by its vendor:
//! - how a limit is counted over time: a token bucket refilled continuously at the quota per
//!   minute (llmcap's default, Anthropic, Bedrock, Vertex) or a counter reset at fixed window
//!   boundaries (Azure: RPM over `rpm_window_s`, TPM over clock minutes);
//! - which tokens a request is charged at admission (input, cache reads or not, `max_tokens`
//!   or the actual output);
//! - whether that charge is settled to what the request used when it ends (Anthropic's OTPM,
//!   Bedrock's TPM): the settlement is applied at the request's end, given by the caller.
//!
//! Windows start at simulated time 0. Settlements are applied lazily, in (time, sequence)
//! order, before the next question, so the outcome depends only on the arrival sequence.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::domain::Quota;
use crate::model::engine::{SimTime, US_PER_MIN};

/// Why a quota answered 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Rpm,
    /// The token limit (`tpm`, or Anthropic's `itpm`).
    Tpm,
    /// Anthropic's output-token limit (`otpm`).
    Otpm,
}

/// What a limiter knows of a request: its input tokens (of which `cached` are read from the
/// prompt cache), its actual output, and the `max_tokens` it sends (its output when the class
/// sets none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub input: u32,
    pub cached: u32,
    pub output: u32,
    pub max_tokens: u32,
}

/// The end-of-request settlement of an admitted request: tokens returned to the token limit
/// and to the output limit (negative: charged on top).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settle {
    pub tokens: f64,
    pub output: f64,
}

/// A token bucket: holds at most `capacity`, starts full, refills at `capacity` per minute.
#[derive(Debug, Clone)]
struct Bucket {
    capacity: f64,
    per_us: f64,
    level: f64,
    last: SimTime,
}

impl Bucket {
    fn per_minute(capacity: f64) -> Self {
        Bucket {
            capacity,
            per_us: capacity / US_PER_MIN as f64,
            level: capacity,
            last: 0,
        }
    }

    fn refill(&mut self, now: SimTime) {
        if now > self.last {
            self.level = (self.level + (now - self.last) as f64 * self.per_us).min(self.capacity);
            self.last = now;
        }
    }

    fn has(&mut self, now: SimTime, amount: f64) -> bool {
        self.refill(now);
        self.level >= amount
    }
}

/// A counter reset at every multiple of `len` microseconds; it admits while below `limit`.
#[derive(Debug, Clone)]
struct Window {
    len: SimTime,
    limit: f64,
    index: u64,
    used: f64,
}

impl Window {
    fn new(len: SimTime, limit: f64) -> Self {
        Window {
            len,
            limit,
            index: 0,
            used: 0.0,
        }
    }

    fn below(&mut self, now: SimTime) -> bool {
        let i = now / self.len;
        if i != self.index {
            self.index = i;
            self.used = 0.0;
        }
        self.used < self.limit
    }
}

/// A settlement due at `at`; `seq` keeps equal times in admission order.
#[derive(Debug, Clone, Copy)]
struct Due {
    at: SimTime,
    seq: u64,
    settle: Settle,
}

impl PartialEq for Due {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Due {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

pub struct Limiter {
    shape: Quota,
    /// Token-bucket shapes: requests, tokens (`tpm` or `itpm`), output tokens (`otpm`).
    rpm: Option<Bucket>,
    tokens: Option<Bucket>,
    output: Option<Bucket>,
    /// Azure: fixed windows for requests and tokens.
    rpm_window: Option<Window>,
    tpm_window: Option<Window>,
    due: BinaryHeap<Reverse<Due>>,
    seq: u64,
}

impl Limiter {
    pub fn new(shape: Quota, rpm: Option<f64>, tpm: Option<f64>) -> Self {
        let mut l = Limiter {
            shape,
            rpm: None,
            tokens: None,
            output: None,
            rpm_window: None,
            tpm_window: None,
            due: BinaryHeap::new(),
            seq: 0,
        };
        match shape {
            Quota::Azure { rpm_window_s } => {
                let len = rpm_window_s as u64 * 1_000_000;
                // "600 requests per minute = 10 requests per second"; at least one request
                // per window, or a small quota would refuse everything.
                l.rpm_window = rpm
                    .map(|r| Window::new(len, (r * rpm_window_s as f64 / 60.0).floor().max(1.0)));
                l.tpm_window = tpm.map(|t| Window::new(US_PER_MIN, t));
            }
            Quota::Anthropic { itpm, otpm, .. } => {
                l.rpm = rpm.map(Bucket::per_minute);
                l.tokens = itpm.map(Bucket::per_minute);
                l.output = otpm.map(Bucket::per_minute);
            }
            Quota::Bucket | Quota::Bedrock { .. } | Quota::Vertex => {
                l.rpm = rpm.map(Bucket::per_minute);
                l.tokens = tpm.map(Bucket::per_minute);
            }
        }
        l
    }

    /// The charges of a request at admission and when it ends: (tokens, output) each.
    fn charges(&self, a: &Ask) -> ([f64; 2], [f64; 2]) {
        let (input, cached, output, max) = (
            a.input as f64,
            a.cached as f64,
            a.output as f64,
            a.max_tokens as f64,
        );
        match self.shape {
            Quota::Bucket => ([input + output, 0.0], [input + output, 0.0]),
            Quota::Azure { .. } => ([input + max, 0.0], [input + max, 0.0]),
            Quota::Anthropic {
                itpm_cache_reads, ..
            } => {
                let counted = if itpm_cache_reads {
                    input
                } else {
                    input - cached
                };
                ([counted, max], [counted, output])
            }
            Quota::Bedrock { output_burndown } => (
                [input + max, 0.0],
                [input - cached + output * output_burndown, 0.0],
            ),
            Quota::Vertex => ([input, 0.0], [input, 0.0]),
        }
    }

    /// Applies the settlements due by `now`, each at its own time.
    fn settle_due(&mut self, now: SimTime) {
        while self.due.peek().is_some_and(|Reverse(d)| d.at <= now) {
            let Some(Reverse(d)) = self.due.pop() else {
                break;
            };
            for (b, back) in [
                (&mut self.tokens, d.settle.tokens),
                (&mut self.output, d.settle.output),
            ] {
                if let Some(b) = b {
                    b.refill(d.at);
                    b.level = (b.level + back).min(b.capacity);
                }
            }
        }
    }

    /// Admits the request arriving at `now` or says which limit refused it. On admission,
    /// returns the settlement to apply when the request ends (see [`Limiter::settle`]), if
    /// its charge changes then.
    pub fn try_admit(&mut self, now: SimTime, a: &Ask) -> Result<Option<Settle>, Throttle> {
        let (start, end) = self.charges(a);
        if let Quota::Azure { .. } = self.shape {
            let rpm_ok = self.rpm_window.as_mut().is_none_or(|w| w.below(now));
            let tpm_ok = self.tpm_window.as_mut().is_none_or(|w| w.below(now));
            // Azure counts every request it receives, refused or not (Microsoft Learn: rate
            // limiting "applies to API requests at the time they're received, including
            // requests that are later rejected").
            if let Some(w) = &mut self.rpm_window {
                w.used += 1.0;
            }
            if let Some(w) = &mut self.tpm_window {
                w.used += start[0];
            }
            return match (rpm_ok, tpm_ok) {
                (false, _) => Err(Throttle::Rpm),
                (_, false) => Err(Throttle::Tpm),
                _ => Ok(None),
            };
        }
        self.settle_due(now);
        for (b, why, amount) in [
            (&mut self.rpm, Throttle::Rpm, 1.0),
            (&mut self.tokens, Throttle::Tpm, start[0]),
            (&mut self.output, Throttle::Otpm, start[1]),
        ] {
            if let Some(b) = b {
                if !b.has(now, amount) {
                    return Err(why);
                }
            }
        }
        for (b, amount) in [
            (&mut self.rpm, 1.0),
            (&mut self.tokens, start[0]),
            (&mut self.output, start[1]),
        ] {
            if let Some(b) = b {
                b.level -= amount;
            }
        }
        let settle = Settle {
            tokens: start[0] - end[0],
            output: start[1] - end[1],
        };
        let counted = (self.tokens.is_some() && settle.tokens != 0.0)
            || (self.output.is_some() && settle.output != 0.0);
        Ok(counted.then_some(settle))
    }

    /// Applies `s` when the request admitted with it ends, at `end` (no earlier than its
    /// admission).
    pub fn settle(&mut self, end: SimTime, s: Settle) {
        self.seq += 1;
        self.due.push(Reverse(Due {
            at: end,
            seq: self.seq,
            settle: s,
        }));
    }
}
