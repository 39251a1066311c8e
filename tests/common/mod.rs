//! Helpers shared by the test modules: parsing inline scenarios, comparing numbers.

use std::path::Path;

use llmcap::scenario::Scenario;

/// Parses and validates an inline scenario, panicking with the full error (and
/// the text) if it is rejected: a test scenario that does not validate is a bug
/// in the test.
pub fn scenario(text: &str) -> Scenario {
    Scenario::from_toml(text, Path::new("inline.toml"))
        .unwrap_or_else(|e| panic!("test scenario rejected: {e}\n---\n{text}"))
}

/// |got - want| / |want|.
pub fn rel_err(got: f64, want: f64) -> f64 {
    ((got - want) / want).abs()
}

/// Asserts that `got` is within `tol` (relative) of `want`.
#[track_caller]
pub fn assert_rel(what: &str, got: f64, want: f64, tol: f64) {
    let err = rel_err(got, want);
    assert!(
        err <= tol,
        "{what}: simulated {got:.6}, expected {want:.6} (relative error {:.3}%, allowed {:.3}%)",
        err * 100.0,
        tol * 100.0
    );
}
