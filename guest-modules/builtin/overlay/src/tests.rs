//! The module end to end: a loaded tree in, kustomize's output out.

use super::*;
use argocd_wasm_sdk::testing::TestRun;
use serde_json::{Value, json};

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "magento:1", "envFrom": [{"configMapRef": {"name": "cm"}}]}
        ]}}}
    })
}

fn config_map() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}})
}

/// A tree node: its kustomization, resources and files.
fn tree(file: &str, kustomization: Value, resources: Value, files: Value) -> Value {
    json!({"file": file, "kustomization": kustomization, "resources": resources, "files": files})
}

fn objects(path: &str, objects: Vec<Value>) -> Value {
    json!({"objects": {"path": path, "objects": objects}})
}

fn build(config: Value) -> Result<Vec<Value>, Vec<Diagnostic>> {
    TestRun::new()
        .config(config)
        .run::<Overlay>(Vec::new())
        .map(|out| out.objects)
}

#[test]
fn reads_every_kind_including_secrets() {
    assert_eq!(Overlay::info().reads_kinds, ["*"]);
}

#[test]
fn applies_transforms_in_kustomize_order_and_sorts_the_output() {
    // The patch runs before the prefix (so it names `web`), the JSON patch after it (so its
    // target names `p-web`), images last; ConfigMaps sort before Deployments.
    let out = build(tree(
        "app/kustomization.yaml",
        json!({
            "namePrefix": "p-",
            "namespace": "stage",
            "patches": [{"path": "replicas.yaml"}],
            "patchesJson6902": [{"target": {"name": "p-web"}, "path": "paused.yaml"}],
            "replicas": [{"name": "web", "count": 3}],
            "images": [{"name": "magento", "newTag": "2"}]
        }),
        json!([objects("all.yaml", vec![deployment(), config_map()])]),
        json!({
            "replicas.yaml": {"documents": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                             "metadata": {"name": "web"}, "spec": {"replicas": 2}}]},
            "paused.yaml": {"documents": [[{"op": "add", "path": "/spec/paused", "value": true}]]}
        }),
    ))
    .unwrap();
    assert_eq!(out[0]["kind"], "ConfigMap");
    let web = &out[1];
    assert_eq!(web["metadata"]["name"], "p-web");
    assert_eq!(web["metadata"]["namespace"], "stage");
    assert_eq!(web["spec"]["replicas"], 3);
    assert_eq!(web["spec"]["paused"], true);
    let container = &web["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "magento:2");
    assert_eq!(container["envFrom"][0]["configMapRef"]["name"], "p-cm");
}

#[test]
fn an_overlay_finds_base_objects_by_their_original_names() {
    let base = tree(
        "base/kustomization.yaml",
        json!({"namePrefix": "base-", "namespace": "x"}),
        json!([objects("all.yaml", vec![deployment(), config_map()])]),
        json!({}),
    );
    // A patch by the original name and a new reference to the original ConfigMap name, as
    // kustomize resolves them across levels.
    let patch = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"volumes": [{"name": "v", "configMap": {"name": "cm"}}]}}}});
    let out = build(tree(
        "overlay/kustomization.yaml",
        json!({"namePrefix": "top-", "patches": [{"path": "p.yaml"}]}),
        json!([{"tree": base}]),
        json!({"p.yaml": {"documents": [patch]}}),
    ))
    .unwrap();
    let web = &out[1];
    assert_eq!(web["metadata"]["name"], "top-base-web");
    assert!(web["metadata"].get("annotations").is_none());
    let pod = &web["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"][0]["configMap"]["name"], "top-base-cm");
    assert_eq!(
        pod["containers"][0]["envFrom"][0]["configMapRef"]["name"],
        "top-base-cm"
    );
}

#[test]
fn components_run_on_their_parents_objects() {
    let component = tree(
        "comp/kustomization.yaml",
        json!({"kind": "Component", "commonLabels": {"team": "shop"}}),
        json!([objects("extra.yaml", vec![config_map()])]),
        json!({}),
    );
    let mut app = tree(
        "app/kustomization.yaml",
        json!({"namePrefix": "p-"}),
        json!([objects("web.yaml", vec![deployment()])]),
        json!({}),
    );
    app["components"] = json!([component]);
    let out = build(app).unwrap();
    assert_eq!(out.len(), 2);
    for object in &out {
        assert_eq!(object["metadata"]["labels"]["team"], "shop");
        assert!(
            object["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("p-")
        );
    }
}

#[test]
fn duplicate_ids_and_misplaced_components_are_errors() {
    let twice = build(tree(
        "app/kustomization.yaml",
        json!({}),
        json!([
            objects("a.yaml", vec![config_map()]),
            objects("a.yaml", vec![config_map()])
        ]),
        json!({}),
    ))
    .unwrap_err();
    assert!(twice[0].message.contains("twice"), "{twice:?}");
    assert_eq!(
        twice[0].code.as_deref(),
        Some("overlay/kustomize-build-failed")
    );
    assert_eq!(
        twice[0].field.as_deref(),
        Some("app/kustomization.yaml: resources[1]")
    );

    let component = tree(
        "comp/kustomization.yaml",
        json!({"kind": "Component"}),
        json!([]),
        json!({}),
    );
    let misplaced = build(tree(
        "app/kustomization.yaml",
        json!({}),
        json!([{"tree": component}]),
        json!({}),
    ))
    .unwrap_err();
    assert!(
        misplaced[0].message.contains("components:"),
        "{misplaced:?}"
    );
}

#[test]
fn a_json6902_patch_needs_a_target() {
    let errors = build(tree(
        "app/kustomization.yaml",
        json!({"patches": [{"patch": "ops"}]}),
        json!([objects("web.yaml", vec![deployment()])]),
        json!({"ops": {"documents": [[{"op": "remove", "path": "/spec"}]]}}),
    ))
    .unwrap_err();
    assert_eq!(
        errors[0].field.as_deref(),
        Some("app/kustomization.yaml: patches[0].target")
    );
}

#[test]
fn builtin_plugin_configs_transform_like_their_fields() {
    let mut app = tree(
        "app/kustomization.yaml",
        json!({}),
        json!([objects("web.yaml", vec![deployment(), config_map()])]),
        json!({}),
    );
    app["transformers"] = json!([
        {"objects": {"path": "ns.yaml", "objects": [{"apiVersion": "builtin", "kind": "NamespaceTransformer",
            "metadata": {"name": "ns", "namespace": "shop"}, "unsetOnly": true}]}},
        {"inline": [{"apiVersion": "builtin", "kind": "PrefixSuffixTransformer",
            "metadata": {"name": "p"}, "prefix": "a-", "fieldSpecs": [{"kind": "Deployment", "path": "metadata/name"}]}]}
    ]);
    let out = build(app).unwrap();
    // The inline prefix runs before the namespace file, and only on the Deployment; the
    // ConfigMap reference follows the rename.
    assert_eq!(out[0]["metadata"]["name"], "cm");
    assert_eq!(out[1]["metadata"]["name"], "a-web");
    assert_eq!(out[1]["metadata"]["namespace"], "shop");
}
