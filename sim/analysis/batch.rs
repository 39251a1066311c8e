//! Batch jobs of every replication (see `model::batch`), added together per deferrable class.
//! Replications run one after another: a batch simulation is a few jobs per submission
//! interval, and the order never depends on a thread count.

use crate::domain::Scenario;
use crate::model::batch::{run_replication, BatchStats};

/// The deferrable classes' statistics over all replications, in `sc.batch_classes` order.
#[derive(Debug, Clone, Default)]
pub struct BatchResults {
    pub replications: u32,
    pub classes: Vec<BatchStats>,
}

impl BatchResults {
    /// No deferrable class: nothing to report, and every output stays as without batch.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }
    /// Batch cost of one replication on average, USD.
    pub fn cost_per_replication(&self) -> f64 {
        self.classes.iter().map(|c| c.cost_usd).sum::<f64>() / self.replications.max(1) as f64
    }
}

pub fn run(sc: &Scenario) -> BatchResults {
    let mut classes: Vec<BatchStats> = Vec::new();
    if sc.batch_classes.is_empty() {
        return BatchResults::default();
    }
    for rep in 0..sc.replications {
        let r = run_replication(sc, rep);
        if classes.is_empty() {
            classes = r;
        } else {
            for (a, b) in classes.iter_mut().zip(&r) {
                a.merge(b);
            }
        }
    }
    BatchResults {
        replications: sc.replications,
        classes,
    }
}
