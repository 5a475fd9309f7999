//! The module end to end: its description, config errors, and history between levels.

use super::*;
use argocd_wasm_sdk::testing::TestRun;

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

#[test]
fn reads_every_kind_including_secrets() {
    assert_eq!(Overlay::info().reads_kinds, ["*"]);
}

#[test]
fn rejects_unknown_fields_and_bad_targets_at_load() {
    let unknown = TestRun::new()
        .config(json!({"configMapGenerator": []}))
        .validate::<Overlay>();
    assert!(unknown[0].message.contains("unknown field"), "{unknown:?}");

    let bad = TestRun::new()
        .config(json!({
            "patches": [{"patch": [], "target": {"name": "("}}],
            "patchesJson6902": [{"patch": [], "target": {"labelSelector": "a in"}}],
            "images": [{"name": "bad name"}]
        }))
        .validate::<Overlay>();
    let fields: Vec<_> = bad.iter().map(|d| d.field.clone().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "with.images[0]",
            "with.patches[0].target.name",
            "with.patchesJson6902[0].target.labelSelector"
        ]
    );
}

#[test]
fn a_json6902_patch_needs_a_target() {
    let errors = TestRun::new()
        .config(json!({"patches": [{"patch": [{"op": "remove", "path": "/spec"}]}]}))
        .run::<Overlay>(vec![deployment()])
        .unwrap_err();
    assert_eq!(errors[0].field.as_deref(), Some("with.patches[0].target"));
}

#[test]
fn applies_transforms_in_kustomize_order() {
    // The patch runs before the prefix (so it names `web`), the JSON patch after it (so its
    // target names `p-web`), images last.
    let out = TestRun::new()
        .config(json!({
            "namePrefix": "p-",
            "namespace": "stage",
            "patches": [{"patch": {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "metadata": {"name": "web"}, "spec": {"replicas": 2}}}],
            "patchesJson6902": [{"target": {"name": "p-web"},
                                 "patch": [{"op": "add", "path": "/spec/paused", "value": true}]}],
            "replicas": [{"name": "web", "count": 3}],
            "images": [{"name": "magento", "newTag": "2"}]
        }))
        .run::<Overlay>(vec![deployment(), config_map()])
        .unwrap();
    let web = &out.objects[0];
    assert_eq!(web["metadata"]["name"], "p-web");
    assert_eq!(web["metadata"]["namespace"], "stage");
    assert_eq!(web["spec"]["replicas"], 3);
    assert_eq!(web["spec"]["paused"], true);
    let container = &web["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "magento:2");
    assert_eq!(container["envFrom"][0]["configMapRef"]["name"], "p-cm");
}

#[test]
fn the_next_level_finds_objects_by_their_original_names() {
    let base = TestRun::new()
        .config(json!({"namePrefix": "base-", "namespace": "x"}))
        .run::<Overlay>(vec![deployment(), config_map()])
        .unwrap();
    assert_eq!(
        base.objects[0]["metadata"]["annotations"][resource::PREVIOUS_NAMES],
        "web,web"
    );
    // A patch by the original name and namespace-less id, and a new reference to the
    // original ConfigMap name, as kustomize resolves them across levels.
    let overlay = TestRun::new()
        .config(json!({
            "namePrefix": "top-",
            "patches": [{"patch": {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"volumes": [{"name": "v", "configMap": {"name": "cm"}}]}}}}}]
        }))
        .run::<Overlay>(base.objects)
        .unwrap();
    let web = &overlay.objects[0];
    assert_eq!(web["metadata"]["name"], "top-base-web");
    let pod = &web["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"][0]["configMap"]["name"], "top-base-cm");
    assert_eq!(
        pod["containers"][0]["envFrom"][0]["configMapRef"]["name"],
        "top-base-cm"
    );
    assert_eq!(
        web["metadata"]["annotations"][resource::PREVIOUS_NAMES],
        "web,web,base-web"
    );
}
