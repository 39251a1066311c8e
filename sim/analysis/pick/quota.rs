//! What an on-demand route's quotas must admit at the workload's peak, counted the way the
//! offering's vendor counts them (docs/model.md sections 6.1 and 12.5).
//!
//! `pick` simulates each on-demand offering under its vendor's quota shape (`quota = "vendor"`)
//! when the catalog states one, and llmcap's per-minute buckets otherwise. The need of each limit
//! is what that shape counts at the peak-hour rate: per minute for the token limits and the
//! bucket-shaped RPM, per window for Azure's RPM (a burst inside a window is what throttles).

use serde::Serialize;

use crate::input::catalog::Catalog;

/// One workload's traffic on an on-demand deployment: its peak-hour arrival rate and the mean
/// tokens of a request (input, output, and the `max_tokens` it sends: its output when the
/// profile gives none).
#[derive(Debug, Clone, Copy)]
pub(super) struct Demand {
    pub(super) peak_rps: f64,
    pub(super) input: f64,
    pub(super) output: f64,
    pub(super) max_tokens: f64,
}

/// A route's quotas against the peak need of the workloads that reach it.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaNeed {
    /// The shape the simulation enforces: the offering's vendor shape (the generated
    /// deployment says `quota = "vendor"`), or `"bucket"` when the catalog states none.
    pub shape: String,
    /// Azure: the window RPM is counted over, seconds.
    pub rpm_window_s: Option<u32>,
    pub limits: Vec<LimitNeed>,
}

/// One limit of a route: what it counts, its default, the peak need and what the simulation
/// assumed instead of the default, when raised.
#[derive(Debug, Clone, Serialize)]
pub struct LimitNeed {
    /// The scenario key: `rpm`, `tpm`, `itpm` or `otpm`.
    pub key: String,
    /// What one request counts against it, in words.
    pub counts: String,
    pub default: Option<f64>,
    /// The peak need, per minute (Azure's RPM: the window's need times windows per minute).
    pub peak: f64,
    pub raised: Option<f64>,
}

impl QuotaNeed {
    pub fn raised(&self) -> bool {
        self.limits.iter().any(|l| l.raised.is_some())
    }

    /// The value the simulation uses for `key` instead of the catalog's, if raised.
    pub fn raised_of(&self, key: &str) -> Option<f64> {
        self.limits
            .iter()
            .find(|l| l.key == key)
            .and_then(|l| l.raised)
    }
}

/// The share of an Azure RPM window's arrivals a window's limit must cover at the peak-hour
/// rate: with the 99.9th percentile, a peak-hour window is over its limit about once in 1,000
/// (every 17 minutes with 1 s windows, every 2.8 hours with 10 s ones).
const WINDOW_QUANTILE: f64 = 0.999;
/// The standard normal quantile of [`WINDOW_QUANTILE`], for windows of many arrivals.
const WINDOW_Z: f64 = 3.0902;
/// Above this mean a window's count is taken as normal (the Poisson sum would underflow).
const EXACT_POISSON_UP_TO: f64 = 500.0;

/// The smallest k with P(N <= k) >= [`WINDOW_QUANTILE`] for N Poisson with mean `mean`.
fn poisson_quantile(mean: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    if mean > EXACT_POISSON_UP_TO {
        return (mean + WINDOW_Z * mean.sqrt()).ceil();
    }
    let (mut k, mut p) = (0.0, (-mean).exp());
    let mut cdf = p;
    while cdf < WINDOW_QUANTILE {
        k += 1.0;
        p *= mean / k;
        cdf += p;
    }
    k
}

