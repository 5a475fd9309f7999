//! Applying patches to the level's objects, as kustomize's PatchStrategicMergeTransformer,
//! PatchTransformer and PatchJson6902Transformer do.

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use serde_json::{Map, Value};

use crate::config::{Operation, PatchOptions};
use crate::json6902;
use crate::kinds::{is_built_in, version_of};
use crate::openapi::OpenApi;
use crate::resource::{Id, Resource, effective_namespace};
use crate::selector::Selector;
use crate::smp::{Schema, merge};

/// How kustomize reads a patch's labels and annotations: `patchesStrategicMerge` and targeted
/// `patches` go through its metadata copy, which turns their values into strings (`null`
/// becomes `"null"` and so cannot delete a label); untargeted `patches` keep them as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metadata {
    Stringified,
    AsWritten,
}

/// A strategic-merge patch without a target patches the one object that has or had the
/// patch's apiVersion, kind, name and namespace; none or several is an error.
pub fn by_identity(
    resources: &mut Vec<Resource>,
    patch: &Map<String, Value>,
    metadata: Metadata,
    openapi: &OpenApi,
    field: &str,
) -> Result<()> {
    let text = |key: &str| patch.get(key).and_then(Value::as_str).unwrap_or_default();
    let meta_map = patch.get("metadata");
    let meta = |key: &str| meta_map.and_then(|m| m.get(key)).and_then(Value::as_str);
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let wanted = Id {
        kind: kind.to_owned(),
        name: meta("name").unwrap_or_default().to_owned(),
        namespace: effective_namespace(api_version, kind, meta("namespace")).to_owned(),
    };
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    let version = version_of(api_version);
    let matching: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.object.group() == group && r.version() == version)
        .filter(|(_, r)| r.has_id(&wanted))
        .map(|(i, _)| i)
        .collect();
    let [index] = matching[..] else {
        let count = match matching.len() {
            0 => "no object".to_owned(),
            n => format!("{n} objects"),
        };
        return Err(Diagnostic::error(format!(
            "the patch of {kind} `{}` ({api_version}, namespace {}) matches {count}; \
             a patch without a target must match exactly one",
            wanted.name, wanted.namespace
        ))
        .at(field));
    };
    if !strategic_merge(
        &mut resources[index],
        patch,
        metadata,
        &PatchOptions::default(),
        openapi,
        field,
    )? {
        resources.remove(index);
    }
    Ok(())
}

/// A strategic-merge patch with a target patches every selected object; the patch's own
/// name, kind and namespace apply only as the options allow.
pub fn selected_strategic_merge(
    resources: &mut Vec<Resource>,
    patch: &Map<String, Value>,
    selector: &Selector,
    options: &PatchOptions,
    openapi: &OpenApi,
    field: &str,
) -> Result<()> {
    let mut index = 0;
    while index < resources.len() {
        let resource = &mut resources[index];
        let kept = !selector.matches(resource)
            || strategic_merge(
                resource,
                patch,
                Metadata::Stringified,
                options,
                openapi,
                field,
            )?;
        match kept {
            true => index += 1,
            false => {
                resources.remove(index);
            }
        }
    }
    Ok(())
}

/// A JSON 6902 patch applies to every selected object; one that matches nothing does
/// nothing, as in kustomize. Each selected object keeps its identity before the patch, so
/// references follow a rename the patch makes.
pub fn selected_json6902(
    resources: &mut [Resource],
    operations: &[Operation],
    selector: &Selector,
    field: &str,
) -> Result<()> {
    for resource in resources.iter_mut().filter(|r| selector.matches(r)) {
        resource.store_previous_id();
        let mut document = Value::Object(std::mem::take(resource.object.as_map_mut()));
        let outcome = json6902::apply(&mut document, operations);
        if let Value::Object(map) = document {
            *resource.object.as_map_mut() = map;
        }
        outcome.map_err(|problem| Diagnostic::error(problem).on(&resource.object).at(field))?;
    }
    Ok(())
}

/// Merges the patch into the object. Returns false when the patch deleted the object.
fn strategic_merge(
    resource: &mut Resource,
    patch: &Map<String, Value>,
    metadata: Metadata,
    options: &PatchOptions,
    openapi: &OpenApi,
    field: &str,
) -> Result<bool> {
    let object = &resource.object;
    let (api_version, kind, name) = (
        object.api_version().to_owned(),
        object.kind().to_owned(),
        object.name().to_owned(),
    );
    let namespace = object.namespace().map(str::to_owned);
    // kyaml merges a whole-object `$patch: replace` into a copy it then drops: the object
    // stays as it was.
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        return Ok(true);
    }
    if options.allow_name_change || options.allow_kind_change {
        resource.store_previous_id();
    }
    let built_in = is_built_in(&resource.object);
    let schema = Schema::of(openapi, built_in, &api_version, &kind);
    let mut patch = match metadata {
        Metadata::Stringified => stringify_metadata(patch),
        Metadata::AsWritten => patch.clone(),
    };
    patch.insert("apiVersion".to_owned(), Value::from(api_version));
    let before = resource.object.reference();
    let document = Value::Object(std::mem::take(resource.object.as_map_mut()));
    let merged = merge(document, &Value::Object(patch), schema)
        .map_err(|problem| Diagnostic::error(problem).on(before).at(field))?;
    let Some(Value::Object(merged)) = merged else {
        return Ok(false);
    };
    if merged.is_empty() {
        return Ok(false);
    }
    *resource.object.as_map_mut() = merged;
    if !options.allow_kind_change {
        resource
            .object
            .as_map_mut()
            .insert("kind".to_owned(), Value::from(kind));
    }
    if !options.allow_name_change {
        resource.set_name(&name);
    }
    resource.set_namespace(namespace.as_deref());
    Ok(true)
}

