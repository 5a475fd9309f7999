//! The module contract's promise across versions: a module built against a released
//! contract keeps running on later hosts; one built for a newer contract is refused.
//!
//! The 0.1.0 module is a committed binary (tests/fixtures/modules/contract-0.1.0), not a
//! fresh build, so this keeps testing what teams' old `.wasm` files will meet.

use crate::support::*;

const SECTION: &[u8] = b"argocd-wasm-plugin-contract";

fn add_label_0_1_0() -> Vec<u8> {
    std::fs::read(fixture("modules/contract-0.1.0/add_label.wasm")).unwrap()
}

/// The newest contract in `wit/` (one directory per released version): the host's.
fn host_contract() -> [u64; 3] {
    let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    std::fs::read_dir(wit)
        .unwrap()
        .map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let parts: Vec<u64> = name.split('.').map(|n| n.parse().unwrap()).collect();
            parts.try_into().unwrap()
        })
        .max()
        .unwrap()
}

fn dotted([major, minor, patch]: [u64; 3]) -> String {
    format!("{major}.{minor}.{patch}")
}

/// The module with its contract section rewritten to claim `version` (as long as the one it
/// holds, so the section's size is unchanged).
fn claiming(mut wasm: Vec<u8>, version: &str) -> Vec<u8> {
    let at = wasm
        .windows(SECTION.len())
        .position(|window| window == SECTION)
        .expect("the module has a contract section")
        + SECTION.len();
    let declared = &mut wasm[at..at + version.len()];
    assert!(
        declared.iter().all(|b| b.is_ascii_digit() || *b == b'.'),
        "`{version}` is not as long as the declared version"
    );
    declared.copy_from_slice(version.as_bytes());
    wasm
}

/// Renders CONFIGMAP through `wasm` as add-label with `{key: team, value: payments}`.
fn render_with(wasm: &[u8]) -> std::process::Output {
    let app = App::new();
    std::fs::write(app.dir().join("modules/add_label.wasm"), wasm).unwrap();
    app.write("cm.yaml", CONFIGMAP).write(
        "wasm-pipeline.yaml",
        "steps:\n  - module: modules/add_label.wasm\n    with: {key: team, value: payments}\n",
    );
    app.render(&["--output", "json"])
}

#[test]
fn a_module_built_against_contract_0_1_0_runs_on_this_host() {
    let objects = objects(&success(&render_with(&add_label_0_1_0())));
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["metadata"]["labels"]["team"], "payments");
    assert_eq!(objects[0]["data"]["a"], "b");
}

#[test]
fn a_module_built_for_a_newer_minor_is_refused() {
    let host = host_contract();
    let newer = dotted([host[0], host[1] + 1, 0]);
    let stderr = failure(&render_with(&claiming(add_label_0_1_0(), &newer)));
    let expected = format!(
        "the module was built for contract {newer}, newer than this host's {}: upgrade \
         argocd-wasm-plugin",
        dotted(host)
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn a_module_built_for_a_contract_never_released_is_refused() {
    let stderr = failure(&render_with(&claiming(add_label_0_1_0(), "0.0.9")));
    assert!(
        stderr.contains("built for contract 0.0.9, which this host does not run (it runs 0.1.0"),
        "{stderr}"
    );
}

/// Renders CONFIGMAP through the test module built on contract 0.2.0 without the SDK.
fn render_coded_findings(with: &str) -> std::process::Output {
    let app = App::new();
    app.with_module("coded-findings")
        .write("cm.yaml", CONFIGMAP)
        .write(
            "wasm-pipeline.yaml",
            &format!("steps:\n  - module: modules/coded-findings.wasm\n    with: {with}\n"),
        );
    app.render(&["--output", "json"])
}

#[test]
fn a_module_built_for_contract_0_2_0_runs_with_its_bindings() {
    let objects = objects(&success(&render_coded_findings("{}")));
    assert_eq!(objects[0]["metadata"]["labels"]["contract"], "0.2.0");
}

/// Built-in modules run with the bindings of the contract their SDK builds for, beside a
/// 0.2.0 module in the same render.
#[test]
fn modules_of_both_contracts_run_in_one_pipeline() {
    let app = App::new();
    std::fs::write(app.dir().join("modules/add_label.wasm"), add_label_0_1_0()).unwrap();
    app.with_module("coded-findings")
        .write("cm.yaml", CONFIGMAP)
        .write(
            "wasm-pipeline.yaml",
            "steps:\n  - module: modules/add_label.wasm\n    with: {key: team, value: payments}\n  \
             - module: modules/coded-findings.wasm\n",
        );
    let objects = objects(&success(&app.render(&["--output", "json"])));
    assert_eq!(objects[0]["metadata"]["labels"]["team"], "payments");
    assert_eq!(objects[0]["metadata"]["labels"]["contract"], "0.2.0");
}

#[test]
fn a_finding_s_code_leads_its_message() {
    let stderr = failure(&render_coded_findings("{refuse: true}"));
    assert!(
        stderr.contains("[coded-findings/refused] ConfigMap settings: refused on request"),
        "{stderr}"
    );
    let stderr = failure(&render_coded_findings("{colour: red}"));
    assert!(
        stderr
            .contains("invalid `with:` config: [coded-findings/unknown-key] unknown key `colour`"),
        "{stderr}"
    );
}
