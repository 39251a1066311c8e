//! A class that replays a trace: the trace keys checked, then one streaming pass
//! over the file for its usable rows, span, mean tokens and the requests the
//! replay puts in each simulated hour.

use crate::domain::limits::{MAX_HORIZON_HOURS, MAX_TILED_PASSES};
use crate::domain::trace::{CsvMapping, TimeUnit, TraceFormat, FORMATS, TIME_UNITS};
use crate::domain::{ArrivalProcess, ArrivalSpec, Growth, TraceSource, TraceStats};
use crate::error::InputError;
use crate::input::document::{ms_to_us, Checker};
use crate::input::scenario::expected::{expected_per_hour, Layout, SecondCounts};
use crate::input::scenario::raw::RawArrivals;
use crate::input::trace::TraceReader;

/// A flat arrival spec with the trace's mean rate, for reports.
pub(super) fn trace_summary(t: &TraceSource) -> ArrivalSpec {
    let st = &t.stats;
    let span = (t.period_us() as f64 / 1e6).max(1e-9);
    ArrivalSpec {
        hour_of_week: None,
        process: ArrivalProcess::Poisson,
        mean_rps: st.requests as f64 * t.rate_scale / span,
        hourly: [1.0; 24],
        weekday: [1.0; 7],
        overdispersion: 0.0,
        burst_interval_s: 60,
        growth: Growth::None,
        seasonality: [1.0; 12],
    }
}

/// A trace brings its own timing: the profile keys must be left out.
fn no_profile_keys(c: &Checker, p: &str, a: &RawArrivals) -> Result<(), InputError> {
    for (k, v) in [
        ("mean_rps", a.mean_rps.is_some()),
        ("process", a.process.is_some()),
        ("hourly", a.hourly.is_some()),
        ("peak_hour", a.peak_hour.is_some()),
        ("peak_to_trough", a.peak_to_trough.is_some()),
        ("weekday", a.weekday.is_some()),
        ("hour_of_week", a.hour_of_week.is_some()),
        ("overdispersion", a.overdispersion.is_some()),
        ("burst_interval_s", a.burst_interval_s.is_some()),
        ("growth", a.growth.is_some()),
        ("seasonality", a.seasonality.is_some()),
    ] {
        if v {
            return Err(c.err(
                format!("{p}.{k}"),
                "does not apply when arrivals come from a trace (use time_scale, rate_scale, offset_s, tile)",
            ));
        }
    }
    Ok(())
}

/// A class whose arrivals replay a trace: its keys checked, the file read once for its usable
/// rows, span and mean tokens, and the requests the replay puts in each simulated hour.
pub(super) fn validate_trace(
    c: &Checker,
    p: &str,
    file: &str,
    a: &RawArrivals,
    horizon_hours: u32,
) -> Result<TraceSource, InputError> {
    no_profile_keys(c, p, a)?;
    let format = trace_format(c, p, a)?;
    let time_scale = c.range(
        &format!("{p}.time_scale"),
        a.time_scale.unwrap_or(1.0),
        1e-6,
        1e6,
    )?;
    let rate_scale = c.range(
        &format!("{p}.rate_scale"),
        a.rate_scale.unwrap_or(1.0),
        0.0,
        1000.0,
    )?;
    let offset_s = c.range(
        &format!("{p}.offset_s"),
        a.offset_s.unwrap_or(0.0),
        0.0,
        MAX_HORIZON_HOURS * 3600.0,
    )?;
    let skip_bad_rows = match a.bad_rows.as_deref().unwrap_or("stop") {
        "stop" => false,
        "skip" => true,
        other => {
            return Err(c.err(
                format!("{p}.bad_rows"),
                format!("unknown value \"{other}\"; allowed: stop, skip"),
            ))
        }
    };
    // Relative to the scenario file's folder.
    let path = c
        .file
        .parent()
        .map(|d| d.join(file))
        .unwrap_or_else(|| std::path::PathBuf::from(file));
    let reader = TraceReader::open(&path, format.clone())
        .map_err(|e| c.err(format!("{p}.trace"), format!("\"{file}\": {e}")))?;
    let (st, per_second) = scan_rows(c, p, file, a, reader, skip_bad_rows)?;
    let tile = a.tile.unwrap_or(false);
    if tile && st.last_s <= st.first_s {
        return Err(c.err(
            format!("{p}.tile"),
            format!("\"{file}\": every usable row has the same time, so the trace has no length to repeat"),
        ));
    }
    let mut src = TraceSource {
        path,
        format,
        model: a.model.clone(),
        time_scale,
        rate_scale,
        offset_us: ms_to_us(offset_s * 1000.0),
        tile,
        skip_bad_rows,
        stats: st,
    };
    let layout = Layout {
        horizon_hours,
        offset_s: src.offset_us as f64 / 1e6,
        period_s: src.period_us() as f64 / 1e6,
        time_scale,
        rate_scale,
        tile,
    };
    // Each pass is read from the file again: a bound on the work of a replay.
    if layout.passes() > MAX_TILED_PASSES {
        return Err(c.err(
            format!("{p}.time_scale"),
            format!(
                "\"{file}\" tiled over {horizon_hours} h would be replayed {:.3e} times (one pass lasts {:.3e} s); at most {MAX_TILED_PASSES:.0e} passes are allowed: lower time_scale or the horizon",
                layout.passes(),
                layout.period_s
            ),
        ));
    }
    let expected = expected_per_hour(&per_second, &layout);
    src.stats.expected_per_hour = expected;
    Ok(src)
}

