//! builtin:log-routing end to end: the golden Alloy configs through the host, and the two
//! halves of the magento example: the workload app (magento-stage) only labels its pods,
//! the monitoring app (magento-monitoring) emits the whole collector kit.

use std::collections::BTreeSet;
use std::process::Command;

use argocd_wasm_plugin::object::ObjectId;
use serde_json::Value;

use crate::support::*;

/// Renders a golden case directory (config.json + input.yaml) and returns the generated
/// Alloy config.
fn generated_config(case: &str) -> String {
    let dir = fixture(&format!("log-routing/{case}"));
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let app = App::new();
    let pipeline = serde_json::json!({"steps": [{"module": "builtin:log-routing", "with": config,
            "allow": {"clusterScoped": true, "clusterRoleBindings": true, "namespaces": ["*"]}}]});
    // The golden input is a YAML list of objects; a `List` carries it as a manifest.
    let items: Value =
        serde_norway::from_str(&std::fs::read_to_string(dir.join("input.yaml")).unwrap()).unwrap();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    app.write("input.json", &list.to_string())
        .write("wasm-pipeline.yaml", &pipeline.to_string());
    let rendered = objects(&success(&app.render(&["--output", "json"])));
    alloy_config(&rendered)
}

fn alloy_config(objects: &[Value]) -> String {
    let configmap = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["data"]["config.alloy"].is_string())
        .expect("the Alloy ConfigMap is generated");
    configmap["data"]["config.alloy"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn render_app(name: &str) -> Vec<Value> {
    let mut command = binary();
    command
        .args(["render", "--output", "json"])
        .arg(fixture(name));
    objects(&success(&command.output().unwrap()))
}

/// An object's kind, namespace and name.
fn identity(object: &Value) -> String {
    ObjectId::of(object).to_string()
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn golden_configs_come_out_of_the_component_byte_for_byte() {
    for case in ["l1-l2", "three-tier"] {
        let expected =
            std::fs::read_to_string(fixture(&format!("log-routing/{case}/expected.alloy")))
                .unwrap();
        assert_eq!(generated_config(case), expected, "{case}");
    }
}

#[test]
fn the_magento_workload_app_only_labels_its_pods() {
    let rendered = render_app("magento-stage");
    for colour in ["blue", "green"] {
        let deployment = rendered
            .iter()
            .find(|o| o["metadata"]["name"] == format!("magento-web-{colour}"))
            .unwrap();
        assert_eq!(
            deployment["spec"]["template"]["metadata"]["labels"]["log-channel"],
            "admin_auth.customer_pii.http.payment"
        );
    }
    for kit_kind in [
        "DaemonSet",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
    ] {
        assert!(
            !rendered.iter().any(|o| o["kind"] == kit_kind),
            "the workload app emits no {kit_kind}"
        );
    }
    assert!(
        !rendered
            .iter()
            .any(|o| o["data"]["config.alloy"].is_string())
    );
}

#[test]
fn the_magento_monitoring_app_emits_the_whole_kit() {
    let rendered = render_app("magento-monitoring");
    let kinds: BTreeSet<&str> = rendered.iter().filter_map(|o| o["kind"].as_str()).collect();
    let expected_kinds = [
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "DaemonSet",
        "Namespace",
        "ServiceAccount",
    ];
    assert_eq!(kinds, expected_kinds.into_iter().collect());
    // The native suite runs this very text through the Alloy syntax and schema checker
    // and the routing simulator (tests/fixtures/log-routing/l1-l2).
    let golden = std::fs::read_to_string(fixture("log-routing/l1-l2/expected.alloy")).unwrap();
    assert_eq!(alloy_config(&rendered), golden);

    let account = of_kind(&rendered, "ServiceAccount");
    assert_eq!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/alloy-role"
    );
    let role = of_kind(&rendered, "ClusterRole");
    assert_eq!(role["rules"][0]["resources"], serde_json::json!(["pods"]));
    let pod = &of_kind(&rendered, "DaemonSet")["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(args.contains(&"--stability.level=experimental"), "{args:?}");
    assert_eq!(container["env"][0]["name"], "NODE_NAME");
    assert_eq!(
        container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
        "spec.nodeName"
    );
    let logs = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == "/var/log/pods")
        .expect("the node's pod logs are mounted");
    assert_eq!(logs["readOnly"], true);
    let volumes = pod["volumes"].as_array().unwrap();
    let host_paths: Vec<&str> = volumes
        .iter()
        .filter_map(|v| v["hostPath"]["path"].as_str())
        .collect();
    assert_eq!(
        host_paths,
        ["/var/log/pods", "/var/lib/alloy/monitoring-alloy"]
    );
    assert_eq!(
        pod["tolerations"],
        serde_json::json!([{"operator": "Exists"}])
    );
    assert!(container["resources"]["requests"]["memory"].is_string());
}

#[test]
fn no_object_is_emitted_by_both_magento_apps() {
    let workload: BTreeSet<_> = render_app("magento-stage").iter().map(identity).collect();
    let monitoring: BTreeSet<_> = render_app("magento-monitoring")
        .iter()
        .map(identity)
        .collect();
    let shared: Vec<_> = workload.intersection(&monitoring).collect();
    assert!(shared.is_empty(), "emitted by both apps: {shared:?}");
}

/// Whether a command is on PATH.
fn installed(program: &str) -> bool {
    Command::new(program).arg("--help").output().is_ok()
}

#[test]
fn the_kit_passes_schema_validation() {
    let rendered = render_app("magento-monitoring");
    let dir = App::new();
    let mut files = Vec::new();
    for (i, object) in rendered.iter().enumerate() {
        // JSON is YAML: kustomize and the validator read the objects as rendered.
        let name = format!(
            "{i:02}-{}.yaml",
            object["kind"].as_str().unwrap().to_lowercase()
        );
        dir.write(&name, &object.to_string());
        files.push(name);
    }
    dir.write(
        "kustomization.yaml",
        &format!("resources: [{}]\n", files.join(", ")),
    );
    let built = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir.dir())
        .output()
        .expect("kubectl runs (`kubectl kustomize` builds the kit's objects offline)");
    let yaml = success(&built);
    for kind in [
        "kind: DaemonSet",
        "kind: ClusterRoleBinding",
        "kind: ServiceAccount",
    ] {
        assert!(yaml.contains(kind), "{yaml}");
    }
    // Strict schema validation against the Kubernetes OpenAPI schemas, offline:
    // `pip install kubernetes-validate`.
    if !installed("kubernetes-validate") {
        eprintln!("kubernetes-validate is not installed: strict schema validation skipped");
        return;
    }
    let validated = Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", "1.32"])
        .args(&files)
        .current_dir(dir.dir())
        .output()
        .unwrap();
    let report = success(&validated);
    assert_eq!(
        report.matches("passed for resource").count(),
        rendered.len(),
        "{report}"
    );
}
