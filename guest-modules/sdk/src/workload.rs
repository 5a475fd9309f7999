//! Where objects keep the pods they run: one answer for every module.

use serde_json::{Map, Value};

use crate::{FieldPath, Object};

/// The kinds whose pods come from `spec.template`: the built-in workloads and Argo Rollouts.
const TEMPLATE_KINDS: [&str; 6] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "Rollout",
];

fn spec_template() -> FieldPath {
    FieldPath::default().key("spec").key("template")
}

fn job_template() -> FieldPath {
    FieldPath::default()
        .key("spec")
        .key("jobTemplate")
        .key("spec")
        .key("template")
}

/// Where a kind keeps its pod template: `spec.jobTemplate.spec.template` for a CronJob,
/// `spec.template` for a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or Argo
/// Rollout; `None` for any other kind (a Pod is its own pod). For an object, prefer
/// [`Object::pod_template_path`], which also finds the templates of custom resources.
pub fn pod_template_path(kind: &str) -> Option<FieldPath> {
    match kind {
        "CronJob" => Some(job_template()),
        kind if TEMPLATE_KINDS.contains(&kind) => Some(spec_template()),
        _ => None,
    }
}

impl Object {
    /// Where this object keeps its pod template: by kind (see [`pod_template_path`]), even
    /// when the template is not written yet; for other kinds (custom resources shaped like
    /// a workload), wherever `spec.template` or `spec.jobTemplate.spec.template` holds an
    /// object.
    pub fn pod_template_path(&self) -> Option<FieldPath> {
        pod_template_path(self.kind()).or_else(|| {
            [spec_template(), job_template()]
                .into_iter()
                .find(|path| self.get_path(path).is_some_and(Value::is_object))
        })
    }

    /// The template of the pods this object runs, when it has one.
    pub fn pod_template(&self) -> Option<&Map<String, Value>> {
        self.get_path(&self.pod_template_path()?)?.as_object()
    }

    /// The labels of the pods this object runs: a Pod's own, else its template's. What
    /// Service selectors and PodDisruptionBudgets see.
    pub fn pod_labels(&self) -> Option<&Map<String, Value>> {
        let owner = match self.is_kind("Pod") {
            true => self.as_map(),
            false => self.pod_template()?,
        };
        owner.get("metadata")?.get("labels")?.as_object()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        Object::from_value(value).unwrap()
    }

    #[test]
    fn finds_templates_by_kind_and_by_shape() {
        let path = |value: Value| object(value).pod_template_path().map(|p| p.to_string());
        assert_eq!(
            path(json!({"kind": "Deployment"})).as_deref(),
            Some("spec.template")
        );
        assert_eq!(
            path(json!({"kind": "CronJob"})).as_deref(),
            Some("spec.jobTemplate.spec.template")
        );
        let custom =
            json!({"kind": "Workflow", "spec": {"jobTemplate": {"spec": {"template": {}}}}});
        assert_eq!(
            path(custom).as_deref(),
            Some("spec.jobTemplate.spec.template")
        );
        assert_eq!(path(json!({"kind": "Service", "spec": {}})), None);
        assert_eq!(pod_template_path("Pod"), None);
    }

    #[test]
    fn pod_labels_are_a_pods_own_or_its_templates() {
        let pod = object(json!({"kind": "Pod", "metadata": {"labels": {"app": "a"}}}));
        assert_eq!(pod.pod_labels().unwrap()["app"], "a");
        let cron = object(
            json!({"kind": "CronJob", "metadata": {"labels": {"app": "own"}},
            "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "pods"}}}}}}}),
        );
        assert_eq!(cron.pod_labels().unwrap()["app"], "pods");
        assert_eq!(object(json!({"kind": "Deployment"})).pod_labels(), None);
    }
}
