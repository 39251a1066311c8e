//! Tests of fits to usage exports: a generated export whose shape is known by hand, the three
//! formats agreeing, gaps, repeats and bad input.

use std::fmt::Write as _;

use super::*;
use crate::input::usage::PerMinuteColumns;

/// One bin: (start, requests, input tokens, output tokens).
type Minute = (i64, u64, f64, f64);

/// 2026-01-05 00:00:00 UTC, a Monday.
const MONDAY: i64 = 1_767_571_200;

/// Requests in the minute starting at `t`: 20 x hourly x weekday, with hourly 1.5 from 06:00 to
/// 18:00 UTC and 0.5 otherwise (mean 1) and weekday 1.2 Monday to Friday, 0.5 on Saturday and
/// Sunday (mean 1): 36, 12, 15 or 5, so the counts are whole and follow the profile exactly.
fn requests_at(t: i64) -> u64 {
    let hour = (t.rem_euclid(86_400)) / 3600;
    let weekday = crate::domain::time::weekday(t.div_euclid(86_400));
    let h = if (6..18).contains(&hour) { 1.5 } else { 0.5 };
    let w = if weekday < 5 { 1.2 } else { 0.5 };
    (20.0 * h * w) as u64
}

/// `(start, requests, input, output)` per minute for `days` days from MONDAY: 500 input and
/// 100 output tokens per request.
fn minutes(days: i64) -> Vec<Minute> {
    (0..days * 1440)
        .map(|m| {
            let t = MONDAY + m * 60;
            let r = requests_at(t);
            (t, r, 500.0 * r as f64, 100.0 * r as f64)
        })
        .collect()
}

fn per_minute_csv(rows: &[Minute]) -> String {
    let mut s = String::from("time,requests,input_tokens,output_tokens\n");
    for (t, r, i, o) in rows {
        let _ = writeln!(s, "{},{r},{i},{o}", crate::domain::time::utc(*t as f64));
    }
    s
}

fn per_minute() -> UsageFormat {
    UsageFormat::PerMinute(PerMinuteColumns::default())
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn err(path: &Path, format: &UsageFormat) -> String {
    fit_usage(path, format, None).unwrap_err().to_string()
}

/// Two weeks per minute with the shape of [`requests_at`], fitted back exactly: 403,200 requests
/// (a week: 5 days x (720 x 36 + 720 x 12) + 2 days x (720 x 15 + 720 x 5) = 201,600) over
/// 1,209,600 s = 1/3 req/s; hourly 1.5 / 0.5; weekday 1.2 / 0.5; the counts follow the profile
/// exactly, so k = 0; 500 and 100 tokens per request.
#[test]
fn a_generated_export_is_fitted_back_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "two_weeks.csv", &per_minute_csv(&minutes(14)));
    let f = fit_usage(&path, &per_minute(), None).unwrap();
    assert_eq!(f.requests, 403_200);
    assert_eq!(f.span_s, 1_209_600.0);
    let a = &f.arrivals;
    assert!((a.mean_rps - 1.0 / 3.0).abs() < 1e-12, "{}", a.mean_rps);
    assert_eq!(a.interval_s, 60);
    assert_eq!(a.intervals, 20_160);
    let hourly = a.hourly.as_ref().unwrap();
    for (h, v) in hourly.iter().enumerate() {
        let want = if (6..18).contains(&h) { 1.5 } else { 0.5 };
        assert!((v - want).abs() < 1e-9, "hour {h}: {v}");
    }
    let weekday = a.weekday.as_ref().unwrap();
    for (d, v) in weekday.iter().enumerate() {
        let want = if d < 5 { 1.2 } else { 0.5 };
        assert!((v - want).abs() < 1e-9, "day {d}: {v}");
    }
    assert_eq!(a.overdispersion, 0.0);
    // The shape is hourly x weekday exactly: the hour-of-week profile gains nothing.
    assert!(a.hour_of_week.is_none(), "{}", a.hour_of_week_note);
    assert!(
        a.hour_of_week_note.starts_with("not used"),
        "{}",
        a.hour_of_week_note
    );
    assert!((f.input_tokens.mean - 500.0).abs() < 1e-9);
    assert!((f.output_tokens.mean - 100.0).abs() < 1e-9);
    let u = f.usage.as_ref().unwrap();
    assert_eq!(
        (u.grain_s, u.rows, u.missing_bins, u.duplicates),
        (60, 20_160, 0, 0)
    );

    // Counted per 5 minutes: the same rate and shape, 4,032 intervals.
    let f5 = fit_usage(&path, &per_minute(), Some(300.0)).unwrap();
    assert_eq!(f5.arrivals.intervals, 4_032);
    assert_eq!(f5.arrivals.mean_rps, a.mean_rps);
    assert_eq!(f5.arrivals.weekday, a.weekday);
}

