//! Tests of the fit: synthetic traces fitted back, the shipped sample, the statistics (the public
//! traces are fitted from the command line in tests/fit.rs).

use std::io::Write;
use std::path::PathBuf;

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, Poisson, StandardNormal};

use super::stats::argmax;
use super::*;
use crate::domain::trace::{CsvMapping, TimeUnit};
use crate::domain::traffic::{shape_profile, TokenDist, Z90};
use crate::input::trace::parse_datetime;
use crate::model::rng::{stream, Purpose, SimRng};

/// A trace in the repository (llmcap's own samples).
pub(crate) fn shipped(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/traces")
        .join(file)
}

/// The generic CSV layout of the synthetic traces: t (s), in, out.
pub(crate) fn csv_format() -> TraceFormat {
    TraceFormat::Csv(CsvMapping {
        time: "t".into(),
        time_unit: TimeUnit::Seconds,
        input: "in".into(),
        output: "out".into(),
        model: None,
    })
}

/// Writes `(time_s, input, output)` rows as a CSV trace.
pub(crate) fn write_trace(path: &Path, rows: &[(f64, u32, u32)]) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "t,in,out").unwrap();
    for (t, i, o) in rows {
        writeln!(w, "{t:.6},{i},{o}").unwrap();
    }
}

/// A lognormal token count from its median and p90, rounded, at least 1.
fn lognormal_tokens(rng: &mut SimRng, median: f64, p90: f64) -> u32 {
    let sigma = (p90 / median).ln() / Z90;
    let z: f64 = StandardNormal.sample(rng);
    ((median.ln() + sigma * z).exp().round() as u32).max(1)
}

/// A Poisson process at `rate` per second for `seconds`, with lognormal
/// tokens (input median 500 p90 2000; output median 200 p90 600).
pub(crate) fn poisson_trace(seed: u64, rate: f64, seconds: f64) -> Vec<(f64, u32, u32)> {
    let mut rng = stream(seed, 0, Purpose::Arrivals, 0);
    let mut t = 0.0;
    let mut rows = Vec::new();
    loop {
        let e: f64 = Exp1.sample(&mut rng);
        t += e / rate;
        if t >= seconds {
            return rows;
        }
        let i = lognormal_tokens(&mut rng, 500.0, 2000.0);
        let o = lognormal_tokens(&mut rng, 200.0, 600.0);
        rows.push((t, i, o));
    }
}

/// Counts per interval of `seconds`: each interval's rate is `rate(t)`
/// times a Gamma factor (mean 1, variance k; none for k = 0); the count
/// is Poisson and the times uniform within the interval.
pub(crate) fn gamma_poisson_trace(
    seed: u64,
    rate: impl Fn(f64) -> f64,
    k: f64,
    interval: f64,
    seconds: f64,
) -> Vec<(f64, u32, u32)> {
    let mut rng = stream(seed, 0, Purpose::Arrivals, 1);
    let gamma = (k > 0.0).then(|| Gamma::new(1.0 / k, k).unwrap());
    let mut rows = Vec::new();
    let mut start = 0.0;
    while start < seconds {
        let g = gamma.map(|g| g.sample(&mut rng)).unwrap_or(1.0);
        let mean = rate(start) * interval * g;
        let n = if mean > 0.0 {
            Poisson::new(mean).unwrap().sample(&mut rng) as usize
        } else {
            0
        };
        let mut ts: Vec<f64> = (0..n)
            .map(|_| start + rng.random::<f64>() * interval)
            .collect();
        ts.sort_by(f64::total_cmp);
        rows.extend(ts.into_iter().map(|t| (t, 100, 10)));
        start += interval;
    }
    rows
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a / b - 1.0).abs() <= rel
}

#[test]
fn burstgpt_sample() {
    let b = fit(&shipped("burstgpt_sample.csv"), TraceFormat::BurstGpt, 60.0).unwrap();
    assert_eq!(b.requests, 6);
    assert_eq!(b.bad_rows.total, 0);
    assert!(b.arrivals.overdispersion >= 0.0);
}

