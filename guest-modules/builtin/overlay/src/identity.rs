//! Transforms of names, namespaces and replica counts (kustomize's NamespaceTransformer,
//! PrefixSuffixTransformer and ReplicaCountTransformer). Renames record the previous identity
//! so patches, replicas and name references still find the object by its earlier name.

use std::collections::HashSet;

use argocd_wasm_sdk::{Diagnostic, Result};
use serde_json::Value;

use crate::config::Replica;
use crate::fieldspec::FieldSpec;
use crate::kinds::Gvk;
use crate::resource::Resource;

/// Namespace fields besides `metadata.namespace` (namespace.go).
const NAMESPACE_FIELDS: &[FieldSpec] = &[
    FieldSpec::new(
        Gvk::new("apiregistration.k8s.io", "", "APIService"),
        "spec/service/namespace",
        true,
    ),
    FieldSpec::new(
        Gvk::new("apiextensions.k8s.io", "", "CustomResourceDefinition"),
        "spec/conversion/webhook/clientConfig/service/namespace",
        false,
    ),
];

/// Kinds whose names keep no prefix or suffix.
const UNPREFIXED: [Gvk; 3] = [
    Gvk::kind("CustomResourceDefinition"),
    Gvk::new("apiregistration.k8s.io", "", "APIService"),
    Gvk::kind("Namespace"),
];

/// The kinds `replicas:` sets `spec.replicas` on.
const SCALABLE: [&str; 4] = [
    "Deployment",
    "ReplicationController",
    "ReplicaSet",
    "StatefulSet",
];

/// Sets the namespace of namespaced objects; renames `v1` Namespace objects to it; sets it on
/// (Cluster)RoleBinding subjects named `default` (kustomize's default `defaultOnly` mode) and
/// on APIService and CRD conversion-webhook services. Two objects ending up with the same
/// identity is an error, as in kustomize.
pub fn set_namespace(resources: &mut [Resource], namespace: &str) -> Result<()> {
    for resource in resources.iter_mut() {
        if resource.object.as_map().is_empty() {
            continue;
        }
        resource.store_previous_id();
        if !resource.is_cluster_scoped() {
            resource.set_namespace(Some(namespace));
        }
        let object = &resource.object;
        let (api_version, kind) = (object.api_version().to_owned(), object.kind().to_owned());
        if api_version == "v1" && kind == "Namespace" {
            resource.set_name(namespace);
        }
        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            set_default_subjects(resource, namespace);
        }
        for spec in NAMESPACE_FIELDS {
            if spec.gvk.selects_object(&resource.object) {
                spec.visit(resource.object.as_map_mut(), &mut |node| {
                    *node = Value::from(namespace);
                });
            }
        }
    }
    check_unique_ids(resources)
}

fn set_default_subjects(resource: &mut Resource, namespace: &str) {
    let Some(Value::Array(subjects)) = resource.object.as_map_mut().get_mut("subjects") else {
        return;
    };
    for subject in subjects.iter_mut().filter_map(Value::as_object_mut) {
        if subject.get("name").and_then(Value::as_str) == Some("default") {
            subject.insert("namespace".to_owned(), Value::from(namespace));
        }
    }
}

fn check_unique_ids(resources: &[Resource]) -> Result<()> {
    let mut seen = HashSet::new();
    for resource in resources {
        let object = &resource.object;
        let id = (object.api_version(), resource.current());
        if !seen.insert(id) {
            return Err(Diagnostic::error(
                "the namespace transformation gives two objects the same identity",
            )
            .on(object)
            .at("with.namespace"));
        }
    }
    Ok(())
}

/// Adds the prefix and suffix to every name but those of CRDs, APIServices and Namespaces.
pub fn add_prefix_suffix(resources: &mut [Resource], prefix: &str, suffix: &str) {
    if prefix.is_empty() && suffix.is_empty() {
        return;
    }
    for resource in resources {
        let original_kind = resource.original().kind;
        let object = &resource.object;
        let (group, version) = (object.group(), resource.version());
        if UNPREFIXED
            .iter()
            .any(|gvk| gvk.selects(group, version, &original_kind))
        {
            continue;
        }
        let name = format!("{prefix}{}{suffix}", object.name());
        resource.store_previous_id();
        resource.set_name(&name);
    }
}

