//! `llmcap calibrate FILES... --format FORMAT`: a deployment's latency and capacity fitted to
//! load-test measurements (docs/calibrate.md).

use std::path::{Path, PathBuf};

use clap::Args;

use llmcap::report;

use super::{input, runtime, stage, Failure};

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Measurement files, all in one format.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Their format: llmperf, guidellm, azure-benchmark or csv.
    #[arg(long)]
    pub format: String,
    /// The deployment's name in calibration.toml [default: the model or deployment the
    /// first file names, else its file name].
    #[arg(long)]
    pub deployment: Option<String>,
    /// Fraction of each load level's measurements (the last, in time) left out of the fit
    /// and predicted, 0 to 0.8.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.2)]
    pub holdout: f64,
    /// Reserved units (PTUs) deployed during the test, to write capacity and concurrency per unit.
    #[arg(long, allow_negative_numbers = true)]
    pub units: Option<f64>,
    /// Input tokens one output token counts as in reserved capacity (the offering's output_weight).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub output_weight: f64,
    /// Seed of the bootstrap and of the holdout predictions.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    pub seed: u64,
    /// Output folder [default: results/<deployment>-calibrate].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// If another llmcap is writing to the same --out, wait for it instead of exiting 2.
    #[arg(long)]
    pub wait: bool,
}

pub fn calibrate(a: CalibrateArgs) -> Result<(), Failure> {
    use llmcap::domain::measurement::{MeasurementFormat, MEASUREMENT_FORMATS};
    let format = MeasurementFormat::parse(&a.format).ok_or_else(|| {
        input(anyhow::anyhow!(
            "--format: unknown format \"{}\"; allowed: {}",
            a.format,
            MEASUREMENT_FORMATS.join(", ")
        ))
    })?;
    if let Some(u) = a.units {
        if !(u.is_finite() && u > 0.0) {
            return Err(input(anyhow::anyhow!(
                "--units: must be a number above 0, got {u}"
            )));
        }
    }
    if !(a.output_weight.is_finite() && a.output_weight > 0.0 && a.output_weight <= 100.0) {
        return Err(input(anyhow::anyhow!(
            "--output-weight: must be above 0 and at most 100, got {}",
            a.output_weight
        )));
    }
    let sets = a
        .files
        .iter()
        .map(|f| llmcap::input::measurements::read(f, format))
        .collect::<Result<Vec<_>, _>>()
        .map_err(input)?;
    let deployment = a.deployment.clone().unwrap_or_else(|| {
        sets[0].target.clone().unwrap_or_else(|| {
            a.files[0]
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "deployment".into())
        })
    });
    let opts = llmcap::analysis::calibrate::Options {
        deployment,
        holdout: a.holdout,
        units: a.units,
        output_weight: a.output_weight,
        seed: a.seed,
    };
    let c = llmcap::analysis::calibrate::calibrate(&sets, &opts).map_err(input)?;
    let dest = a.out.clone().unwrap_or_else(|| {
        let safe: String = c
            .deployment
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '.' {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        Path::new("results").join(format!("{safe}-calibrate"))
    });
    let staging = stage(&dest, a.files.clone(), a.wait)?;
    let dest = report::calibrate::write_calibrate(staging, &c).map_err(runtime)?;
    if !a.quiet {
        for line in report::calibrate::headline(&c) {
            super::say(&line);
        }
        println!("{}", dest.join("calibrate.md").display());
    }
    Ok(())
}