#[test]
fn poisson_trace_is_fitted_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("poisson.csv");
    // Two hours at 10 requests/s.
    let rows = poisson_trace(42, 10.0, 7200.0);
    write_trace(&path, &rows);
    let f = fit(&path, csv_format(), 60.0).unwrap();
    assert_eq!(f.requests, rows.len() as u64);
    let a = &f.arrivals;
    assert!(close(a.mean_rps, 10.0, 0.03), "rate {}", a.mean_rps);
    let idc = a.index_of_dispersion.unwrap();
    assert!((0.6..1.4).contains(&idc), "index of dispersion {idc}");
    assert!(a.overdispersion < 0.01, "k {}", a.overdispersion);
    for (t, median, p90) in [
        (&f.input_tokens, 500.0, 2000.0),
        (&f.output_tokens, 200.0, 600.0),
    ] {
        assert!(close(t.lognormal.median, median, 0.03), "{t:?}");
        assert!(close(t.lognormal.p90, p90, 0.05), "{t:?}");
        // The trace is what llmcap would sample: the KS distance is
        // sampling noise (~1/sqrt(n) = 0.004).
        assert!(t.lognormal.ks < 0.012, "KS {}", t.lognormal.ks);
    }
}

#[test]
fn gamma_poisson_trace_is_fitted_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bursty.csv");
    // 23 hours (no hour-of-day profile), 2 requests/s, k = 0.5 per 60 s.
    let rows = gamma_poisson_trace(7, |_| 2.0, 0.5, 60.0, 23.0 * 3600.0);
    write_trace(&path, &rows);
    let f = fit(&path, csv_format(), 60.0).unwrap();
    let a = &f.arrivals;
    assert!(a.hourly.is_none());
    assert!(close(a.mean_rps, 2.0, 0.05), "rate {}", a.mean_rps);
    assert!(close(a.overdispersion, 0.5, 0.25), "k {}", a.overdispersion);
    assert_eq!(a.interval_s, 60);
    // IDC = 1 + k m with m = 120.
    assert!(a.index_of_dispersion.unwrap() > 30.0);
}

#[test]
fn daily_profile_is_fitted_and_not_taken_for_burstiness() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("diurnal.csv");
    let shape = shape_profile(14.0, 3.0);
    let rows = gamma_poisson_trace(
        3,
        |t| shape[((t / 3600.0) as usize) % 24],
        0.0,
        60.0,
        3.0 * 86_400.0,
    );
    write_trace(&path, &rows);
    let f = fit(&path, csv_format(), 60.0).unwrap();
    let a = &f.arrivals;
    let hourly = a.hourly.as_ref().expect("a profile from 3 days");
    assert_eq!(a.hourly_basis, "hour 0 = the first request's hour");
    // The first request is within the first second, so hour h of the
    // trace is hour h of the profile.
    assert!(rows[0].0 < 1.0);
    for h in 0..24 {
        assert!(
            close(hourly[h], shape[h], 0.05),
            "hour {h}: {} vs {}",
            hourly[h],
            shape[h]
        );
    }
    assert!((hourly.iter().sum::<f64>() / 24.0 - 1.0).abs() < 1e-9);
    // Counts against the flat mean vary far more than Poisson, but
    // against the profile they do not.
    assert!(a.index_of_dispersion.unwrap() > 5.0);
    assert!(a.overdispersion < 0.01, "k {}", a.overdispersion);
    assert!(close(a.mean_rps, 1.0, 0.02));
}