/// The on-demand quotas a simulation of `offering` assumes for `demands`: the catalog's
/// defaults, each raised to 1.5x its peak need when the peak needs more than 80% of it (quotas
/// are adjustable on request; `pick` says which to ask for), counted the way the offering's
/// vendor counts them.
pub(super) fn quota(catalog: &Catalog, offering: &str, demands: &[Demand]) -> QuotaNeed {
    let od = catalog
        .offering(offering)
        .and_then(|(_, o)| o.on_demand.as_ref());
    let value = |v: Option<&crate::input::catalog::Sourced<f64>>| v.map(|v| v.value);
    let shape = od
        .and_then(|o| o.quota.as_ref())
        .map_or("bucket".to_string(), |q| q.value.clone());
    let per_minute = |count: &dyn Fn(&Demand) -> f64| -> f64 {
        demands.iter().map(|d| d.peak_rps * 60.0 * count(d)).sum()
    };
    let rpm = per_minute(&|_| 1.0);
    let rpm_default = od.and_then(|o| value(o.rpm.as_ref()));
    let tpm_default = od.and_then(|o| value(o.tpm.as_ref()));
    // (key, counts, default, peak)
    let mut limits: Vec<(&str, String, Option<f64>, f64)> = Vec::new();
    let mut rpm_window_s = None;
    match shape.as_str() {
        "azure" => {
            let w = od
                .and_then(|o| value(o.rpm_window_s.as_ref()))
                .unwrap_or(10.0);
            rpm_window_s = Some(w as u32);
            let in_window: f64 = demands.iter().map(|d| d.peak_rps * w).sum();
            limits.push((
                "rpm",
                format!("requests per {w:.0} s window (need: the 99.9th percentile of a peak-hour window's arrivals, x {:.0} windows a minute)", 60.0 / w),
                rpm_default,
                poisson_quantile(in_window) * 60.0 / w,
            ));
            limits.push((
                "tpm",
                "input + max_tokens per clock minute".into(),
                tpm_default,
                per_minute(&|d| d.input + d.max_tokens),
            ));
        }
        "anthropic" => {
            limits.push(("rpm", "requests per minute".into(), rpm_default, rpm));
            limits.push((
                "itpm",
                "input tokens per minute (cache reads not counted)".into(),
                od.and_then(|o| value(o.itpm.as_ref())),
                per_minute(&|d| d.input),
            ));
            limits.push((
                "otpm",
                "max_tokens reserved per request, per minute".into(),
                od.and_then(|o| value(o.otpm.as_ref())),
                per_minute(&|d| d.max_tokens),
            ));
        }
        "bedrock" => {
            let b = od
                .and_then(|o| value(o.output_burndown.as_ref()))
                .unwrap_or(1.0);
            limits.push(("rpm", "requests per minute".into(), rpm_default, rpm));
            limits.push((
                "tpm",
                format!("input + max_tokens reserved, settled to input + output x {b} per minute (the larger counted)"),
                tpm_default,
                per_minute(&|d| {
                    (d.input + d.max_tokens).max(d.input + d.output.min(d.max_tokens) * b)
                }),
            ));
        }
        "vertex" => {
            limits.push(("rpm", "requests per minute".into(), rpm_default, rpm));
            limits.push((
                "tpm",
                "input tokens per minute".into(),
                tpm_default,
                per_minute(&|d| d.input),
            ));
        }
        _ => {
            limits.push(("rpm", "requests per minute".into(), rpm_default, rpm));
            limits.push((
                "tpm",
                "input + output tokens per minute".into(),
                tpm_default,
                per_minute(&|d| d.input + d.output),
            ));
        }
    }
    let raise = |def: Option<f64>, need: f64| match def {
        Some(d) if need > 0.8 * d => Some((need * 1.5).ceil()),
        _ => None,
    };
    QuotaNeed {
        shape,
        rpm_window_s,
        limits: limits
            .into_iter()
            .map(|(key, counts, default, peak)| LimitNeed {
                key: key.to_string(),
                counts,
                default,
                peak,
                raised: raise(default, peak),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 requests/s at the peak: 120 a minute, 20 in a 10 s window.
    fn two_rps(input: f64, output: f64, max_tokens: f64) -> Demand {
        Demand {
            peak_rps: 2.0,
            input,
            output,
            max_tokens,
        }
    }

    /// (key, peak, default, raised) of each limit.
    fn limits(q: &QuotaNeed) -> Vec<(&str, f64, Option<f64>, Option<f64>)> {
        q.limits
            .iter()
            .map(|l| (l.key.as_str(), l.peak, l.default, l.raised))
            .collect()
    }

    #[test]
    fn each_shape_counts_what_its_vendor_counts() {
        let c = Catalog::shipped();
        let d = [two_rps(1000.0, 300.0, 1000.0)];
        // Anthropic (200,000 ITPM, 80,000 OTPM, 4,000 RPM): ITPM 120 x 1,000 = 120,000 (60%:
        // kept); OTPM 120 x max_tokens 1,000 = 120,000 > 80% of 80,000: 1.5 x = 180,000.
        let q = quota(c, "anthropic/claude-sonnet-4-6/standard", &d);
        assert_eq!(q.shape, "anthropic");
        assert_eq!(
            limits(&q),
            [
                ("rpm", 120.0, Some(4000.0), None),
                ("itpm", 120_000.0, Some(200_000.0), None),
                ("otpm", 120_000.0, Some(80_000.0), Some(180_000.0)),
            ]
        );
        // Bedrock, burndown 5 (200,000 TPM, 200 RPM): reserved 1,000 + 1,000 = 2,000, settled
        // 1,000 + 300 x 5 = 2,500 a request, the larger: 120 x 2,500 = 300,000 -> 450,000.
        let q = quota(c, "bedrock/claude-sonnet-4-6/us-cris", &d);
        assert_eq!(q.shape, "bedrock");
        assert_eq!(
            limits(&q),
            [
                ("rpm", 120.0, Some(200.0), None),
                ("tpm", 300_000.0, Some(200_000.0), Some(450_000.0)),
            ]
        );
        // Azure Data Zone Standard (1,800 RPM, 300,000 TPM, 10 s windows): 20 arrivals a window
        // on average, Poisson(20)'s 99.9th percentile is 35: 35 x 6 = 210 a minute; TPM counts
        // input + max_tokens: 120 x 2,000 = 240,000, exactly 80% of 300,000, not above: kept.
        let q = quota(c, "azure-openai/gpt-4o/data-zone-standard", &d);
        assert_eq!((q.shape.as_str(), q.rpm_window_s), ("azure", Some(10)));
        assert_eq!(
            limits(&q),
            [
                ("rpm", 210.0, Some(1800.0), None),
                ("tpm", 240_000.0, Some(300_000.0), None),
            ]
        );
        // Without max_tokens (the actual output counted) Azure's TPM need is 120 x 1,300.
        let q = quota(
            c,
            "azure-openai/gpt-4o/data-zone-standard",
            &[two_rps(1000.0, 300.0, 300.0)],
        );
        assert_eq!(q.limits[1].peak, 156_000.0);
        // Two workloads on one deployment: their rates add up before the window's percentile
        // (Poisson(40)'s 99.9th percentile is 61: 366 a minute).
        let q = quota(c, "azure-openai/gpt-4o/data-zone-standard", &[d[0], d[0]]);
        assert_eq!(q.limits[0].peak, 366.0);
        // An offering whose catalog states no shape keeps llmcap's buckets: input + output.
        let q = quota(c, "openai/gpt-4o/standard", &d);
        assert_eq!(q.shape, "bucket");
        assert_eq!(q.limits[1].peak, 156_000.0);
    }

    #[test]
    fn poisson_quantiles_by_hand() {
        // Poisson(1): P(N <= 4) = 0.99634, P(N <= 5) = 0.99941.
        assert_eq!(poisson_quantile(1.0), 5.0);
        // Poisson(10): P(N <= 19) = 0.99655, P(N <= 20) = 0.99841, P(N <= 21) = 0.99919.
        assert_eq!(poisson_quantile(10.0), 21.0);
        assert_eq!(poisson_quantile(0.0), 0.0);
        // Normal above 500: 1,000 + 3.0902 x 31.623 = 1,097.7.
        assert_eq!(poisson_quantile(1000.0), 1098.0);
    }
}
