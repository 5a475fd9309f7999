//! The workload half: the pod labels that declare the channels a workload's pods log.

use argocd_wasm_sdk::{Diagnostic, FieldPath, Object, Objects, Result, pod_template_path};
use serde_json::Value;

use crate::config::{LogRouting, Workload};
use crate::validate::declared_channels;

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
                    .at(FieldPath::default().key("with").key("workloads").index(i))
                    .code("workload-not-found"),
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
    // Validation accepts only kinds with a pod template.
    let path = pod_template_path(&workload.kind)
        .unwrap_or_default()
        .key("metadata")
        .key("labels")
        .key(key);
    object.set_path(&path, Value::from(declared_channels(workload)))
}