/// Sets `spec.replicas` on the scalable objects that have or had the entry's name. An entry
/// that matches nothing is an error, as in kustomize.
pub fn set_replicas(resources: &mut [Resource], replicas: &[Replica]) -> Result<()> {
    let spec = FieldSpec::new(Gvk::ANY, "spec/replicas", true);
    for (i, replica) in replicas.iter().enumerate() {
        let mut matched = false;
        for resource in resources.iter_mut() {
            let has_name = resource
                .ids()
                .any(|id| id.name == replica.name && SCALABLE.contains(&id.kind.as_str()));
            if has_name {
                matched = true;
                spec.visit(resource.object.as_map_mut(), &mut |node| {
                    *node = Value::from(replica.count);
                });
            }
        }
        if !matched {
            return Err(Diagnostic::error(format!(
                "no {} is named `{}`",
                SCALABLE.join("/"),
                replica.name
            ))
            .at(format!("with.replicas[{i}]")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argocd_wasm_sdk::Object;
    use serde_json::json;

    fn resource(value: Value) -> Resource {
        Resource::new(Object::from_value(value).unwrap())
    }

    fn named(api_version: &str, kind: &str, name: &str) -> Resource {
        resource(json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}))
    }

    #[test]
    fn namespaces_namespaced_objects_and_renames_namespaces() {
        let mut resources = vec![
            named("v1", "ConfigMap", "cm"),
            named("rbac.authorization.k8s.io/v1", "ClusterRole", "cr"),
            named("v1", "Namespace", "old"),
            named("example.com/v1", "Namespace", "custom"),
        ];
        set_namespace(&mut resources, "stage").unwrap();
        assert_eq!(resources[0].object.namespace(), Some("stage"));
        assert_eq!(resources[1].object.namespace(), None);
        assert_eq!(resources[2].object.name(), "stage");
        assert_eq!(resources[2].object.namespace(), None);
        assert_eq!(resources[3].object.name(), "custom");
        assert_eq!(resources[3].object.namespace(), Some("stage"));
        assert_eq!(resources[0].original().namespace, "default");
    }

    #[test]
    fn namespaces_only_default_subjects() {
        let mut resources = vec![resource(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb"},
            "subjects": [{"kind": "ServiceAccount", "name": "default"}, {"kind": "ServiceAccount", "name": "app", "namespace": "x"}]
        }))];
        set_namespace(&mut resources, "stage").unwrap();
        let subjects = &resources[0].object.as_map()["subjects"];
        assert_eq!(subjects[0]["namespace"], "stage");
        assert_eq!(subjects[1]["namespace"], "x");
    }

    #[test]
    fn rejects_namespace_collisions() {
        let mut a = named("v1", "ConfigMap", "cm");
        a.set_namespace(Some("a"));
        let mut b = named("v1", "ConfigMap", "cm");
        b.set_namespace(Some("b"));
        let error = set_namespace(&mut [a, b], "stage").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("with.namespace"));
    }

    #[test]
    fn prefixes_all_but_crds_apiservices_and_namespaces() {
        let mut resources = vec![
            named("v1", "ConfigMap", "cm"),
            named(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "foos.example.com",
            ),
            named("apiregistration.k8s.io/v1", "APIService", "v1.example.com"),
            named("v1", "Namespace", "ns"),
            named("storage.k8s.io/v1", "StorageClass", "fast"),
        ];
        add_prefix_suffix(&mut resources, "p-", "-s");
        let names: Vec<&str> = resources.iter().map(|r| r.object.name()).collect();
        assert_eq!(
            names,
            [
                "p-cm-s",
                "foos.example.com",
                "v1.example.com",
                "ns",
                "p-fast-s"
            ]
        );
        assert_eq!(resources[0].original().name, "cm");
        assert!(resources[1].previous.is_empty());
    }

    #[test]
    fn sets_replicas_by_current_or_earlier_name() {
        let mut resources = vec![
            named("apps/v1", "Deployment", "web"),
            named("apps/v1", "StatefulSet", "db"),
            named("v1", "Service", "web"),
        ];
        add_prefix_suffix(&mut resources, "p-", "");
        let replicas = [
            Replica {
                name: "web".into(),
                count: 3,
            },
            Replica {
                name: "p-db".into(),
                count: 2,
            },
        ];
        set_replicas(&mut resources, &replicas).unwrap();
        assert_eq!(
            resources[0].object.get("spec.replicas").unwrap(),
            Some(&json!(3))
        );
        assert_eq!(
            resources[1].object.get("spec.replicas").unwrap(),
            Some(&json!(2))
        );
        assert_eq!(resources[2].object.get("spec").unwrap(), None);
        let missing = set_replicas(
            &mut resources,
            &[Replica {
                name: "nope".into(),
                count: 1,
            }],
        );
        assert_eq!(
            missing.unwrap_err().field.as_deref(),
            Some("with.replicas[0]")
        );
    }
}
