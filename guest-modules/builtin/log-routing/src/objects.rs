//! The workload half: the pod labels that declare the channels a workload's pods log.

use argocd_wasm_sdk::{Diagnostic, FieldPath, Object, Objects, Result};
use serde_json::Value;

use crate::config::{LogRouting, Workload};
use crate::validate::declared_channels;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_where_pod_templates_live() {
        assert_eq!(template_path("Deployment").to_string(), "spec.template");
        assert_eq!(
            template_path("CronJob").to_string(),
            "spec.jobTemplate.spec.template"
        );
        assert_eq!(pod_template_path("Service"), None);
    }
}
