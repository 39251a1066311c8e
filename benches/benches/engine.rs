//! Micro-benchmarks of the hot paths: one replication of an hour of mixed traffic,
//! and the event queue alone. The end-to-end speed figure (requests per second
//! per core over 30 simulated days, peak memory) comes from scripts/bench.sh.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use llmcap::domain::Scenario;
use llmcap::model::engine::EventQueue;

fn replication(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/bench_30d.toml");
    let mut sc = Scenario::load(&path).expect("the shipped benchmark scenario is valid");
    sc.horizon_hours = 1;
    let requests = llmcap::analysis::run::run_replication(&sc, 0, None)
        .classes
        .iter()
        .map(|c| c.arrived)
        .sum::<u64>();
    let mut g = c.benchmark_group("replication");
    g.throughput(Throughput::Elements(requests));
    g.sample_size(10);
    g.bench_function("bench_30d, 1 simulated hour", |b| {
        b.iter(|| llmcap::analysis::run::run_replication(&sc, 0, None))
    });
    g.finish();
}

fn event_queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("hold model, 64 pending, 1M events", |b| {
        b.iter(|| {
            let mut q = EventQueue::new();
            let mut x: u64 = 1;
            for i in 0..64u64 {
                q.schedule(i, i);
            }
            for _ in 0..1_000_000 {
                let (t, e) = q.pop().expect("queue holds 64 events");
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                q.schedule(t + (x >> 44), e);
            }
            q.len()
        })
    });
    g.finish();
}

criterion_group!(benches, replication, event_queue);
criterion_main!(benches);
