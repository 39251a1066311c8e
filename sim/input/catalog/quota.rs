//! An on-demand offering's quota shape (`quota`, `rpm_window_s`, `itpm`, `otpm`,
//! `itpm_cache_reads`, `output_burndown`): how its vendor enforces RPM and TPM (docs/model.md
//! section 6.1). A scenario uses these only when its deployment chooses a shape.

use super::{Check, OfferingOnDemand};
use crate::domain::Quota;

impl Check<'_> {
    /// The shape's name and its limits, each sourced; `at` is the offering's `on_demand` key.
    pub(super) fn quota_shape(&mut self, at: &str, od: &OfferingOnDemand) {
        for (k, v, lo, hi) in [
            ("rpm_window_s", &od.rpm_window_s, 1.0, 60.0),
            ("itpm", &od.itpm, 1.0, 1e12),
            ("otpm", &od.otpm, 1.0, 1e12),
            ("output_burndown", &od.output_burndown, 1.0, 100.0),
        ] {
            if let Some(v) = v {
                self.number(&format!("{at}.{k}"), v, lo, hi);
            }
        }
        if let Some(v) = &od.itpm_cache_reads {
            self.sourced(&format!("{at}.itpm_cache_reads"), v);
        }
        if let Some(q) = &od.quota {
            let key = format!("{at}.quota");
            self.sourced(&key, q);
            if !Quota::NAMES.contains(&q.value.as_str()) {
                let allowed = Quota::NAMES.join(", ");
                self.bad(
                    &key,
                    format!("unknown shape \"{}\"; allowed: {allowed}", q.value),
                );
            }
        }
    }
}
