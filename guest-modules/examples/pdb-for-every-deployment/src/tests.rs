use argocd_wasm_sdk::testing::{TestOutput, TestRun};

use super::*;

fn deployment(name: &str, namespace: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name, "tier": "web"}}},
        },
    })
}

fn budget(name: &str, namespace: &str, selector: Value) -> Value {
    json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"minAvailable": 2, "selector": selector},
    })
}

fn run(config: Value, objects: Vec<Value>) -> TestOutput {
    TestRun::new()
        .config(config)
        .run::<PdbForEveryDeployment>(objects)
        .unwrap()
}

#[test]
fn adds_a_min_available_one_budget_selecting_the_workload_pods() {
    let out = run(json!({}), vec![deployment("web", "shop")]);
    assert_eq!(
        out.objects[1],
        json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "minAvailable": 1},
        })
    );
}

#[test]
fn max_unavailable_replaces_min_available() {
    let out = run(
        json!({"maxUnavailable": "25%"}),
        vec![deployment("web", "shop")],
    );
    assert_eq!(out.objects[1]["spec"]["maxUnavailable"], "25%");
    assert_eq!(out.objects[1]["spec"].get("minAvailable"), None);
}

#[test]
fn skips_workloads_an_existing_budget_selects_in_the_same_namespace() {
    let covering = budget(
        "web-budget",
        "shop",
        json!({"matchLabels": {"tier": "web"}}),
    );
    let elsewhere = budget("web-budget", "other", json!({}));
    let out = run(json!({}), vec![deployment("web", "shop"), covering.clone()]);
    assert_eq!(out.objects, [deployment("web", "shop"), covering]);
    let out = run(json!({}), vec![deployment("web", "shop"), elsewhere]);
    assert_eq!(out.objects.len(), 3);
}

#[test]
fn a_name_clash_with_a_budget_that_selects_other_pods_fails() {
    let other = budget("web", "shop", json!({"matchLabels": {"app": "api"}}));
    let problems = TestRun::new()
        .run::<PdbForEveryDeployment>(vec![deployment("web", "shop"), other])
        .unwrap_err();
    assert!(
        problems[0].message.contains("named `web` exists"),
        "{problems:?}"
    );
}

#[test]
fn config_takes_one_budget_as_a_number_or_percentage() {
    let validate = |config: Value| {
        TestRun::new()
            .config(config)
            .validate::<PdbForEveryDeployment>()
    };
    assert!(validate(json!({"minAvailable": "50%"})).is_empty());
    assert!(validate(json!({"maxUnavailable": 0})).is_empty());
    assert_eq!(
        validate(json!({"minAvailable": "lots"}))[0]
            .field
            .as_deref(),
        Some("with.minAvailable")
    );
    assert!(!validate(json!({"minAvailable": 1, "maxUnavailable": 1})).is_empty());
    assert!(!validate(json!({"maxUnavailable": "150%"})).is_empty());
}
