//! Runs the cases of `tests/fixtures/image-tags/cases.json` natively; the host runs the same
//! file through the built component.

use argocd_wasm_sdk::ParameterKind;
use argocd_wasm_sdk::testing::run_case_file;

use super::*;

/// The issue asks for at least this many cases.
const MIN_CASES: usize = 30;

#[test]
fn fixture_cases() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../tests/fixtures/image-tags/cases.json"
    );
    let count = run_case_file::<ImageTags>(path);
    assert!(count >= MIN_CASES, "only {count} cases");
}

#[test]
fn announces_the_images_parameter() {
    let info = ImageTags::info();
    assert_eq!(info.name, "image-tags");
    assert!(info.reads_kinds.is_empty(), "images live in any kind");
    let [images] = info.parameters.as_slice() else {
        panic!("one parameter: {:?}", info.parameters);
    };
    assert_eq!(images.name, "images");
    assert!(matches!(images.kind, ParameterKind::Array));
    assert!(images.tooltip.contains("name=newName:newTag@digest"));
}
