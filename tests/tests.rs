//! The integration tests, one binary (as ripgrep does); each module says on its first line what belongs in it.

mod attribution;
mod bad_input;
mod calibrate;
mod catalog;
mod charts;
mod cli;
mod common;
mod deploy;
mod diff;
mod failover;
mod frontier;
mod fuzz_smoke;
mod import;
mod ladder;
mod layout;
mod limits;
mod litellm;
mod output;
mod pick;
mod plan;
mod properties;
mod queueing;
mod replay;
mod schema;
mod shard;
mod sweep;
