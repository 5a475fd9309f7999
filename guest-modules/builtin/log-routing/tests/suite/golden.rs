//! Golden configs in tests/fixtures/log-routing/<case>/: `config.json` (the step's `with:`),
//! `input.yaml` (the objects), `expected.alloy` (the generated config, byte for byte).
//! `UPDATE_GOLDEN=1 cargo test -p log-routing` rewrites the expected files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::eval::{Pod, Runtime, stdout};
use crate::harness::{
    Rendered, alloy_env, assert_routed, assert_stability_admitted, checked, env_refs, expected,
    kit_object, line_naming, pod_label, render, sink_of,
};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures")
}

fn fixture(case: &str) -> PathBuf {
    fixtures().join("log-routing").join(case)
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn load(case: &str) -> (Value, Vec<Value>) {
    let dir = fixture(case);
    let config = serde_json::from_str(&read(&dir.join("config.json"))).expect("config.json");
    let input = serde_norway::from_str(&read(&dir.join("input.yaml"))).expect("input.yaml");
    (config, input)
}

/// Renders a fixture and compares (or, with UPDATE_GOLDEN set, rewrites) its golden file.
pub fn golden(case: &str) -> (Value, Rendered) {
    let (config, input) = load(case);
    let rendered = render(&config, input);
    let path = fixture(case).join("expected.alloy");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        // Several tests render the same case: write only when the text changed, so no
        // test reads a file another one is rewriting.
        if std::fs::read_to_string(&path).ok().as_deref() != Some(rendered.text.as_str()) {
            std::fs::write(&path, &rendered.text).expect("write expected.alloy");
        }
        return (config, rendered);
    }
    let expected = read(&path);
    if let Some((i, (want, got))) = expected
        .lines()
        .zip(rendered.text.lines())
        .enumerate()
        .find(|(_, (want, got))| want != got)
    {
        panic!(
            "{case}: line {} differs\n expected: {want}\n      got: {got}\n(UPDATE_GOLDEN=1 rewrites the golden file)",
            i + 1
        );
    }
    assert_eq!(
        expected, rendered.text,
        "{case}: the golden file differs (UPDATE_GOLDEN=1 rewrites it)"
    );
    (config, rendered)
}

pub fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The pod labels of a workload's template, as its pods carry them.
pub fn template_labels<'a>(object: &'a Value, config: &Value) -> Vec<(&'a str, &'a str)> {
    let template = match object["kind"].as_str() {
        Some("CronJob") => &object["spec"]["jobTemplate"]["spec"]["template"],
        _ => &object["spec"]["template"],
    };
    let labels = template["metadata"]["labels"].as_object().expect("labels");
    assert!(labels.contains_key(&pod_label(config)), "{labels:?}");
    labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        .collect()
}

#[test]
fn l1_l2_matches_its_golden_config_and_checks() {
    let (_, rendered) = golden("l1-l2");
    checked(&rendered.text);
    assert!(
        rendered.diagnostics.is_empty(),
        "{:?}",
        rendered.diagnostics
    );
}

