//! builtin:log-routing end to end: the golden Alloy configs through the host, and the
//! magento stage fixture.

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
            "allow": {"namespaces": ["monitoring"]}}]});
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
fn the_magento_fixture_gets_its_routing_config_and_labelled_pods() {
    let mut command = binary();
    command
        .args(["render", "--output", "json"])
        .arg(fixture("magento-stage"));
    let rendered = objects(&success(&command.output().unwrap()));
    let config = alloy_config(&rendered);
    assert!(config.contains("otelcol.exporter.awss3"), "{config}");
    assert!(config.contains("loki.write"), "{config}");
    for colour in ["blue", "green"] {
        let deployment = rendered
            .iter()
            .find(|o| o["metadata"]["name"] == format!("magento-web-{colour}"))
            .unwrap();
        assert_eq!(
            deployment["spec"]["template"]["metadata"]["labels"]["argocd-wasm-plugin.io/log-channels"],
            "admin_auth.customer_pii.http.payment"
        );
    }
}
