//! `commonLabels`, `labels` and `commonAnnotations`, driven by kustomize's default field
//! specs (api/internal/konfig/builtinpluginconsts: commonlabels.go, metadatalabels.go,
//! commonannotations.go).

use crate::config::{LabelSet, StringMap};
use crate::fieldspec::{FieldSpec, segments, set_entry, visit_map};
use crate::kinds::Gvk;
use crate::resource::Resource;

const METADATA_LABELS: FieldSpec = FieldSpec::new(Gvk::ANY, "metadata/labels", true);

/// Where pod and volume-claim templates keep their labels (metadatalabels.go without its
/// `metadata/labels` entry): what `includeTemplates` adds.
const TEMPLATE_LABELS: &[FieldSpec] = &[
    FieldSpec::new(
        Gvk::new("", "v1", "ReplicationController"),
        "spec/template/metadata/labels",
        true,
    ),
    FieldSpec::new(
        Gvk::kind("Deployment"),
        "spec/template/metadata/labels",
        true,
    ),
    FieldSpec::new(
        Gvk::kind("ReplicaSet"),
        "spec/template/metadata/labels",
        true,
    ),
    FieldSpec::new(
        Gvk::kind("DaemonSet"),
        "spec/template/metadata/labels",
        true,
    ),
    FieldSpec::new(
        Gvk::new("apps", "", "StatefulSet"),
        "spec/template/metadata/labels",
        true,
    ),
    FieldSpec::new(
        Gvk::new("apps", "", "StatefulSet"),
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
    FieldSpec::new(
        Gvk::new("batch", "", "Job"),
        "spec/template/metadata/labels",
        true,
    ),
    FieldSpec::new(
        Gvk::new("batch", "", "CronJob"),
        "spec/jobTemplate/metadata/labels",
        true,
    ),
    FieldSpec::new(
        Gvk::new("batch", "", "CronJob"),
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

const AFFINITY_TERMS: [&str; 5] = [
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
];

/// The selectors commonLabels (and `includeSelectors`) also write (commonlabels.go).
const SELECTOR_LABELS: &[FieldSpec] = &[
    FieldSpec::new(Gvk::new("", "v1", "Service"), "spec/selector", true),
    FieldSpec::new(
        Gvk::new("", "v1", "ReplicationController"),
        "spec/selector",
        true,
    ),
    FieldSpec::new(Gvk::kind("Deployment"), "spec/selector/matchLabels", true),
    FieldSpec::new(Gvk::kind("ReplicaSet"), "spec/selector/matchLabels", true),
    FieldSpec::new(Gvk::kind("DaemonSet"), "spec/selector/matchLabels", true),
    FieldSpec::new(
        Gvk::new("apps", "", "StatefulSet"),
        "spec/selector/matchLabels",
        true,
    ),
    FieldSpec::new(
        Gvk::new("batch", "", "Job"),
        "spec/selector/matchLabels",
        false,
    ),
    FieldSpec::new(
        Gvk::new("batch", "", "CronJob"),
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    FieldSpec::new(
        Gvk::new("policy", "", "PodDisruptionBudget"),
        "spec/selector/matchLabels",
        false,
    ),
    FieldSpec::new(
        Gvk::new("networking.k8s.io", "", "NetworkPolicy"),
        "spec/podSelector/matchLabels",
        false,
    ),
    FieldSpec::new(
        Gvk::new("networking.k8s.io", "", "NetworkPolicy"),
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    FieldSpec::new(
        Gvk::new("networking.k8s.io", "", "NetworkPolicy"),
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
];

/// Pod-affinity and topology label selectors of Deployments and StatefulSets, written only
/// where they already exist.
const AFFINITY_KINDS: [Gvk; 2] = [
    Gvk::new("apps", "", "Deployment"),
    Gvk::new("apps", "", "StatefulSet"),
];

const ANNOTATIONS: &[FieldSpec] = &[
    FieldSpec::new(Gvk::ANY, "metadata/annotations", true),
    FieldSpec::new(
        Gvk::new("", "v1", "ReplicationController"),
        "spec/template/metadata/annotations",
        true,
    ),
    FieldSpec::new(
        Gvk::kind("Deployment"),
        "spec/template/metadata/annotations",
        true,
    ),
    FieldSpec::new(
        Gvk::kind("ReplicaSet"),
        "spec/template/metadata/annotations",
        true,
    ),
    FieldSpec::new(
        Gvk::kind("DaemonSet"),
        "spec/template/metadata/annotations",
        true,
    ),
    FieldSpec::new(
        Gvk::kind("StatefulSet"),
        "spec/template/metadata/annotations",
        true,
    ),
    FieldSpec::new(
        Gvk::new("batch", "", "Job"),
        "spec/template/metadata/annotations",
        true,
    ),
    FieldSpec::new(
        Gvk::new("batch", "", "CronJob"),
        "spec/jobTemplate/metadata/annotations",
        true,
    ),
    FieldSpec::new(
        Gvk::new("batch", "", "CronJob"),
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

/// Which label field specs a set of labels writes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reach {
    Metadata,
    Templates,
    Everything,
}

impl Reach {
    fn of(set: &LabelSet) -> Self {
        match (set.include_selectors, set.include_templates) {
            (true, _) => Reach::Everything,
            (false, true) => Reach::Templates,
            (false, false) => Reach::Metadata,
        }
    }

    fn specs(self) -> Vec<FieldSpec> {
        let mut specs = vec![METADATA_LABELS];
        if self != Reach::Metadata {
            specs.extend_from_slice(TEMPLATE_LABELS);
        }
        if self == Reach::Everything {
            specs.extend_from_slice(SELECTOR_LABELS);
            for gvk in AFFINITY_KINDS {
                specs.extend(AFFINITY_TERMS.map(|path| FieldSpec::new(gvk, path, false)));
            }
        }
        specs
    }
}

/// `labels` entries in order, then `commonLabels` (which reach selectors and templates), as
/// kustomize configures its label transformers.
pub fn apply_labels(resources: &mut [Resource], labels: &[LabelSet], common: &StringMap) {
    for set in labels {
        apply_pairs(resources, &set.pairs, &Reach::of(set).specs());
    }
    apply_pairs(resources, common, &Reach::Everything.specs());
}

pub fn apply_annotations(resources: &mut [Resource], annotations: &StringMap) {
    apply_pairs(resources, annotations, ANNOTATIONS);
}

fn apply_pairs(resources: &mut [Resource], pairs: &StringMap, specs: &[FieldSpec]) {
    if pairs.is_empty() {
        return;
    }
    // Split the paths once, not once per object.
    let paths: Vec<Vec<String>> = specs.iter().map(|spec| segments(spec.path)).collect();
    for resource in resources {
        let object = &mut resource.object;
        let applicable: Vec<(&FieldSpec, &Vec<String>)> = specs
            .iter()
            .zip(&paths)
            .filter(|(spec, _)| spec.gvk.selects_object(object))
            .collect();
        for (spec, path) in applicable {
            visit_map(object.as_map_mut(), path, spec.create, &mut |node| {
                for (key, value) in pairs {
                    set_entry(node, key, value);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argocd_wasm_sdk::Object;
    use serde_json::{Value, json};

    fn resource(value: Value) -> Resource {
        Resource::new(Object::from_value(value).unwrap())
    }

    fn pairs(entries: &[(&str, &str)]) -> StringMap {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn deployment() -> Resource {
        resource(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {
                "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "web"}}}
                ]}}
            }}}
        }))
    }

    #[test]
    fn common_labels_reach_selectors_templates_and_affinity() {
        let mut resources = vec![deployment()];
        apply_labels(&mut resources, &[], &pairs(&[("env", "stage")]));
        let object = resources[0].object.as_map();
        assert_eq!(object["metadata"]["labels"], json!({"env": "stage"}));
        assert_eq!(
            object["spec"]["selector"]["matchLabels"],
            json!({"app": "web", "env": "stage"})
        );
        assert_eq!(
            object["spec"]["template"]["metadata"]["labels"],
            json!({"env": "stage"})
        );
        let term = &object["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            [0];
        assert_eq!(term["labelSelector"]["matchLabels"]["env"], "stage");
    }

    #[test]
    fn label_sets_reach_only_what_they_include() {
        let set = |include_selectors, include_templates| LabelSet {
            pairs: pairs(&[("team", "x")]),
            include_selectors,
            include_templates,
        };
        let cases = [
            (set(false, false), false, false),
            (set(false, true), true, false),
            (set(true, false), true, true),
        ];
        for (set, in_template, in_selector) in cases {
            let mut resources = vec![deployment()];
            apply_labels(&mut resources, &[set], &StringMap::new());
            let object = resources[0].object.as_map();
            assert_eq!(object["metadata"]["labels"]["team"], "x");
            assert_eq!(
                object["spec"]["template"].get("metadata").is_some(),
                in_template
            );
            assert_eq!(
                object["spec"]["selector"]["matchLabels"]
                    .get("team")
                    .is_some(),
                in_selector
            );
        }
    }

    #[test]
    fn creates_service_selectors_but_not_job_selectors() {
        let mut resources = vec![
            resource(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "ExternalName"}}),
            ),
            resource(
                json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {}}}),
            ),
            resource(
                json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}, "spec": {"selector": {"matchLabels": {"a": "b"}}}}),
            ),
        ];
        apply_labels(&mut resources, &[], &pairs(&[("env", "stage")]));
        assert_eq!(
            resources[0].object.as_map()["spec"]["selector"],
            json!({"env": "stage"})
        );
        assert!(
            resources[1].object.as_map()["spec"]
                .get("selector")
                .is_none()
        );
        assert_eq!(
            resources[1].object.as_map()["spec"]["template"]["metadata"]["labels"]["env"],
            "stage"
        );
        assert_eq!(
            resources[2].object.as_map()["spec"]["selector"]["matchLabels"]["env"],
            "stage"
        );
    }

    #[test]
    fn annotations_reach_pod_templates_of_workloads_only() {
        let mut resources = vec![
            deployment(),
            resource(
                json!({"apiVersion": "example.com/v1", "kind": "Foo", "metadata": {"name": "f"},
                            "spec": {"template": {"metadata": {"annotations": {}}}}}),
            ),
        ];
        apply_annotations(&mut resources, &pairs(&[("owner", "platform")]));
        let deployment = resources[0].object.as_map();
        assert_eq!(
            deployment["spec"]["template"]["metadata"]["annotations"]["owner"],
            "platform"
        );
        let custom = resources[1].object.as_map();
        assert_eq!(custom["metadata"]["annotations"]["owner"], "platform");
        assert_eq!(
            custom["spec"]["template"]["metadata"]["annotations"],
            json!({})
        );
    }
}