#[test]
fn l1_l2_is_the_magento_monitoring_apps_table() {
    let (mut config, _) = load("l1-l2");
    config.as_object_mut().unwrap().remove("workloads");
    let pipeline = read(&fixtures().join("magento-monitoring/wasm-pipeline.yaml"));
    let pipeline: Value = serde_norway::from_str(&pipeline).expect("wasm-pipeline.yaml");
    let step = pipeline["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["module"] == "builtin:log-routing")
        .expect("a log-routing step");
    assert_eq!(step["with"], config);
}

#[test]
fn l1_l2_stamps_workloads_and_emits_the_kit() {
    let (config, rendered) = golden("l1-l2");
    let objects = &rendered.objects;
    let key = pod_label(&config);
    let blue = object(objects, "Deployment", "magento-blue");
    assert_eq!(
        blue["spec"]["template"]["metadata"]["labels"][&key],
        "admin_auth.customer_pii.http.payment"
    );
    assert_eq!(
        blue["spec"]["selector"]["matchLabels"]
            .as_object()
            .unwrap()
            .len(),
        2,
        "selectors never change"
    );
    let cron = object(objects, "CronJob", "magento-cron");
    assert_eq!(
        cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"][&key],
        "cron"
    );
    let daemon_set = kit_object(&config, objects, "DaemonSet", "daemonSet", "alloy");
    let stamp = &daemon_set["spec"]["template"]["metadata"]["annotations"]
        [log_routing::kit::CHECKSUM_ANNOTATION];
    assert_eq!(stamp, &log_routing::kit::checksum(&rendered.text));
    let added: Vec<String> = objects[3..]
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    let names = "ServiceAccount alloy, ClusterRole monitoring-alloy, ClusterRoleBinding monitoring-alloy, ConfigMap alloy-config, DaemonSet alloy";
    assert_eq!(added.join(", "), names, "the kit follows the workloads");
}

#[test]
fn three_tier_matches_its_golden_config_and_checks() {
    let (_, rendered) = golden("three-tier");
    checked(&rendered.text);
    assert!(
        rendered.diagnostics.is_empty(),
        "{:?}",
        rendered.diagnostics
    );
}

#[test]
fn three_tier_routes_each_line_to_one_tier() {
    let (config, rendered) = golden("three-tier");
    let parsed = checked(&rendered.text);
    let env = alloy_env(&config, &rendered.objects, "node-a");
    let env = env_refs(&env);
    let runtime = Runtime::new(&parsed, &env);
    let admin_labels = template_labels(object(&rendered.objects, "Deployment", "admin"), &config);
    let admin = Pod {
        namespace: "shop",
        name: "admin-5c7b-q1",
        uid: "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
        container: "admin",
        node: "node-a",
        labels: &admin_labels,
    };
    let declared = ["admin_auth", "auth_session", "http"];
    for channel in ["admin_auth", "auth_session", "http", "payment", "made_up"] {
        let line = line_naming(&config, channel);
        let (tier, label) = expected(&config, Some(&declared), Some(channel));
        let sink = sink_of(&config, &tier);
        assert_routed(
            &runtime,
            &config,
            &admin,
            &stdout(&[&line]),
            &sink,
            label.as_deref(),
        );
    }
    // The admin pod's channels span two tiers: a line naming none goes to quarantine.
    assert_eq!(expected(&config, Some(&declared), None).0, "quarantine");
    let quarantine = sink_of(&config, "quarantine");
    assert_routed(
        &runtime,
        &config,
        &admin,
        &stdout(&["GET /admin 200"]),
        &quarantine,
        None,
    );

    let checkout_labels = template_labels(
        object(&rendered.objects, "StatefulSet", "checkout"),
        &config,
    );
    let checkout = Pod {
        name: "checkout-0",
        container: "checkout",
        labels: &checkout_labels,
        ..admin
    };
    let archive = sink_of(&config, "archive");
    for line in ["charge ok", &line_naming(&config, "http")] {
        assert_routed(
            &runtime,
            &config,
            &checkout,
            &stdout(&[line]),
            &archive,
            Some("payment"),
        );
    }
}

#[test]
fn three_tier_keeps_and_completes_the_existing_objects() {
    let (config, rendered) = golden("three-tier");
    let objects = &rendered.objects;
    let config_map = object(objects, "ConfigMap", "alloy");
    assert_eq!(objects.iter().position(|o| o == config_map), Some(3));
    assert!(
        config_map["data"]["extra.alloy"].is_string(),
        "other keys are kept"
    );
    let daemon_set = object(objects, "DaemonSet", "alloy");
    assert_eq!(
        daemon_set["spec"]["selector"]["matchLabels"]["app"], "alloy-logs",
        "the hand-written DaemonSet is kept"
    );
    assert_eq!(
        objects.iter().filter(|o| o["kind"] == "DaemonSet").count(),
        1
    );
    let account = object(objects, "ServiceAccount", "alloy-logs");
    assert_eq!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::210987654321:role/alloy-logs"
    );
    let binding = object(objects, "ClusterRoleBinding", "observability-alloy");
    assert_eq!(binding["subjects"][0]["name"], "alloy-logs");
    let job = object(objects, "Job", "db-migrate");
    assert_eq!(
        job["spec"]["template"]["metadata"]["labels"][pod_label(&config)],
        "db_migration"
    );
}

#[test]
fn the_daemon_set_admits_every_component_of_the_config() {
    for case in ["l1-l2", "three-tier"] {
        let (config, rendered) = golden(case);
        assert_stability_admitted(&config, &rendered);
    }
}

#[test]
fn the_docs_show_the_current_l1_l2_config() {
    let docs = fixtures().join("../../docs/log-routing.md");
    let expected = read(&fixture("l1-l2").join("expected.alloy"));
    assert!(
        read(&docs).contains(&format!("```alloy\n{expected}```")),
        "docs/log-routing.md must show tests/fixtures/log-routing/l1-l2/expected.alloy verbatim"
    );
}
