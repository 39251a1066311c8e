//! Traces as data: the formats llmcap reads, one request of a trace, a row that
//! could not be used, and the trace a class replays with what validation found in
//! it. The readers live in `input::trace`; the replay in `model::traffic`.

use std::path::PathBuf;

/// How a trace file is laid out.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceFormat {
    Azure,
    BurstGpt,
    Mooncake,
    Csv(CsvMapping),
}

/// Column names of a generic CSV trace.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvMapping {
    pub time: String,
    pub time_unit: TimeUnit,
    pub input: String,
    pub output: String,
    pub model: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Seconds,
    Milliseconds,
    Microseconds,
    /// "YYYY-MM-DD HH:MM:SS[.fffffff]" (or with a "T"), read as UTC.
    DateTime,
}

pub const FORMATS: &[&str] = &["azure", "burstgpt", "mooncake", "csv"];
pub const TIME_UNITS: &[&str] = &["s", "ms", "us", "datetime"];

impl TimeUnit {
    pub fn parse(s: &str) -> Option<TimeUnit> {
        Some(match s {
            "s" => TimeUnit::Seconds,
            "ms" => TimeUnit::Milliseconds,
            "us" => TimeUnit::Microseconds,
            "datetime" => TimeUnit::DateTime,
            _ => return None,
        })
    }
}

/// One request of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRecord {
    /// Line number in the file (1 = the first line).
    pub line: u64,
    /// Seconds: since 1970-01-01 UTC for wall-clock formats, else as in the file.
    pub time_s: f64,
    pub input: u32,
    pub output: u32,
    pub model: Option<String>,
}

/// Why a row was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRowKind {
    Time,
    Tokens,
    OutOfOrder,
    Shape,
}

impl BadRowKind {
    pub fn label(self) -> &'static str {
        match self {
            BadRowKind::Time => "unparsable time",
            BadRowKind::Tokens => "bad token count",
            BadRowKind::OutOfOrder => "time before the previous row",
            BadRowKind::Shape => "malformed row",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BadRow {
    pub file: PathBuf,
    pub line: u64,
    pub kind: BadRowKind,
    pub message: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.kind.label(),
            self.message
        )
    }
}

impl TraceFormat {
    /// Whether times are wall-clock (so a time of day is known).
    pub fn wall_clock(&self) -> bool {
        match self {
            TraceFormat::Azure => true,
            TraceFormat::Csv(m) => m.time_unit == TimeUnit::DateTime,
            _ => false,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            TraceFormat::Azure => "azure",
            TraceFormat::BurstGpt => "burstgpt",
            TraceFormat::Mooncake => "mooncake",
            TraceFormat::Csv(_) => "csv",
        }
    }
}

/// A trace a class replays.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSource {
    pub path: std::path::PathBuf,
    pub format: TraceFormat,
    /// Only rows whose model column equals this.
    pub model: Option<String>,
    /// Replay this many times faster (trace seconds / simulated seconds).
    pub time_scale: f64,
    /// Keep each request with probability k (k < 1), or repeat it
    /// floor(k) times plus once more with probability frac(k).
    pub rate_scale: f64,
    /// Simulated time of the trace's first request, microseconds.
    pub offset_us: u64,
    /// Repeat the trace until the horizon.
    pub tile: bool,
    /// Skip unusable rows (counted) rather than stop.
    pub skip_bad_rows: bool,
    /// What a pass over the file found (at validation).
    pub stats: TraceStats,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceStats {
    /// Usable rows (after the model filter).
    pub requests: u64,
    pub first_s: f64,
    pub last_s: f64,
    pub mean_input: f64,
    pub mean_output: f64,
    pub bad_rows: u64,
    /// The first bad rows, as "file:line: kind: message".
    pub bad_examples: Vec<String>,
    /// Requests the replay puts in each simulated hour of the horizon
    /// (offset, time scale, tiling and the mean of the rate scale applied).
    pub expected_per_hour: Vec<f64>,
}

impl TraceSource {
    /// Simulated length of one pass of the trace, microseconds: its span
    /// scaled, plus one mean gap so a tiled copy does not start on the last request.
    pub fn period_us(&self) -> u64 {
        let st = &self.stats;
        let span = (st.last_s - st.first_s).max(0.0);
        let gap = if st.requests > 1 {
            span / (st.requests - 1) as f64
        } else {
            1.0
        };
        (((span + gap) / self.time_scale) * 1e6).max(1.0) as u64
    }
}

/// One pass over a trace's rows, in file order.
pub type TraceRows = Box<dyn Iterator<Item = Result<TraceRecord, BadRow>>>;

/// Opens a trace for one pass (the input stage's reader); the model replays
/// through it without knowing file formats.
pub type TraceOpener = fn(&TraceSource) -> Result<TraceRows, crate::error::InputError>;
