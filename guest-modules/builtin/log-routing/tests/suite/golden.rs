//! Golden configs in tests/fixtures/log-routing/<case>/: `config.json` (the step's `with:`),
//! `input.yaml` (the objects), `expected.alloy` (the generated config, byte for byte).
//! `UPDATE_GOLDEN=1 cargo test -p log-routing` rewrites the expected files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::eval::{Pod, Runtime};
use crate::harness::{Rendered, assert_routed, checked, line_naming, pod_label, render, sink_of};

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures/log-routing")
        .join(case)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(case: &str) -> (Value, Vec<Value>) {
    let dir = fixture(case);
    let config = serde_json::from_str(&read(&dir.join("config.json"))).expect("config.json");
    let input = serde_norway::from_str(&read(&dir.join("input.yaml"))).expect("input.yaml");
    (config, input)
}

/// Renders a fixture and compares (or, with UPDATE_GOLDEN set, rewrites) its golden file.
fn golden(case: &str) -> (Value, Rendered) {
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

fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn template_labels<'a>(object: &'a Value, config: &Value) -> Vec<(&'a str, &'a str)> {
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
fn l1_l2_routes_the_seed_table() {
    let (config, rendered) = golden("l1-l2");
    let parsed = checked(&rendered.text);
    let runtime = Runtime::new(&parsed, "node-a");
    let blue = template_labels(
        object(&rendered.objects, "Deployment", "magento-blue"),
        &config,
    );
    let php = Pod {
        namespace: "magento-stage",
        name: "magento-blue-7d9f-x2",
        container: "php-fpm",
        node: "node-a",
        labels: &blue,
    };
    let (l1, l2) = (sink_of(&config, "l1"), sink_of(&config, "l2"));
    for channel in ["payment", "admin_auth", "customer_pii"] {
        let line = line_naming(&config, channel);
        assert_routed(&runtime, &config, &php, &line, &l2, Some(channel));
    }
    let http = line_naming(&config, "http");
    assert_routed(&runtime, &config, &php, &http, &l1, Some("http"));
    assert_routed(
        &runtime,
        &config,
        &php,
        "PHP Warning: plain text",
        &l1,
        None,
    );

    let cron_labels = template_labels(
        object(&rendered.objects, "CronJob", "magento-cron"),
        &config,
    );
    let cron = Pod {
        name: "magento-cron-2899-abc",
        container: "cron",
        labels: &cron_labels,
        ..php
    };
    assert_routed(
        &runtime,
        &config,
        &cron,
        "cron run finished",
        &l1,
        Some("cron"),
    );
    let elsewhere = Pod {
        node: "node-b",
        ..php
    };
    assert!(runtime.deliver(&elsewhere, &http).is_empty(), "node-local");
}

#[test]
fn l1_l2_stamps_workloads_and_alloy() {
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
        2
    );
    let cron = object(objects, "CronJob", "magento-cron");
    assert_eq!(
        cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"][&key],
        "cron"
    );
    let alloy = object(objects, "DaemonSet", "alloy");
    let stamp = &alloy["spec"]["template"]["metadata"]["annotations"]
        [log_routing::objects::CHECKSUM_ANNOTATION];
    assert_eq!(stamp, &log_routing::objects::checksum(&rendered.text));
    let last = objects.last().unwrap();
    assert_eq!(last["kind"], "ConfigMap", "the new ConfigMap is appended");
    assert_eq!(last["metadata"]["namespace"], "monitoring");
    assert_eq!(last["metadata"]["name"], "alloy-config");
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
fn three_tier_routes_each_channel_to_one_tier() {
    let (config, rendered) = golden("three-tier");
    let parsed = checked(&rendered.text);
    let runtime = Runtime::new(&parsed, "node-a");
    let admin_labels = template_labels(object(&rendered.objects, "Deployment", "admin"), &config);
    // Not node-local: Alloy runs as a Deployment and reads pods of every node.
    let admin = Pod {
        namespace: "shop",
        name: "admin-5c7b-q1",
        container: "admin",
        node: "node-z",
        labels: &admin_labels,
    };
    let (app, audit, archive) = (
        sink_of(&config, "app"),
        sink_of(&config, "audit"),
        sink_of(&config, "archive"),
    );
    let cases = [
        ("admin_auth", &audit),
        ("auth_session", &audit),
        ("payment", &archive),
        ("db_migration", &archive),
        ("http", &app),
    ];
    for (channel, sink) in cases {
        let line = line_naming(&config, channel);
        assert_routed(&runtime, &config, &admin, &line, sink, Some(channel));
    }
    // A channel the table does not know never becomes a label value.
    let unknown = line_naming(&config, "made_up");
    assert_routed(&runtime, &config, &admin, &unknown, &app, None);
    assert_routed(&runtime, &config, &admin, "GET /admin 200", &app, None);

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
    assert_routed(
        &runtime,
        &config,
        &checkout,
        "charge ok",
        &archive,
        Some("payment"),
    );
    let http = line_naming(&config, "http");
    assert_routed(&runtime, &config, &checkout, &http, &app, Some("http"));
}

#[test]
fn three_tier_replaces_the_config_in_place() {
    let (config, rendered) = golden("three-tier");
    let objects = &rendered.objects;
    let config_map = object(objects, "ConfigMap", "alloy");
    assert_eq!(objects.iter().position(|o| o == config_map), Some(3));
    assert_eq!(
        config_map["metadata"]["labels"]["app.kubernetes.io/name"],
        "alloy"
    );
    assert!(
        config_map["data"]["extra.alloy"].is_string(),
        "other keys are kept"
    );
    assert_eq!(
        objects.len(),
        4,
        "nothing is added when the ConfigMap exists"
    );
    let job = object(objects, "Job", "db-migrate");
    assert_eq!(
        job["spec"]["template"]["metadata"]["labels"][pod_label(&config)],
        "db_migration"
    );
}

#[test]
fn the_docs_show_the_current_l1_l2_config() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../docs/log-routing.md");
    let expected = read(&fixture("l1-l2").join("expected.alloy"));
    assert!(
        read(&docs).contains(&format!("```alloy\n{expected}```")),
        "docs/log-routing.md must show tests/fixtures/log-routing/l1-l2/expected.alloy verbatim"
    );
}
