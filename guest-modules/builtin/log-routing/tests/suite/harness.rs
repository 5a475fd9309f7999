//! Runs the module the way the host does and reads a routing table's expectations straight
//! from its JSON, independently of the module's own code.

use argocd_wasm_sdk::Diagnostic;
use argocd_wasm_sdk::testing::TestRun;
use log_routing::LogRouting;
use serde_json::Value;

use crate::check::{Checked, check};
use crate::eval::{Delivery, Pod, Runtime};

pub struct Rendered {
    pub objects: Vec<Value>,
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// Runs the transform and returns its objects and the `config.alloy` it wrote.
pub fn render(config: &Value, input: Vec<Value>) -> Rendered {
    let out = TestRun::new()
        .config(config.clone())
        .run::<LogRouting>(input)
        .unwrap_or_else(|diagnostics| panic!("transform failed: {diagnostics:#?}"));
    let (namespace, name) = (
        setting(config, "alloy", "namespace", "monitoring"),
        setting(config, "alloy", "configMap", "alloy-config"),
    );
    let config_map = out
        .objects
        .iter()
        .find(|o| {
            o["kind"] == "ConfigMap"
                && o["metadata"]["name"] == name.as_str()
                && o["metadata"]["namespace"] == namespace.as_str()
        })
        .unwrap_or_else(|| panic!("no ConfigMap {namespace}/{name} in the output"));
    let text = config_map["data"]["config.alloy"]
        .as_str()
        .expect("config.alloy is a string")
        .to_owned();
    Rendered {
        objects: out.objects,
        text,
        diagnostics: out.diagnostics,
    }
}

/// Parses and checks the text, failing the test with every problem found.
pub fn checked(text: &str) -> Checked {
    check(text).unwrap_or_else(|problems| {
        panic!("the generated config does not check:\n{problems:#?}\n---\n{text}")
    })
}

/// `with.<section>.<field>`, or its documented default.
pub fn setting(config: &Value, section: &str, field: &str, default: &str) -> String {
    config[section][field]
        .as_str()
        .unwrap_or(default)
        .to_owned()
}

pub fn channel_label(config: &Value) -> String {
    setting(config, "labels", "channel", "channel")
}

pub fn pod_label(config: &Value) -> String {
    setting(
        config,
        "labels",
        "pod",
        "argocd-wasm-plugin.io/log-channels",
    )
}

/// The tier a line with this channel belongs to, by the table's own words.
pub fn expected_tier(config: &Value, channel: Option<&str>) -> String {
    let routed = channel.and_then(|channel| {
        config["routes"]
            .as_object()?
            .iter()
            .find_map(|(tier, channels)| {
                let listed = channels.as_array()?.iter().any(|c| c == channel);
                listed.then(|| tier.clone())
            })
    });
    routed.unwrap_or_else(|| config["defaultTier"].as_str().unwrap().to_owned())
}

/// The channels a line may name: those a route or a workload declaration mentions.
pub fn known_channels(config: &Value) -> Vec<String> {
    let listed = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let routed = config["routes"]
        .as_object()
        .into_iter()
        .flat_map(|routes| routes.values());
    let declared = config["workloads"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| &w["channels"]);
    routed.chain(declared).flat_map(listed).collect()
}

/// The Alloy component a tier's lines end in.
pub fn sink_of(config: &Value, tier: &str) -> String {
    let tier_config = config["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tier)
        .unwrap_or_else(|| panic!("no tier {tier}"));
    if tier_config.get("s3").is_some() {
        format!("otelcol.exporter.awss3.tier_{tier}")
    } else {
        format!("loki.write.tier_{tier}")
    }
}

/// A log line naming its channel in the table's line format.
pub fn line_naming(config: &Value, channel: &str) -> String {
    let field = setting(config, "lines", "field", "channel");
    match setting(config, "lines", "format", "json").as_str() {
        "logfmt" => format!("level=info {field}={channel} msg=\"order placed\""),
        _ => serde_json::json!({field: channel, "message": "order placed"}).to_string(),
    }
}

/// Sends one line of a pod through the config on node `node-a` and asserts it reaches
/// exactly `sink`, with the channel label `channel` and no routing label left.
pub fn assert_routed(
    runtime: &Runtime,
    config: &Value,
    pod: &Pod,
    line: &str,
    sink: &str,
    channel: Option<&str>,
) {
    let deliveries = runtime.deliver(pod, line);
    let [
        Delivery {
            sink: reached,
            labels,
        },
    ] = deliveries.as_slice()
    else {
        panic!(
            "line {line:?} of pod {} reached {deliveries:#?}, expected only {sink}",
            pod.name
        );
    };
    assert_eq!(reached, sink, "line {line:?} of pod {}", pod.name);
    assert_eq!(
        labels.get(&channel_label(config)).map(String::as_str),
        channel,
        "channel label of line {line:?} of pod {}",
        pod.name
    );
    assert!(
        !labels.keys().any(|label| label.starts_with("routing_")),
        "routing labels must not leave Alloy: {labels:?}"
    );
    for standard in ["namespace", "pod", "container"] {
        assert!(
            labels.contains_key(standard),
            "{standard} missing: {labels:?}"
        );
    }
}