/// The trace's format and, for `csv`, its column mapping; the csv-only keys are refused with
/// the other formats, and `model` needs a trace with a model column.
fn trace_format(c: &Checker, p: &str, a: &RawArrivals) -> Result<TraceFormat, InputError> {
    let format_name = a.format.as_deref().unwrap_or("");
    c.one_of(&format!("{p}.format"), format_name, FORMATS)?;
    let col = |k: &str, v: &Option<String>| -> Result<String, InputError> {
        v.clone()
            .ok_or_else(|| c.err(format!("{p}.{k}"), "is needed with format = \"csv\""))
    };
    let format = match format_name {
        "azure" => TraceFormat::Azure,
        "burstgpt" => TraceFormat::BurstGpt,
        "mooncake" => TraceFormat::Mooncake,
        _ => {
            let unit = a.time_unit.as_deref().unwrap_or("s");
            c.one_of(&format!("{p}.time_unit"), unit, TIME_UNITS)?;
            TraceFormat::Csv(CsvMapping {
                time: col("time_column", &a.time_column)?,
                time_unit: TimeUnit::parse(unit).unwrap_or(TimeUnit::Seconds),
                input: col("input_column", &a.input_column)?,
                output: col("output_column", &a.output_column)?,
                model: a.model_column.clone(),
            })
        }
    };
    if format_name != "csv" {
        for (k, v) in [
            ("time_column", &a.time_column),
            ("time_unit", &a.time_unit),
            ("input_column", &a.input_column),
            ("output_column", &a.output_column),
            ("model_column", &a.model_column),
        ] {
            if v.is_some() {
                return Err(c.err(format!("{p}.{k}"), "only applies with format = \"csv\""));
            }
        }
    }
    if a.model.is_some()
        && !matches!(&format, TraceFormat::BurstGpt)
        && !matches!(&format, TraceFormat::Csv(m) if m.model.is_some())
    {
        return Err(c.err(
            format!("{p}.model"),
            "needs a trace with a model column (burstgpt, or csv with model_column)",
        ));
    }
    Ok(format)
}

/// One streaming pass: usable rows, span and mean tokens, and the requests per whole second
/// after the first one; bad rows stop here (with file and line) unless the scenario skips
/// them, and a trace with no usable row is refused.
fn scan_rows(
    c: &Checker,
    p: &str,
    file: &str,
    a: &RawArrivals,
    reader: TraceReader,
    skip_bad_rows: bool,
) -> Result<(TraceStats, SecondCounts), InputError> {
    let mut st = TraceStats::default();
    let (mut sum_in, mut sum_out) = (0.0, 0.0);
    // Requests per whole second after the first request (trace time), to
    // place them in simulated hours once the period is known.
    let mut per_second = SecondCounts::default();
    // A few of the models the `model` filter left out, to name them if nothing is left.
    let mut other_models = std::collections::BTreeSet::new();
    for row in reader {
        match row {
            Ok(r) => {
                if a.model
                    .as_ref()
                    .is_some_and(|m| r.model.as_ref() != Some(m))
                {
                    if other_models.len() < 10 {
                        other_models.insert(r.model.unwrap_or_default());
                    }
                    continue;
                }
                if st.requests == 0 {
                    st.first_s = r.time_s;
                }
                st.last_s = r.time_s;
                st.requests += 1;
                sum_in += r.input as f64;
                sum_out += r.output as f64;
                per_second.add((r.time_s - st.first_s).max(0.0) as u64);
            }
            Err(bad) => {
                if !skip_bad_rows {
                    return Err(c.err(
                        format!("{p}.trace"),
                        format!("{bad} (set bad_rows = \"skip\" to skip such rows)"),
                    ));
                }
                st.bad_rows += 1;
                if st.bad_examples.len() < 5 {
                    st.bad_examples.push(bad.to_string());
                }
            }
        }
    }
    if st.requests == 0 {
        if let (Some(m), false) = (&a.model, other_models.is_empty()) {
            return Err(c.err(
                format!("{p}.model"),
                format!(
                    "\"{file}\" has no usable row with model \"{m}\"; models in the file: {}",
                    other_models.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        return Err(c.err(
            format!("{p}.trace"),
            format!("\"{file}\" has no usable rows"),
        ));
    }
    st.mean_input = sum_in / st.requests as f64;
    st.mean_output = sum_out / st.requests as f64;
    Ok((st, per_second))
}
