//! Runs the module the way the host does and reads a routing table's expectations straight
//! from its JSON and the rules table of docs/log-routing.md, independently of the module's
//! own code.

use argocd_wasm_sdk::Diagnostic;
use argocd_wasm_sdk::testing::TestRun;
use log_routing::LogRouting;
use serde_json::Value;

use crate::check::{Checked, Stability, check};
use crate::eval::{Delivery, Pod, Runtime, Written};

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
    let config_map = kit_object(
        config,
        &out.objects,
        "ConfigMap",
        "configMap",
        "alloy-config",
    );
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

/// A kit object by its `with.alloy` name setting (or that setting's default).
pub fn kit_object<'a>(
    config: &Value,
    objects: &'a [Value],
    kind: &str,
    setting_name: &str,
    default: &str,
) -> &'a Value {
    let namespace = setting(config, "alloy", "namespace", "monitoring");
    let name = setting(config, "alloy", setting_name, default);
    objects
        .iter()
        .find(|o| {
            o["kind"] == kind
                && o["metadata"]["name"] == name.as_str()
                && o["metadata"]["namespace"] == namespace.as_str()
        })
        .unwrap_or_else(|| panic!("no {kind} {namespace}/{name} in the output"))
}

/// The environment the Alloy container of the emitted DaemonSet gets on `node`: literal
/// values, and the downward API's `spec.nodeName` and `metadata.name`.
pub fn alloy_env(config: &Value, objects: &[Value], node: &str) -> Vec<(String, String)> {
    let daemon_set = kit_object(config, objects, "DaemonSet", "daemonSet", "alloy");
    let containers = daemon_set["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    containers
        .iter()
        .flat_map(|c| c["env"].as_array().into_iter().flatten())
        .map(|env| {
            let value = match env["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                Some("spec.nodeName") => node.to_owned(),
                Some("metadata.name") => "alloy-x7k2p".to_owned(),
                _ => env["value"].as_str().unwrap_or_default().to_owned(),
            };
            (env["name"].as_str().unwrap().to_owned(), value)
        })
        .collect()
}

/// Asserts the emitted DaemonSet runs Alloy at a `--stability.level` that admits every
/// component of the config (Alloy refuses the whole file otherwise).
pub fn assert_stability_admitted(config: &Value, rendered: &Rendered) {
    let needed = checked(&rendered.text).least_stability();
    let daemon_set = kit_object(config, &rendered.objects, "DaemonSet", "daemonSet", "alloy");
    let args: Vec<&str> = daemon_set["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["args"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let inline = args
        .iter()
        .find_map(|a| a.strip_prefix("--stability.level="));
    let separate = args
        .windows(2)
        .find(|pair| pair[0] == "--stability.level")
        .map(|pair| pair[1]);
    let admitted = Stability::from_flag(inline.or(separate));
    assert!(
        admitted <= needed,
        "the config needs --stability.level={}, the DaemonSet runs {args:?}",
        needed.flag_value()
    );
}

/// Borrows an owned environment the way `Runtime::new` takes it.
pub fn env_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
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
    setting(config, "labels", "pod", "log-channel")
}

/// The tier a route sends a channel to.
fn routed_tier(config: &Value, channel: &str) -> Option<String> {
    config["routes"]
        .as_object()?
        .iter()
        .find_map(|(tier, channels)| {
            let listed = channels.as_array()?.iter().any(|c| c == channel);
            listed.then(|| tier.clone())
        })
}

/// Where a line goes, by the rules table of docs/log-routing.md: its tier and the channel
/// label it carries.
/// 1. A pod that declares no channel: `defaultTier`, no channel.
/// 2. A line naming a channel its pod declares and a route names: that route's tier.
/// 3. Otherwise, a pod whose channels a route all sends to one tier: that tier.
/// 4. Otherwise: `unclassifiedTier`.
///
/// The channel label is the line's channel under rule 2, else the pod's only channel.
pub fn expected(
    config: &Value,
    declared: Option<&[&str]>,
    line_channel: Option<&str>,
) -> (String, Option<String>) {
    let Some(declared) = declared.filter(|d| !d.is_empty()) else {
        return (config["defaultTier"].as_str().unwrap().to_owned(), None);
    };
    let only = (declared.len() == 1).then(|| declared[0].to_owned());
    let accepted = line_channel
        .filter(|c| declared.contains(c))
        .and_then(|c| Some((routed_tier(config, c)?, c.to_owned())));
    if let Some((tier, channel)) = accepted {
        return (tier, Some(channel));
    }
    let tiers: Vec<Option<String>> = declared.iter().map(|c| routed_tier(config, c)).collect();
    let one_tier = tiers.iter().all(|t| t.is_some() && *t == tiers[0]);
    let tier = if one_tier {
        tiers[0].clone().unwrap()
    } else {
        config["unclassifiedTier"].as_str().unwrap().to_owned()
    };
    (tier, only)
}

/// Every channel a route names.
pub fn routed_channels(config: &Value) -> Vec<String> {
    config["routes"]
        .as_object()
        .into_iter()
        .flat_map(|routes| routes.values())
        .flat_map(|channels| channels.as_array().into_iter().flatten())
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect()
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

/// Whether a tier is a Loki tier.
pub fn is_loki(config: &Value, tier: &str) -> bool {
    sink_of(config, tier).starts_with("loki.write.")
}

/// A log line naming its channel in the table's line format.
pub fn line_naming(config: &Value, channel: &str) -> String {
    let field = setting(config, "lines", "field", "channel");
    match setting(config, "lines", "format", "json").as_str() {
        "logfmt" => format!("level=info {field}={channel} msg=\"order placed\""),
        _ => serde_json::json!({field: channel, "message": "order placed"}).to_string(),
    }
}

/// Sends a container's output through the config and asserts it becomes exactly one entry
/// at `sink`, with the channel label `channel`, no routing label left, and the standard
/// labels set. Returns the entry's line.
pub fn assert_routed(
    runtime: &Runtime,
    config: &Value,
    pod: &Pod,
    written: &[Written],
    sink: &str,
    channel: Option<&str>,
) -> String {
    let deliveries = runtime.deliver(pod, written);
    let [
        Delivery {
            sink: reached,
            labels,
            line,
        },
    ] = deliveries.as_slice()
    else {
        panic!(
            "the output of pod {} reached {deliveries:#?}, expected one entry at {sink}",
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
        !labels
            .keys()
            .any(|label| label.starts_with("routing_") || label == "filename"),
        "routing labels must not leave Alloy: {labels:?}"
    );
    for standard in ["namespace", "pod", "container", "stream"] {
        assert!(
            labels.contains_key(standard),
            "{standard} missing: {labels:?}"
        );
    }
    line.clone()
}
