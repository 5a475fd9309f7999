//! Transforms of names, namespaces and replica counts (kustomize's NamespaceTransformer,
//! PrefixTransformer, SuffixTransformer and ReplicaCountTransformer), driven by field specs:
//! the kustomization's (defaults plus `configurations`) or a builtin plugin config's own.
//! Renames record the previous identity so patches, replicas and name references still find
//! the object by its earlier name.

use std::collections::HashSet;

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use serde_json::Value;

use crate::config::Replica;
use crate::fieldspec::{FieldSpec, ObjectType, segments, visit_map, with_paths};
use crate::kinds::Gvk;
use crate::resource::Resource;

/// Kinds whose names keep no prefix or suffix (prefixFieldSpecsToSkip).
const UNPREFIXED: [Gvk; 3] = [
    Gvk::kind("CustomResourceDefinition"),
    Gvk::new("apiregistration.k8s.io", "", "APIService"),
    Gvk::kind("Namespace"),
];

const METADATA_NAME: &str = "metadata/name";
const METADATA_NAMESPACE: &str = "metadata/namespace";
const SUBJECTS_NAMESPACE: &str = "subjects/namespace";

/// Which (Cluster)RoleBinding subjects get the namespace (`setRoleBindingSubjects`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Subjects {
    /// Subjects named `default` (kustomize's default).
    #[default]
    DefaultOnly,
    /// Every ServiceAccount subject.
    AllServiceAccounts,
    None,
}

impl Subjects {
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        match text {
            "" | "defaultOnly" => Ok(Self::DefaultOnly),
            "allServiceAccounts" => Ok(Self::AllServiceAccounts),
            "none" => Ok(Self::None),
            other => Err(format!(
                "invalid value `{other}` for setRoleBindingSubjects: must be one of \
                 defaultOnly, none or allServiceAccounts"
            )),
        }
    }
}

/// A NamespaceTransformer's settings.
pub struct Namespace<'a> {
    pub namespace: &'a str,
    pub specs: &'a [FieldSpec],
    /// Only set namespaces that are missing or empty.
    pub unset_only: bool,
    pub subjects: Subjects,
}

/// Sets the namespace of namespaced objects and every field the specs name (a `v1`
/// Namespace's name, APIService and CRD webhook services, ...), and on (Cluster)RoleBinding
/// subjects as `subjects` says. Two objects ending up with the same identity is an error,
/// as in kustomize.
pub fn set_namespace(resources: &mut [Resource], settings: &Namespace) -> Result<()> {
    if settings.namespace.is_empty() {
        return Ok(());
    }
    let namespace_path = segments(METADATA_NAMESPACE);
    let specs = with_paths(settings.specs);
    let mut object_type = ObjectType::default();
    for resource in resources.iter_mut() {
        if resource.object.as_map().is_empty() {
            continue;
        }
        resource.store_previous_id();
        let set = &mut |node: &mut Value| set_scalar(node, settings.namespace, settings.unset_only);
        if !resource.is_cluster_scoped() {
            visit_map(resource.object.as_map_mut(), &namespace_path, true, set);
        }
        let core_v1 = resource.object.api_version() == "v1";
        let is_binding = is_role_binding(resource.object.kind());
        if is_binding {
            set_subjects(resource, settings);
        }
        let object_type = object_type.read(&resource.object);
        for (spec, path) in &specs {
            let skipped = spec.path == METADATA_NAMESPACE
                || (spec.path == METADATA_NAME && !core_v1)
                || (is_binding && is_role_binding(&spec.kind) && spec.path == SUBJECTS_NAMESPACE);
            if !skipped && spec.selects_type(object_type) {
                visit_map(resource.object.as_map_mut(), path, spec.create, set);
            }
        }
    }
    check_unique_ids(resources)
}

fn is_role_binding(kind: &str) -> bool {
    kind == "RoleBinding" || kind == "ClusterRoleBinding"
}

/// Sets a scalar, or with `unset_only` fills it only when missing or empty.
fn set_scalar(node: &mut Value, value: &str, unset_only: bool) {
    let empty = node.is_null() || node.as_str() == Some("");
    if !unset_only || empty {
        *node = Value::from(value);
    }
}

