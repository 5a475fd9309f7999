use argocd_wasm_sdk::testing::TestRun;

use super::*;

fn deployment(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"spec": {
            "securityContext": {"runAsNonRoot": true},
            "containers": containers,
        }}},
    })
}

fn compliant(name: &str) -> Value {
    json!({"name": name, "image": "nginx", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}})
}

#[test]
fn compliant_objects_pass_unchanged() {
    let input = vec![deployment(json!([compliant("a"), compliant("b")]))];
    let out = TestRun::new()
        .run::<RequireNonRootAndLimits>(input.clone())
        .unwrap();
    assert_eq!(out.objects, input);
}

#[test]
fn one_error_per_offending_container_naming_object_and_field() {
    let no_memory =
        json!({"name": "php", "image": "magento", "resources": {"limits": {"cpu": "1"}}});
    let nothing =
        json!({"name": "sidecar", "image": "x", "securityContext": {"runAsNonRoot": false}});
    let input = vec![deployment(json!([compliant("a"), no_memory, nothing]))];
    let errors = TestRun::new()
        .run::<RequireNonRootAndLimits>(input)
        .unwrap_err();
    let described: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        described,
        [
            "error: Deployment shop/web: spec.template.spec.containers[1].resources.limits.memory: \
             container `php` must set resources.limits.memory",
            "error: Deployment shop/web: spec.template.spec.containers[2]: container `sidecar` must \
             set securityContext.runAsNonRoot, resources.limits.cpu, resources.limits.memory",
        ]
    );
}

#[test]
fn exempt_images_and_disabled_checks_are_skipped() {
    let istio = json!({"name": "istio-proxy", "image": "istio/proxyv2:1.22"});
    let config = json!({"exemptImages": ["istio/proxyv2:*"]});
    let input = vec![deployment(json!([istio]))];
    assert!(
        TestRun::new()
            .config(config)
            .run::<RequireNonRootAndLimits>(input)
            .is_ok()
    );
    let off = json!({"runAsNonRoot": false, "cpuLimits": false, "memoryLimits": false});
    let warnings = TestRun::new()
        .config(off)
        .validate::<RequireNonRootAndLimits>();
    assert!(
        warnings[0].message.contains("checks nothing"),
        "{warnings:?}"
    );
}
