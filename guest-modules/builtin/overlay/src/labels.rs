//! `commonLabels`, `labels` and `commonAnnotations`, driven by the field specs of the
//! level's [`Config`] (kustomize's defaults plus `configurations`), configured as kustomize
//! configures its LabelTransformer and AnnotationsTransformer.

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use kustomization::{LabelSet, StringMap};
use serde::Deserialize;

use crate::fieldspec::{FieldSpec, ObjectType, set_entry, visit_map, with_paths};
use crate::kinds::Gvk;
use crate::resource::Resource;
use crate::tconfig::{Config, merge_specs};

/// Every `labels` entry writes `metadata/labels`, unless it includes selectors.
const METADATA_LABELS: FieldSpec = FieldSpec::new(Gvk::ANY, "metadata/labels", true);

/// The field specs one `labels` entry writes: its own `fields`, the config's `labels`, then
/// the selectors and templates of `commonLabels` (`includeSelectors`), or the templates
/// (`includeTemplates`) and `metadata/labels`.
fn label_set_specs(set: &LabelSet, config: &Config, field: &str) -> Result<Vec<FieldSpec>> {
    let invalid = |e: String| Diagnostic::error(e).at(format!("{field}.fields"));
    let mut specs = Vec::new();
    for value in &set.fields {
        let spec =
            FieldSpec::deserialize(value).map_err(|e| invalid(format!("not a field spec: {e}")))?;
        merge_specs(&mut specs, vec![spec]).map_err(invalid)?;
    }
    let mut extra = config.labels.clone();
    if set.include_selectors {
        extra.extend(config.common_labels.iter().cloned());
    } else {
        if set.include_templates {
            extra.extend(config.template_labels.iter().cloned());
        }
        extra.push(METADATA_LABELS);
    }
    merge_specs(&mut specs, extra).map_err(invalid)?;
    Ok(specs)
}

/// `labels` entries in order, then `commonLabels`, as kustomize configures its label
/// transformers.
pub fn apply_labels(
    resources: &mut [Resource],
    labels: &[LabelSet],
    common: &StringMap,
    config: &Config,
) -> Result<()> {
    for (i, set) in labels.iter().enumerate() {
        let specs = label_set_specs(set, config, &format!("labels[{i}]"))?;
        apply_pairs(resources, &set.pairs, &specs);
    }
    apply_pairs(resources, common, &config.common_labels);
    Ok(())
}

pub fn apply_annotations(resources: &mut [Resource], annotations: &StringMap, config: &Config) {
    apply_pairs(resources, annotations, &config.common_annotations);
}

/// Sets every pair in the maps the specs name (a LabelTransformer or AnnotationsTransformer).
pub fn apply_pairs(resources: &mut [Resource], pairs: &StringMap, specs: &[FieldSpec]) {
    if pairs.is_empty() {
        return;
    }
    let specs = with_paths(specs);
    let mut object_type = ObjectType::default();
    for resource in resources {
        let object = &mut resource.object;
        let object_type = object_type.read(object);
        let applicable: Vec<_> = specs
            .iter()
            .filter(|(spec, _)| spec.selects_type(object_type))
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
        apply_labels(
            &mut resources,
            &[],
            &pairs(&[("env", "stage")]),
            &Config::default(),
        )
        .unwrap();
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
            fields: Vec::new(),
        };
        let cases = [
            (set(false, false), false, false),
            (set(false, true), true, false),
            (set(true, false), true, true),
        ];
        for (set, in_template, in_selector) in cases {
            let mut resources = vec![deployment()];
            apply_labels(
                &mut resources,
                &[set],
                &StringMap::new(),
                &Config::default(),
            )
            .unwrap();
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
        apply_labels(
            &mut resources,
            &[],
            &pairs(&[("env", "stage")]),
            &Config::default(),
        )
        .unwrap();
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
        apply_annotations(
            &mut resources,
            &pairs(&[("owner", "platform")]),
            &Config::default(),
        );
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

    fn stateful_set(spec: Value) -> Resource {
        resource(
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}, "spec": spec}),
        )
    }

    #[test]
    fn labels_volume_claim_templates_only_where_they_exist() {
        let mut resources = vec![
            stateful_set(json!({"template": {}})),
            stateful_set(json!({"volumeClaimTemplates": [{"metadata": {"name": "data"}}]})),
        ];
        apply_labels(
            &mut resources,
            &[],
            &pairs(&[("env", "stage")]),
            &Config::default(),
        )
        .unwrap();
        assert!(
            resources[0].object.as_map()["spec"]
                .get("volumeClaimTemplates")
                .is_none()
        );
        assert_eq!(
            resources[1].object.as_map()["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"],
            json!({"env": "stage"})
        );
    }

    #[test]
    fn label_fields_and_configured_specs_are_written_too() {
        let set = LabelSet {
            pairs: pairs(&[("team", "x")]),
            include_selectors: false,
            include_templates: false,
            fields: vec![
                json!({"kind": "Deployment", "path": "spec/extra/labels", "create": true}),
            ],
        };
        let mut config = Config::default();
        config
            .common_annotations
            .push(FieldSpec::new(Gvk::kind("Deployment"), "spec/notes", true));
        let mut resources = vec![deployment()];
        apply_labels(&mut resources, &[set], &StringMap::new(), &config).unwrap();
        apply_annotations(&mut resources, &pairs(&[("owner", "p")]), &config);
        let object = resources[0].object.as_map();
        assert_eq!(object["spec"]["extra"]["labels"], json!({"team": "x"}));
        assert_eq!(object["spec"]["notes"], json!({"owner": "p"}));
        assert!(
            object["spec"]["template"]["metadata"]
                .get("labels")
                .is_none()
        );
    }
}