fn stringify_metadata(patch: &Map<String, Value>) -> Map<String, Value> {
    let mut patch = patch.clone();
    let Some(Value::Object(metadata)) = patch.get_mut("metadata") else {
        return patch;
    };
    for key in ["labels", "annotations"] {
        let Some(Value::Object(pairs)) = metadata.get_mut(key) else {
            continue;
        };
        for value in pairs.values_mut() {
            let text = match &*value {
                Value::String(_) => continue,
                Value::Null => "null".to_owned(),
                other => other.to_string(),
            };
            *value = Value::from(text);
        }
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Target;
    use argocd_wasm_sdk::Object;
    use serde_json::json;

    fn resources() -> Vec<Resource> {
        [
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "b"}},
                   "spec": {"replicas": 1}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"k": "v"}}),
        ]
        .into_iter()
        .map(|value| Resource::new(Object::from_value(value).unwrap()))
        .collect()
    }

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn selector(target: Value) -> Selector {
        let target: Target = serde_json::from_value(target).unwrap();
        Selector::compile(&target).unwrap()
    }

    #[test]
    fn patches_by_identity_including_earlier_names() {
        let mut resources = resources();
        // A namePrefix renamed the Deployment.
        resources[0].store_previous_id();
        resources[0].set_name("p-web");
        let patch = map(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}}),
        );
        by_identity(
            &mut resources,
            &patch,
            Metadata::AsWritten,
            &OpenApi::BuiltIn,
            "with.patches[0]",
        )
        .unwrap();
        assert_eq!(
            resources[0].object.get("spec.replicas").unwrap(),
            Some(&json!(3))
        );
        assert_eq!(resources[0].object.name(), "p-web");
    }

    #[test]
    fn a_patch_without_a_match_is_an_error() {
        let cases = [
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nope"}}),
            json!({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "web"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "x"}}),
        ];
        for case in cases {
            let error = by_identity(
                &mut resources(),
                &map(case.clone()),
                Metadata::Stringified,
                &OpenApi::BuiltIn,
                "with.patchesStrategicMerge[1]",
            )
            .unwrap_err();
            assert_eq!(
                error.field.as_deref(),
                Some("with.patchesStrategicMerge[1]"),
                "{case}"
            );
            assert!(
                error.message.contains("matches no object"),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn delete_patches_remove_the_object() {
        let mut resources = resources();
        let patch = map(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "$patch": "delete"}),
        );
        by_identity(
            &mut resources,
            &patch,
            Metadata::AsWritten,
            &OpenApi::BuiltIn,
            "with.patches[0]",
        )
        .unwrap();
        assert_eq!(resources.len(), 1);
    }

    #[test]
    fn targeted_patches_keep_identity_unless_allowed() {
        let patch = map(
            json!({"kind": "Other", "metadata": {"name": "renamed", "namespace": "x", "labels": {"a": null}}, "spec": {"replicas": 2}}),
        );
        let mut kept = resources();
        selected_strategic_merge(
            &mut kept,
            &patch,
            &selector(json!({"kind": "Deployment"})),
            &PatchOptions::default(),
            &OpenApi::BuiltIn,
            "patches[0]",
        )
        .unwrap();
        let object = &kept[0].object;
        assert_eq!(
            (object.kind(), object.name(), object.namespace()),
            ("Deployment", "web", None)
        );
        assert_eq!(object.label("a"), Some("null"));
        assert_eq!(object.get("spec.replicas").unwrap(), Some(&json!(2)));

        let mut renamed = resources();
        let options = PatchOptions {
            allow_name_change: true,
            allow_kind_change: true,
        };
        selected_strategic_merge(
            &mut renamed,
            &patch,
            &selector(json!({"name": "web"})),
            &options,
            &OpenApi::BuiltIn,
            "patches[0]",
        )
        .unwrap();
        assert_eq!(
            (renamed[0].object.kind(), renamed[0].object.name()),
            ("Other", "renamed")
        );
        assert_eq!(renamed[0].original().name, "web");
    }

    #[test]
    fn mismatched_node_kinds_fail_like_kyaml() {
        let patch = map(json!({"spec": {"replicas": {"a": 1}}}));
        let error = selected_strategic_merge(
            &mut resources(),
            &patch,
            &selector(json!({"kind": "Deployment"})),
            &PatchOptions::default(),
            &OpenApi::BuiltIn,
            "patches[2]",
        )
        .unwrap_err();
        assert_eq!(error.field.as_deref(), Some("patches[2]"));
        assert!(
            error
                .message
                .contains("a map at `spec.replicas` where the object has a scalar"),
            "{}",
            error.message
        );
    }

    #[test]
    fn json6902_patches_every_selected_object_and_reports_failures() {
        let mut resources = resources();
        let operations: Vec<Operation> = serde_json::from_value(json!([
            {"op": "add", "path": "/metadata/annotations", "value": {"x": "y"}}
        ]))
        .unwrap();
        selected_json6902(
            &mut resources,
            &operations,
            &selector(json!({})),
            "with.patchesJson6902[0]",
        )
        .unwrap();
        assert!(
            resources
                .iter()
                .all(|r| r.object.annotation("x") == Some("y"))
        );
        let failing: Vec<Operation> =
            serde_json::from_value(json!([{"op": "remove", "path": "/spec/missing"}])).unwrap();
        let error = selected_json6902(
            &mut resources,
            &failing,
            &selector(json!({"kind": "Deployment"})),
            "with.patches[3]",
        )
        .unwrap_err();
        assert_eq!(error.field.as_deref(), Some("with.patches[3]"));
        assert_eq!(error.object.unwrap().name, "web");
    }
}
