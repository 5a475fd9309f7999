//! Runs the cases of `tests/fixtures/colour-selector/cases.json` natively; the host runs the
//! same file through the built component.

use argocd_wasm_sdk::testing::run_case_file;

use super::*;

#[test]
fn fixture_cases() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../tests/fixtures/colour-selector/cases.json"
    );
    assert!(run_case_file::<ColourSelector>(path) > 0);
}