/// Burstiness a per-minute export reveals: minutes alternating 0 and 20 requests (mean 10,
/// variance 10 x 10 x 20160/20159) have variance/mean about 10, so k = (10 - 1) / 10 = 0.9 with
/// no profile (one day less than a week and flat hours: 12 hours of data).
#[test]
fn alternating_minutes_are_overdispersed() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Minute> = (0..720)
        .map(|m| {
            let r = if m % 2 == 0 { 0 } else { 20 };
            (MONDAY + m * 60, r, 10.0 * r as f64, r as f64)
        })
        .collect();
    let path = write(dir.path(), "alt.csv", &per_minute_csv(&rows));
    let f = fit_usage(&path, &per_minute(), None).unwrap();
    let a = &f.arrivals;
    // Sample variance: 720 values of ±10 around 10: 100 x 720 / 719.
    let idc = 100.0 * 720.0 / 719.0 / 10.0;
    assert!((a.index_of_dispersion.unwrap() - idc).abs() < 1e-9);
    assert!((a.overdispersion - (idc - 1.0) / 10.0).abs() < 1e-9);
    assert!(a.hourly.is_none() && a.weekday.is_none());
}

/// A gap is counted as zero requests and reported; an identical repeat is dropped; a repeat
/// with another value names both lines.
#[test]
fn gaps_and_repeats_are_handled_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let t = |m: i64| crate::domain::time::utc((MONDAY + m * 60) as f64);
    // Minutes 0, 1, (1 again), 4, 5: minutes 2 and 3 are missing.
    let text = format!(
        "time,requests,input_tokens,output_tokens\n{},10,1000,100\n{},20,2000,200\n{},20,2000,200\n{},30,3000,300\n{},,,\n",
        t(0),
        t(1),
        t(1),
        t(4),
        t(5)
    );
    let path = write(dir.path(), "gaps.csv", &text);
    let f = fit_usage(&path, &per_minute(), None).unwrap();
    let u = f.usage.as_ref().unwrap();
    assert_eq!(
        (u.rows, u.missing_bins, u.longest_gap_s, u.duplicates),
        (4, 2, 120, 1)
    );
    // 60 requests over 6 minutes (the last bin ends at minute 6).
    assert_eq!(f.requests, 60);
    assert!((f.arrivals.mean_rps - 60.0 / 360.0).abs() < 1e-12);
    assert_eq!(f.arrivals.counts, vec![10, 20, 0, 0, 30, 0]);
    assert!((f.input_tokens.mean - 100.0).abs() < 1e-12);

    let conflict = text.replace(&format!("{},20,2000,200\n", t(1)), "")
        + &format!("{},21,2000,200\n{},20,2000,200\n", t(6), t(6));
    let path = write(dir.path(), "conflict.csv", &conflict);
    let e = err(&path, &per_minute());
    assert!(e.contains("line 6"), "{e}");
    assert!(e.contains("at line 5"), "{e}");
    assert!(e.contains("listed again with another value"), "{e}");
}

/// Bad input names the file and the line, or the columns found.
#[test]
fn bad_exports_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "time,requests,prompt,output_tokens\n2026-01-05 00:00:00,1,2,3\n",
            vec![
                "no column \"input_tokens\"",
                "it has: time, requests, prompt, output_tokens",
            ],
        ),
        (
            "time,requests,input_tokens,output_tokens\n2026-01-05 00:00:00,1,2,3\nnoon,1,2,3\n",
            vec!["line 3", "\"noon\" is not a time"],
        ),
        (
            "time,requests,input_tokens,output_tokens\n2026-01-05 00:00:00,1,2,3\n2026-01-05 00:01:00,-4,2,3\n",
            vec!["line 3", "must be a number from 0"],
        ),
        (
            "time,requests,input_tokens,output_tokens\n2026-01-05 00:00:00,1.5,2,3\n2026-01-05 00:01:00,1,2,3\n",
            vec!["line 2", "requests must be a whole number, got 1.5"],
        ),
        (
            "time,requests,input_tokens,output_tokens\n2026-01-05 00:00:00,1,2,3\n",
            vec!["needs at least 2 time bins"],
        ),
        (
            "time,requests,input_tokens,output_tokens\n2026-01-05 00:00:00,1,2,3\n2026-01-05 00:00:07,1,2,3\n",
            vec!["the bins are 7 s apart"],
        ),
        (
            "time,requests,input_tokens,output_tokens\n2026-01-05 00:00:00,1,2,3\n2026-01-07 00:00:00,1,2,3\n",
            vec!["172800 s apart"],
        ),
        (
            "time,requests,input_tokens,output_tokens\n2026-01-05 00:00:00,0,0,0\n2026-01-05 00:01:00,0,0,0\n",
            vec!["hold no request"],
        ),
    ];
    for (text, says) in cases {
        let path = write(dir.path(), "bad.csv", text);
        let e = err(&path, &per_minute());
        assert!(e.contains("bad.csv"), "{e}");
        for s in &says {
            assert!(e.contains(s), "{text}\n{e}\nwants {s}");
        }
    }
    // An interval that is not a multiple of the bins.
    let path = write(
        dir.path(),
        "five.csv",
        "time,requests,input_tokens,output_tokens\n2026-01-05 00:00:00,1,2,3\n2026-01-05 00:05:00,1,2,3\n",
    );
    let e = fit_usage(&path, &per_minute(), Some(60.0))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--interval") && e.contains("multiple of the export's bins (300 s apart)"),
        "{e}"
    );
}

