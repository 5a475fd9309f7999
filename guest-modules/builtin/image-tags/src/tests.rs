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

#[test]
fn findings_carry_stable_codes() {
    use argocd_wasm_sdk::testing::TestRun;
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}});
    let codes = |diagnostics: &[Diagnostic]| -> Vec<String> {
        diagnostics.iter().filter_map(|d| d.code.clone()).collect()
    };
    let bad_parameter = TestRun::new()
        .param_list("images", &["ngin x:1"])
        .run::<ImageTags>(vec![pod.clone()])
        .unwrap_err();
    assert_eq!(codes(&bad_parameter), ["image-tags/invalid-image"]);
    let unmatched = TestRun::new()
        .param_list("images", &["redis:7"])
        .run::<ImageTags>(vec![pod.clone()])
        .unwrap();
    assert_eq!(
        codes(&unmatched.diagnostics),
        ["image-tags/unmatched-image"]
    );
    let undigested = TestRun::new()
        .config(json!({"requireDigest": true, "images": [{"name": "nginx", "newTag": "2"}]}))
        .run::<ImageTags>(vec![pod])
        .unwrap_err();
    assert_eq!(codes(&undigested), ["image-tags/missing-digest"]);
    let bad_from_env = TestRun::new()
        .config(json!({"fromEnv": [{"image": "nginx"}]}))
        .validate::<ImageTags>();
    assert_eq!(codes(&bad_from_env), ["image-tags/invalid-from-env"]);
}
