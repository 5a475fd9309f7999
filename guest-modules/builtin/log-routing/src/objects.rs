//! The edits to the object stream: the Alloy ConfigMap, the pod labels of workloads that
//! declare channels, and the checksum that restarts Alloy when its config changes.

use argocd_wasm_sdk::{Diagnostic, FieldPath, Object, Objects, Result};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::{LogRouting, Workload};
use crate::validate::declared_channels;

/// The ConfigMap key Alloy's Helm chart reads its config from.
pub const CONFIG_KEY: &str = "config.alloy";
/// The pod template annotation that changes whenever the config does.
pub const CHECKSUM_ANNOTATION: &str = "argocd-wasm-plugin.io/alloy-config-sha256";
/// The flag otelcol.exporter.awss3 needs.
const EXPERIMENTAL_FLAG: &str = "--stability.level=experimental";

/// Where a kind keeps its pod template; `None` for kinds without one.
pub fn pod_template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "Rollout" => {
            Some(&["spec", "template"])
        }
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// Lowercase hex SHA-256 of the config text.
pub fn checksum(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// An object in Alloy's namespace, or without a namespace yet (the Application's
/// destination namespace decides later).
fn in_namespace(object: &Object, namespace: &str) -> bool {
    object.namespace().is_none_or(|ns| ns == namespace)
}

/// Sets the config on the Alloy ConfigMap of the stream, or appends a new ConfigMap.
/// An existing ConfigMap keeps its other keys and metadata.
pub fn upsert_config_map(config: &LogRouting, objects: &mut Objects, text: &str) -> Result<()> {
    let alloy = &config.alloy;
    let existing = objects.iter_mut().find(|object| {
        object.is_kind("ConfigMap")
            && object.name() == alloy.config_map
            && in_namespace(object, &alloy.namespace)
    });
    match existing {
        Some(config_map) => {
            let path = FieldPath::default().key("data").key(CONFIG_KEY);
            config_map.set_path(&path, Value::from(text))
        }
        None => {
            let config_map = Object::from_value(json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": alloy.config_map, "namespace": alloy.namespace},
                "data": {CONFIG_KEY: text},
            }))?;
            objects.push(config_map);
            Ok(())
        }
    }
}

/// Labels the pod templates of the declared workloads. Returns a warning for each declared
/// workload the stream does not hold.
pub fn label_workloads(config: &LogRouting, objects: &mut Objects) -> Result<Vec<Diagnostic>> {
    let mut missing = Vec::new();
    for (i, workload) in config.workloads.iter().enumerate() {
        let mut found = false;
        for object in objects
            .iter_mut()
            .filter(|object| is_workload(object, workload))
        {
            label_pod_template(object, workload, &config.labels.pod)?;
            found = true;
        }
        if !found {
            let message = format!(
                "declared workload {} `{}` is not in this step's objects: its pods are not labelled",
                workload.kind, workload.name
            );
            missing.push(
                Diagnostic::warning(message)
                    .at(FieldPath::default().key("with").key("workloads").index(i)),
            );
        }
    }
    Ok(missing)
}

fn is_workload(object: &Object, workload: &Workload) -> bool {
    object.is_kind(&workload.kind)
        && object.name() == workload.name
        && workload
            .namespace
            .as_deref()
            .is_none_or(|namespace| object.namespace() == Some(namespace))
}

fn label_pod_template(object: &mut Object, workload: &Workload, key: &str) -> Result<()> {
    let path = template_path(&workload.kind)
        .key("metadata")
        .key("labels")
        .key(key);
    object.set_path(&path, Value::from(declared_channels(workload)))
}

fn template_path(kind: &str) -> FieldPath {
    pod_template_path(kind)
        .unwrap_or_default()
        .iter()
        .fold(FieldPath::default(), |path, key| path.key(key))
}

/// Stamps the config checksum on the Alloy DaemonSet's pod template, so a routing change
/// rolls its pods. Returns a warning when the config needs experimental components and the
/// DaemonSet does not enable them.
pub fn stamp_daemon_set(
    config: &LogRouting,
    objects: &mut Objects,
    text: &str,
    needs_experimental: bool,
) -> Result<Vec<Diagnostic>> {
    let alloy = &config.alloy;
    let mut findings = Vec::new();
    let daemon_sets = objects.iter_mut().filter(|object| {
        object.is_kind("DaemonSet")
            && object.name() == alloy.daemon_set
            && in_namespace(object, &alloy.namespace)
    });
    for daemon_set in daemon_sets {
        let path = template_path("DaemonSet")
            .key("metadata")
            .key("annotations")
            .key(CHECKSUM_ANNOTATION);
        daemon_set.set_path(&path, Value::from(checksum(text)))?;
        if needs_experimental && !enables_experimental(daemon_set) {
            let message = format!(
                "the config uses otelcol.exporter.awss3, an experimental Alloy component, but no container of this DaemonSet passes `{EXPERIMENTAL_FLAG}`: Alloy will refuse the config"
            );
            findings.push(Diagnostic::warning(message).on(&*daemon_set));
        }
    }
    Ok(findings)
}

/// True when a container passes `--stability.level=experimental` (as one argument or as
/// the flag followed by its value).
fn enables_experimental(object: &mut Object) -> bool {
    object.containers_mut().into_iter().any(|(_, container)| {
        ["command", "args"].iter().any(|field| {
            let words: Vec<&str> = container
                .get(*field)
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            words.contains(&EXPERIMENTAL_FLAG)
                || words
                    .windows(2)
                    .any(|pair| pair == ["--stability.level", "experimental"])
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_sha256_hex() {
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            checksum("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn knows_where_pod_templates_live() {
        assert_eq!(template_path("Deployment").to_string(), "spec.template");
        assert_eq!(
            template_path("CronJob").to_string(),
            "spec.jobTemplate.spec.template"
        );
        assert_eq!(pod_template_path("Service"), None);
    }

    #[test]
    fn finds_the_experimental_flag_in_either_form() {
        let with_args = |args: Value| {
            Object::from_value(json!({
                "kind": "DaemonSet",
                "spec": {"template": {"spec": {"containers": [{"name": "alloy", "args": args}]}}}
            }))
            .unwrap()
        };
        assert!(enables_experimental(&mut with_args(json!([
            "run",
            "--stability.level=experimental"
        ]))));
        assert!(enables_experimental(&mut with_args(json!([
            "--stability.level",
            "experimental"
        ]))));
        assert!(!enables_experimental(&mut with_args(json!([
            "--stability.level=public-preview"
        ]))));
        assert!(!enables_experimental(&mut with_args(json!([]))));
    }
}
