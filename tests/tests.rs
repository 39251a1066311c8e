//! The integration tests, one binary (as ripgrep does); each module says on its first line what belongs in it.

mod cli;
mod common;
mod properties;
mod queueing;