/// The rows of [`minutes`] over a day as `az monitor metrics list` JSON, each metric split in two
/// time series (a dimension) that add up, with utilization as `average`.
fn azure_json(rows: &[Minute]) -> String {
    let series = |name: &str, agg: &str, f: &dyn Fn(&Minute) -> f64, half: bool| {
        let points = |share: f64| -> String {
            rows.iter()
                .map(|r| {
                    format!(
                        "{{\"timeStamp\": \"{}Z\", \"{agg}\": {}}}",
                        crate::domain::time::utc(r.0 as f64).replace(' ', "T"),
                        f(r) * share
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let ts = if half {
            format!(
                "[{{\"metadatavalues\": [], \"data\": [{}]}}, {{\"metadatavalues\": [], \"data\": [{}]}}]",
                points(0.5),
                points(0.5)
            )
        } else {
            format!("[{{\"metadatavalues\": [], \"data\": [{}]}}]", points(1.0))
        };
        format!(
            "{{\"id\": \"x\", \"type\": \"Microsoft.Insights/metrics\", \"name\": {{\"value\": \"{name}\", \"localizedValue\": \"{name}\"}}, \"unit\": \"Count\", \"timeseries\": {ts}}}"
        )
    };
    format!(
        "{{\"cost\": 0, \"interval\": \"PT1M\", \"namespace\": \"Microsoft.CognitiveServices/accounts\", \"value\": [{}, {}, {}, {}]}}",
        series("AzureOpenAIRequests", "total", &|r| 2.0 * r.1 as f64 / 2.0, true),
        series("ProcessedPromptTokens", "total", &|r| r.2, true),
        series("GeneratedTokens", "total", &|r| r.3, false),
        series("ProvisionedManagedUtilizationV2", "average", &|r| r.1 as f64, false),
    )
}

/// The same rows as `aws cloudwatch get-metric-data` output: newest first (CloudWatch's
/// default), in two pages appended to one file, a latency series, ISO 8601 timestamps.
fn cloudwatch_json(rows: &[Minute]) -> String {
    let result = |id: &str, rows: &[Minute], f: &dyn Fn(&Minute) -> f64| {
        let mut rows = rows.to_vec();
        rows.reverse();
        let ts: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "\"{}+00:00\"",
                    crate::domain::time::utc(r.0 as f64).replace(' ', "T")
                )
            })
            .collect();
        let vs: Vec<String> = rows.iter().map(|r| format!("{:.1}", f(r))).collect();
        format!(
            "{{\"Id\": \"{id}\", \"Label\": \"{id}\", \"Timestamps\": [{}], \"Values\": [{}], \"StatusCode\": \"Complete\"}}",
            ts.join(", "),
            vs.join(", ")
        )
    };
    let half = rows.len() / 2;
    let page = |rows: &[Minute]| {
        format!(
            "{{\"MetricDataResults\": [{}, {}, {}, {}], \"Messages\": []}}\n",
            result("invocations", rows, &|r| r.1 as f64),
            result("inputTokenCount", rows, &|r| r.2),
            result("outputTokenCount", rows, &|r| r.3),
            result("invocationLatency", rows, &|_| 800.0),
        )
    };
    page(&rows[half..]) + &page(&rows[..half])
}

/// One day of the generated minutes read from the three formats: the same fit.
#[test]
fn the_three_formats_agree() {
    let dir = tempfile::tempdir().unwrap();
    let rows = minutes(1);
    let csv = write(dir.path(), "day.csv", &per_minute_csv(&rows));
    let az = write(dir.path(), "day_az.json", &azure_json(&rows));
    let cw = write(dir.path(), "day_cw.json", &cloudwatch_json(&rows));
    let a = fit_usage(&csv, &per_minute(), None).unwrap();
    // A Monday: 720 x 36 + 720 x 12 = 34,560 requests.
    assert_eq!(a.requests, 34_560);
    for (path, format) in [
        (&az, UsageFormat::AzureMonitor),
        (&cw, UsageFormat::CloudWatch),
    ] {
        let b = fit_usage(path, &format, None).unwrap();
        assert_eq!(b.requests, a.requests, "{format:?}");
        assert_eq!(b.arrivals.counts, a.arrivals.counts, "{format:?}");
        assert_eq!(b.arrivals.hourly, a.arrivals.hourly, "{format:?}");
        assert_eq!(b.input_tokens.mean, 500.0, "{format:?}");
        assert_eq!(b.output_tokens.mean, 100.0, "{format:?}");
        let u = b.usage.unwrap();
        assert_eq!(u.observed.len(), 1, "{format:?}");
        let o = &u.observed[0];
        match format {
            UsageFormat::AzureMonitor => {
                assert_eq!(o.metric, "ProvisionedManagedUtilizationV2");
                // Half the minutes at 36, half at 12.
                assert_eq!((o.mean, o.max), (24.0, 36.0));
            }
            _ => assert_eq!((o.metric.as_str(), o.mean), ("InvocationLatency", 800.0)),
        }
    }
}

/// Vendor exports missing a metric name it and list what the file has.
#[test]
fn a_missing_metric_is_named_with_the_metrics_found() {
    let dir = tempfile::tempdir().unwrap();
    let rows = minutes(1);
    let az = azure_json(&rows[..10]).replace("GeneratedTokens", "ActiveTokens");
    let e = err(
        &write(dir.path(), "az.json", &az),
        &UsageFormat::AzureMonitor,
    );
    assert!(e.contains("no metric \"GeneratedTokens\""), "{e}");
    assert!(
        e.contains("AzureOpenAIRequests, ProcessedPromptTokens, ActiveTokens"),
        "{e}"
    );
    let cw = cloudwatch_json(&rows[..10]).replace("outputTokenCount", "tokens_out");
    let e = err(&write(dir.path(), "cw.json", &cw), &UsageFormat::CloudWatch);
    assert!(
        e.contains("no result with Id or Label \"OutputTokenCount\""),
        "{e}"
    );
    assert!(e.contains("tokens_out"), "{e}");
    let e = err(
        &write(dir.path(), "x.json", "{\"value\": 3}"),
        &UsageFormat::CloudWatch,
    );
    assert!(e.contains("MetricDataResults"), "{e}");
    let e = err(
        &write(dir.path(), "y.json", "{\"value\": [\n"),
        &UsageFormat::AzureMonitor,
    );
    assert!(e.contains("not JSON") && e.contains("line 2"), "{e}");
}

/// Office hours: 30 requests a minute 09:00-17:00 UTC on weekdays, 6 at every other hour of the
/// week (a flat weekend), for two weeks. No hourly x weekday product gives that, so the fit
/// uses the hour-of-week profile: the week's mean is (5 x 8 x 30 + 128 x 6) / 168 = 11.714 a
/// minute, so office hours are 30 / 11.714 = 2.561 and the rest 6 / 11.714 = 0.512, exactly;
/// the counts then follow the profile exactly (k = 0).
#[test]
fn office_hours_are_fitted_as_an_hour_of_week_profile() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Minute> = (0..14 * 1440)
        .map(|m| {
            let t = MONDAY + m * 60;
            let hour = t.rem_euclid(86_400) / 3600;
            let day = crate::domain::time::weekday(t.div_euclid(86_400));
            let r = if day < 5 && (9..17).contains(&hour) {
                30
            } else {
                6
            };
            (t, r, 800.0 * r as f64, 150.0 * r as f64)
        })
        .collect();
    let path = write(dir.path(), "office.csv", &per_minute_csv(&rows));
    let f = fit_usage(&path, &per_minute(), None).unwrap();
    let a = &f.arrivals;
    let w = a
        .hour_of_week
        .as_ref()
        .unwrap_or_else(|| panic!("{}", a.hour_of_week_note));
    assert!(
        a.hour_of_week_note.starts_with("used"),
        "{}",
        a.hour_of_week_note
    );
    let mean = (5.0 * 8.0 * 30.0 + 128.0 * 6.0) / 168.0;
    for (i, v) in w.iter().enumerate() {
        let (day, hour) = (i / 24, i % 24);
        let want = if day < 5 && (9..17).contains(&hour) {
            30.0
        } else {
            6.0
        } / mean;
        assert!(
            (v - want).abs() < 1e-9,
            "hour {hour} of day {day}: {v} vs {want}"
        );
    }
    assert_eq!(a.overdispersion, 0.0);
    // The expected counts are the data: office minutes 30, the others 6.
    assert!(a
        .expected
        .iter()
        .zip(&a.counts)
        .all(|(e, &c)| (e - c as f64).abs() < 1e-9));
}