#[test]
fn wall_clock_profile_uses_utc_hours() {
    // Two days in the Azure format starting at 22:30 UTC, busy only from
    // 09:00 to 10:00 UTC.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wall.csv");
    let start = parse_datetime("2024-03-01 22:30:00").unwrap();
    let mut text = String::from("TIMESTAMP,ContextTokens,GeneratedTokens\n");
    let mut t = start;
    while t < start + 2.0 * 86_400.0 {
        let hour = ((t / 3600.0).floor() as i64).rem_euclid(24);
        let step = if hour == 9 { 1.0 } else { 10.0 };
        let s = utc(t);
        text.push_str(&format!("{s}.{:03},10,5\n", ((t.fract()) * 1000.0) as u32));
        t += step;
    }
    std::fs::write(&path, text).unwrap();
    let f = fit(&path, TraceFormat::Azure, 60.0).unwrap();
    let h = f.arrivals.hourly.as_ref().unwrap();
    assert_eq!(argmax(h), 9);
    assert!(close(h[9] / h[3], 10.0, 0.02), "{h:?}");
    assert_eq!(f.arrivals.hourly_basis, "UTC");
}

#[test]
fn bad_rows_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "t,in,out\n0,10,5\nnoon,10,5\n1,-3,5\n2,10,5\n1.5,10,5\n3,10,x\n4,10,5\n5,7,\n",
    )
    .unwrap();
    let f = fit(&path, csv_format(), 60.0).unwrap();
    assert_eq!(f.requests, 3);
    assert_eq!(f.bad_rows.total, 5);
    let kinds: Vec<(&str, u64, Vec<u64>)> = f
        .bad_rows
        .kinds
        .iter()
        .map(|k| (k.kind, k.count, k.first_lines.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("unparsable time", 1, vec![3]),
            ("bad token count", 3, vec![4, 7, 9]),
            ("time before the previous row", 1, vec![6]),
        ]
    );
    assert!(f.bad_rows.kinds[0].first_message.contains("noon"));
}

#[test]
fn unusable_inputs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    write_trace(&path, &[(0.0, 1, 1), (10.0, 1, 1)]);
    for bad in [0.0, 7.0, 2.5, -60.0, f64::NAN, 7200.0] {
        let e = fit(&path, csv_format(), bad).unwrap_err();
        assert_eq!(e.path(), "--interval", "{bad}: {e}");
    }
    assert!(fit(&path, csv_format(), 3600.0).is_ok());
    write_trace(&path, &[(5.0, 1, 1)]);
    assert!(fit(&path, csv_format(), 60.0)
        .unwrap_err()
        .to_string()
        .contains("at least 2"));
    write_trace(&path, &[(5.0, 1, 1), (5.0, 2, 2)]);
    assert!(fit(&path, csv_format(), 60.0)
        .unwrap_err()
        .to_string()
        .contains("same time"));
    assert!(matches!(
        fit(&dir.path().join("missing.csv"), csv_format(), 60.0),
        Err(InputError::Read { .. })
    ));
    // A time in ms read as seconds: a span of centuries.
    write_trace(&path, &[(0.0, 1, 1), (1.7e12, 1, 1)]);
    assert!(fit(&path, csv_format(), 60.0)
        .unwrap_err()
        .to_string()
        .contains("longer interval"));
}

#[test]
fn short_trace_has_no_burstiness_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.csv");
    write_trace(&path, &[(0.0, 1, 1), (30.0, 2, 2), (70.0, 3, 3)]);
    let f = fit(&path, csv_format(), 60.0).unwrap();
    assert_eq!(f.arrivals.intervals, 1);
    assert_eq!(f.arrivals.index_of_dispersion, None);
    assert_eq!(f.arrivals.overdispersion, 0.0);
    assert!(f
        .arrivals
        .overdispersion_note
        .as_deref()
        .unwrap()
        .contains("at least 2"));
}