fn set_subjects(resource: &mut Resource, settings: &Namespace) {
    let Some(Value::Array(subjects)) = resource.object.as_map_mut().get_mut("subjects") else {
        return;
    };
    for subject in subjects.iter_mut().filter_map(Value::as_object_mut) {
        let field = |key: &str| subject.get(key).and_then(Value::as_str);
        let wanted = match settings.subjects {
            Subjects::None => false,
            Subjects::DefaultOnly => field("name") == Some("default"),
            Subjects::AllServiceAccounts => field("kind") == Some("ServiceAccount"),
        };
        if wanted {
            let node = subject.entry("namespace").or_insert(Value::Null);
            set_scalar(node, settings.namespace, settings.unset_only);
        }
    }
}

fn check_unique_ids(resources: &[Resource]) -> Result<()> {
    let mut seen = HashSet::new();
    for resource in resources {
        if !seen.insert(resource.current_key()) {
            return Err(Diagnostic::error(
                "the namespace transformation gives two objects the same identity",
            )
            .on(&resource.object));
        }
    }
    Ok(())
}

/// Which end of the name a PrefixTransformer or SuffixTransformer adds to.
#[derive(Debug, Clone, Copy)]
pub enum Affix<'a> {
    Prefix(&'a str),
    Suffix(&'a str),
}

/// Adds a prefix or suffix to the fields the specs name of every object but CRDs,
/// APIServices and Namespaces; renaming `metadata/name` records the previous identity.
pub fn add_affix(resources: &mut [Resource], affix: Affix, specs: &[FieldSpec]) {
    let text = match affix {
        Affix::Prefix(text) | Affix::Suffix(text) => text,
    };
    if text.is_empty() {
        return;
    }
    for resource in resources {
        let original_kind = resource.original().kind;
        let (group, version) = (
            resource.object.group().to_owned(),
            resource.version().to_owned(),
        );
        if UNPREFIXED
            .iter()
            .any(|gvk| gvk.selects(&group, &version, &original_kind))
        {
            continue;
        }
        for spec in specs
            .iter()
            .filter(|s| s.selects(&group, &version, &original_kind))
        {
            if spec.path == METADATA_NAME {
                match affix {
                    Affix::Prefix(prefix) => resource.renames.prefixes.push(prefix.to_owned()),
                    Affix::Suffix(suffix) => resource.renames.suffixes.push(suffix.to_owned()),
                }
                resource.store_previous_id();
            }
            spec.visit(resource.object.as_map_mut(), &mut |node| {
                if let Some(value) = node.as_str() {
                    *node = Value::from(match affix {
                        Affix::Prefix(prefix) => format!("{prefix}{value}"),
                        Affix::Suffix(suffix) => format!("{value}{suffix}"),
                    });
                }
            });
        }
    }
}

/// Sets the count at every spec's field of the objects that have or had the entry's name
/// and a kind the spec selects. An entry that matches nothing is an error, as in kustomize.
pub fn set_replicas(
    resources: &mut [Resource],
    replica: &Replica,
    specs: &[FieldSpec],
) -> Result<()> {
    let mut matched = false;
    for spec in specs {
        for resource in resources.iter_mut() {
            let (group, version) = (
                resource.object.group().to_owned(),
                resource.version().to_owned(),
            );
            let selected = resource
                .ids()
                .any(|id| id.name == replica.name && spec.selects(&group, &version, &id.kind));
            if selected {
                matched = true;
                spec.visit(resource.object.as_map_mut(), &mut |node| {
                    *node = Value::from(replica.count);
                });
            }
        }
    }
    if matched {
        return Ok(());
    }
    let kinds: Vec<&str> = specs.iter().map(|spec| &*spec.kind).collect();
    Err(Diagnostic::error(format!(
        "no object named `{}` has a kind the replica field specs select ({})",
        replica.name,
        kinds.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tconfig::Config;
    use argocd_wasm_sdk::Object;
    use serde_json::json;

    fn resource(value: Value) -> Resource {
        Resource::new(Object::from_value(value).unwrap())
    }

    fn named(api_version: &str, kind: &str, name: &str) -> Resource {
        resource(json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}))
    }

    fn namespace<'a>(namespace: &'a str, config: &'a Config) -> Namespace<'a> {
        Namespace {
            namespace,
            specs: &config.namespace,
            unset_only: false,
            subjects: Subjects::DefaultOnly,
        }
    }

    #[test]
    fn namespaces_namespaced_objects_and_renames_namespaces() {
        let config = Config::default();
        let mut resources = vec![
            named("v1", "ConfigMap", "cm"),
            named("rbac.authorization.k8s.io/v1", "ClusterRole", "cr"),
            named("v1", "Namespace", "old"),
            named("example.com/v1", "Namespace", "custom"),
        ];
        set_namespace(&mut resources, &namespace("stage", &config)).unwrap();
        assert_eq!(resources[0].object.namespace(), Some("stage"));
        assert_eq!(resources[1].object.namespace(), None);
        assert_eq!(resources[2].object.name(), "stage");
        assert_eq!(resources[2].object.namespace(), None);
        assert_eq!(resources[3].object.name(), "custom");
        assert_eq!(resources[3].object.namespace(), Some("stage"));
        assert_eq!(resources[0].original().namespace, "default");
    }

    #[test]
    fn namespaces_subjects_as_the_mode_says() {
        let config = Config::default();
        let binding = || {
            resource(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb"},
                "subjects": [{"kind": "ServiceAccount", "name": "default"}, {"kind": "ServiceAccount", "name": "app", "namespace": "x"},
                             {"kind": "User", "name": "u"}]
            }))
        };
        let mut resources = vec![binding()];
        set_namespace(&mut resources, &namespace("stage", &config)).unwrap();
        let subjects = &resources[0].object.as_map()["subjects"];
        assert_eq!(subjects[0]["namespace"], "stage");
        assert_eq!(subjects[1]["namespace"], "x");

        let mut resources = vec![binding()];
        let all = Namespace {
            subjects: Subjects::AllServiceAccounts,
            unset_only: true,
            ..namespace("stage", &config)
        };
        set_namespace(&mut resources, &all).unwrap();
        let subjects = &resources[0].object.as_map()["subjects"];
        assert_eq!(subjects[0]["namespace"], "stage");
        assert_eq!(subjects[1]["namespace"], "x");
        assert!(subjects[2].get("namespace").is_none());
        assert!(Subjects::parse("some").is_err());
    }

    #[test]
    fn unset_only_keeps_namespaces_already_set() {
        let config = Config::default();
        let mut kept = named("v1", "ConfigMap", "a");
        kept.set_namespace(Some("mine"));
        let mut resources = vec![kept, named("v1", "ConfigMap", "b")];
        let settings = Namespace {
            unset_only: true,
            ..namespace("stage", &config)
        };
        set_namespace(&mut resources, &settings).unwrap();
        assert_eq!(resources[0].object.namespace(), Some("mine"));
        assert_eq!(resources[1].object.namespace(), Some("stage"));
    }

    #[test]
    fn rejects_namespace_collisions() {
        let config = Config::default();
        let mut a = named("v1", "ConfigMap", "cm");
        a.set_namespace(Some("a"));
        let mut b = named("v1", "ConfigMap", "cm");
        b.set_namespace(Some("b"));
        assert!(set_namespace(&mut [a, b], &namespace("stage", &config)).is_err());
    }

    #[test]
    fn prefixes_all_but_crds_apiservices_and_namespaces() {
        let config = Config::default();
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
        add_affix(&mut resources, Affix::Prefix("p-"), &config.name_prefix);
        add_affix(&mut resources, Affix::Suffix("-s"), &config.name_suffix);
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
        let config = Config::default();
        let mut resources = vec![
            named("apps/v1", "Deployment", "web"),
            named("apps/v1", "StatefulSet", "db"),
            named("v1", "Service", "web"),
        ];
        add_affix(&mut resources, Affix::Prefix("p-"), &config.name_prefix);
        let replica = |name: &str, count| Replica {
            name: name.into(),
            count,
        };
        set_replicas(&mut resources, &replica("web", 3), &config.replicas).unwrap();
        set_replicas(&mut resources, &replica("p-db", 2), &config.replicas).unwrap();
        assert_eq!(
            resources[0].object.get("spec.replicas").unwrap(),
            Some(&json!(3))
        );
        assert_eq!(
            resources[1].object.get("spec.replicas").unwrap(),
            Some(&json!(2))
        );
        assert_eq!(resources[2].object.get("spec").unwrap(), None);
        assert!(set_replicas(&mut resources, &replica("nope", 1), &config.replicas).is_err());
    }
}
