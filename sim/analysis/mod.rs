//! Stage 3, analysis: what is computed from simulated runs. Replications ([`run`]),
//! parameter sweeps and break-even ([`sweep`], [`economics`]), capacity plans
//! ([`plan`]), the cost–latency–availability frontier of a grid ([`frontier`]), platform
//! picks ([`pick`]), run-to-run differences ([`diff`]), trace fitting ([`fit`]), work split into shards and merged back ([`shard`]), cost and tag
//! attribution ([`cost`], [`attribution`]) and the queueing closed forms the simulation is
//! checked against ([`theory`]).

pub mod attribution;
pub mod batch;
pub mod calibrate;
pub mod cost;
pub mod diff;
pub mod economics;
pub mod fit;
pub mod frontier;
pub mod ladder;
pub mod pick;
pub mod plan;
pub mod rate_plan;
pub mod run;
pub mod shard;
pub mod sweep;
pub mod theory;