#[test]
fn quantiles_interpolate_like_numpy() {
    let s = [1, 2, 3, 4];
    assert_eq!(quantile(&s, 0.5), 2.5);
    assert_eq!(quantile(&s, 0.0), 1.0);
    assert_eq!(quantile(&s, 1.0), 4.0);
    assert_eq!(quantile(&s, 0.9), 3.7);
    assert_eq!(quantile(&[7], 0.3), 7.0);
    assert_eq!(quantile(&[], 0.3), 0.0);
}

#[test]
fn sampled_cdf_matches_the_sampler() {
    let dists = [
        TokenDist::lognormal(20.0, 80.0, 150),
        TokenDist::Empirical {
            points: vec![(0.0, 0.0), (0.5, 10.0), (0.9, 40.0), (1.0, 300.0)],
            max: 200,
        },
    ];
    for d in &dists {
        let mut rng = stream(5, 0, Purpose::Tokens, 0);
        let n = 400_000;
        let mut v: Vec<u32> = (0..n).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        for k in [
            0.0, 1.0, 3.0, 10.0, 19.0, 20.0, 40.0, 149.0, 150.0, 199.0, 200.0,
        ] {
            let freq = v.partition_point(|&x| x as f64 <= k) as f64 / n as f64;
            let p = sampled_cdf(d, k);
            assert!(
                (freq - p).abs() < 0.004,
                "{}: P(<= {k}) = {p}, sampled {freq}",
                d.describe()
            );
        }
        // The KS distance of a large sample from its own distribution is small.
        assert!(ks_distance(&v, |k| sampled_cdf(d, k)) < 0.004);
    }
}

#[test]
fn ks_distance_of_step_functions() {
    // Sample {1, 2, 2, 4}; against a point mass at 2, the gap is largest
    // at 1 (1/4 vs 0) or at 2 (3/4 vs 1) or at 3 (3/4 vs 1): 0.25.
    let s = [1, 2, 2, 4];
    let point = |k: f64| if k >= 2.0 { 1.0 } else { 0.0 };
    assert!((ks_distance(&s, point) - 0.25).abs() < 1e-12);
    // Against its own ECDF: 0.
    let own = |k: f64| s.iter().filter(|&&v| v as f64 <= k).count() as f64 / 4.0;
    assert_eq!(ks_distance(&s, own), 0.0);
    // Against a point mass at 10, everything is below: 1.
    assert_eq!(ks_distance(&s, |k| if k >= 10.0 { 1.0 } else { 0.0 }), 1.0);
}

#[test]
fn reservoir_keeps_a_uniform_sample_and_exact_totals() {
    let mut acc = Accumulator::new(60.0, false, 1000);
    let n = 100_000u32;
    for i in 0..n {
        acc.add(i as f64 * 0.01, i, n - i).unwrap();
    }
    let t = acc.input.finish();
    assert_eq!(t.sampled, 1000);
    assert!(t.reservoir);
    assert_eq!((t.min, t.max, t.requests), (0, n - 1, n as u64));
    assert!((t.mean - (n - 1) as f64 / 2.0).abs() < 1e-6);
    // Uniform over 0..n: the sample's median is near n / 2.
    let median = t.quantile(50.0).unwrap();
    assert!(close(median, n as f64 / 2.0, 0.1), "{median}");
    let o = acc.output.finish();
    assert_eq!(o.sampled, 1000);
}

#[test]
fn utc_formats_and_round_trips() {
    assert_eq!(utc(0.0), "1970-01-01 00:00:00");
    assert_eq!(utc(1_709_542_800.25), "2024-03-04 09:00:00");
    for s in [
        "2000-02-29 12:34:56",
        "1999-12-31 23:59:59",
        "2024-03-01 00:00:00",
    ] {
        assert_eq!(utc(parse_datetime(s).unwrap()), s);
    }
    assert_eq!(duration(59.0), "59 seconds");
    assert_eq!(duration(3501.7), "58.4 minutes");
    assert_eq!(duration(86_400.0), "24.0 hours");
    assert_eq!(duration(10.0 * 86_400.0), "10.0 days");
}
