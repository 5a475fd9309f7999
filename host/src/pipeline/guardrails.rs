//! Guardrails on what a step's module returns, compared with what it was given. Whatever a
//! module declares about itself, it may not, unless its step's `allow:` says so:
//! - return more Secrets than it was given (`newSecrets`);
//! - return more cluster-scoped objects than it was given (`clusterScoped`);
//! - put objects into namespaces other than the app's (`namespaces`): the app's are its
//!   destination namespace and those its objects already use when the step starts;
//! - create or change a binding of a ClusterRole (`clusterRoleBindings`).
//!
//! "More than it was given" counts rather than matches names, so a module that renames
//! what it was given (a name prefix) passes; the objects a violation names are those whose
//! identity the input did not hold.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use serde_json::Value;

use super::file::Allow;
use crate::object::ObjectId;
use crate::text::{bounded_list, escape_control};

/// Kinds of the Kubernetes API that are cluster-scoped. Besides these, every kind whose name
/// starts with `Cluster` (ClusterIssuer, ClusterSecretStore, ...) counts as cluster-scoped,
/// by the convention custom resources follow.
const CLUSTER_SCOPED_KINDS: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Violations quoted in one message; the rest are counted.
const MAX_REPORTED: usize = 10;

/// The app's namespaces when a step starts: its destination namespace (where objects
/// without one go) and every namespace its objects use.
pub(super) struct Namespaces {
    destination: String,
    used: BTreeSet<String>,
}

impl Namespaces {
    /// The namespaces of an app deployed to `destination` whose objects are `objects`.
    pub(super) fn of(destination: &str, objects: &[Value]) -> Self {
        let mut namespaces = Self {
            destination: destination.to_owned(),
            used: BTreeSet::new(),
        };
        let used = objects
            .iter()
            .filter(|object| !is_cluster_scoped(object))
            .map(|object| namespaces.of_object(object).to_owned())
            .collect();
        namespaces.used = used;
        namespaces
    }

    /// An object's namespace; the destination when it has none (Argo CD puts it there).
    fn of_object<'v>(&'v self, object: &'v Value) -> &'v str {
        match object["metadata"]["namespace"].as_str() {
            Some(namespace) if !namespace.is_empty() => namespace,
            _ => &self.destination,
        }
    }

    fn is_the_apps(&self, namespace: &str) -> bool {
        namespace == self.destination || self.used.contains(namespace)
    }
}

/// Checks a step's output against its input; the error lists every violation with the
/// object and the `allow:` field that would lift it.
pub(super) fn check(
    allow: &Allow,
    namespaces: &Namespaces,
    given: &[Value],
    returned: &[Value],
) -> Result<()> {
    let world = World {
        namespaces,
        given,
        returned,
    };
    let mut violations = Vec::new();
    if !allow.new_secrets {
        violations.extend(world.added("newSecrets", "Secrets", is_secret));
    }
    if !allow.cluster_scoped {
        violations.extend(
            world.added("clusterScoped", "cluster-scoped objects", |object| {
                is_cluster_scoped(object)
            }),
        );
    }
    violations.extend(world.namespace_changes(allow));
    if !allow.cluster_role_bindings {
        violations.extend(world.cluster_role_bindings());
    }
    if violations.is_empty() {
        return Ok(());
    }
    bail!(
        "the module's output breaks the guardrails:\n  - {}",
        bounded_list(&violations, MAX_REPORTED).join("\n  - ")
    )
}

/// One step's input and output, and the app's namespaces.
struct World<'a> {
    namespaces: &'a Namespaces,
    given: &'a [Value],
    returned: &'a [Value],
}

impl World<'_> {
    /// The returned objects of a category beyond those given, if the module returned more.
    fn added(&self, rule: &str, category: &str, belongs: impl Fn(&Value) -> bool) -> Vec<String> {
        let given: Vec<&Value> = self.given.iter().filter(|o| belongs(o)).collect();
        let returned: Vec<&Value> = self.returned.iter().filter(|o| belongs(o)).collect();
        if returned.len() <= given.len() {
            return Vec::new();
        }
        let known = |object: &Value| {
            given
                .iter()
                .any(|g| ObjectId::of(g) == ObjectId::of(object))
        };
        let mut new: Vec<&Value> = returned.iter().copied().filter(|o| !known(o)).collect();
        if new.is_empty() {
            new = returned[given.len()..].to_vec();
        }
        new.iter()
            .map(|object| {
                format!(
                    "{}: the step returned {} {category} but was given {} \
                     (lift with `allow: {{{rule}: true}}`)",
                    label(object),
                    returned.len(),
                    given.len()
                )
            })
            .collect()
    }

    /// Returned objects in a namespace that is not the app's, each named with where it
    /// came from when the step was given it elsewhere.
    fn namespace_changes(&self, allow: &Allow) -> Vec<String> {
        let namespaces = self.namespaces;
        let apps = || {
            let mut apps: Vec<String> = namespaces.used.iter().map(|n| escape_control(n)).collect();
            if !namespaces.used.contains(&namespaces.destination) {
                apps.insert(0, escape_control(&namespaces.destination));
            }
            apps.join("`, `")
        };
        let mut violations = Vec::new();
        for object in self.returned.iter().filter(|o| !is_cluster_scoped(o)) {
            let namespace = namespaces.of_object(object);
            if namespaces.is_the_apps(namespace) || allow.namespace(namespace) {
                continue;
            }
            let moved_from = self
                .given
                .iter()
                .find(|given| {
                    let (given, object) = (ObjectId::of(given), ObjectId::of(object));
                    given.kind == object.kind && given.name == object.name
                })
                .map(|given| namespaces.of_object(given));
            let what = match moved_from {
                Some(from) => format!(
                    "moved from namespace `{}` to `{}`",
                    escape_control(from),
                    escape_control(namespace)
                ),
                None => format!("put in namespace `{}`", escape_control(namespace)),
            };
            violations.push(format!(
                "{}: {what}, which is not one of the app's (`{}`) (lift with `allow: {{namespaces: [{}]}}`)",
                label(object),
                apps(),
                escape_control(namespace)
            ));
        }
        violations
    }

    /// Returned bindings of a ClusterRole that were not given exactly so (same role,
    /// same subjects).
    fn cluster_role_bindings(&self) -> Vec<String> {
        let given: Vec<(&Value, &Value)> =
            self.given.iter().filter_map(cluster_role_binding).collect();
        self.returned
            .iter()
            .filter_map(|object| {
                let binding = cluster_role_binding(object)?;
                let known = given
                    .iter()
                    .any(|(role, subjects)| (*role, *subjects) == binding);
                (!known).then(|| {
                    format!(
                        "{}: binds the ClusterRole `{}`, which the step was not given \
                         (lift with `allow: {{clusterRoleBindings: true}}`)",
                        label(object),
                        escape_control(binding.0["name"].as_str().unwrap_or_default())
                    )
                })
            })
            .collect()
    }
}

fn kind(object: &Value) -> &str {
    ObjectId::of(object).kind
}

fn group(object: &Value) -> &str {
    let api_version = ObjectId::of(object).api_version;
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

fn is_secret(object: &Value) -> bool {
    kind(object) == "Secret" && group(object).is_empty()
}

fn is_cluster_scoped(object: &Value) -> bool {
    let kind = kind(object);
    CLUSTER_SCOPED_KINDS.contains(&kind) || kind.starts_with("Cluster")
}

/// The role and subjects of a RoleBinding or ClusterRoleBinding that binds a ClusterRole.
fn cluster_role_binding(object: &Value) -> Option<(&Value, &Value)> {
    let binding = matches!(kind(object), "RoleBinding" | "ClusterRoleBinding");
    let role = &object["roleRef"];
    (binding && group(object) == RBAC_GROUP && role["kind"] == "ClusterRole")
        .then(|| (role, &object["subjects"]))
}

/// `Secret kube-system/token`, or `ClusterRole admin` without a namespace, escaped.
fn label(object: &Value) -> String {
    escape_control(&ObjectId::of(object).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(kind: &str, namespace: Option<&str>, name: &str) -> Value {
        let api_version = match kind {
            "ClusterRoleBinding" | "RoleBinding" => "rbac.authorization.k8s.io/v1",
            "Deployment" => "apps/v1",
            _ => "v1",
        };
        let mut object =
            json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
        if let Some(namespace) = namespace {
            object["metadata"]["namespace"] = json!(namespace);
        }
        object
    }

    fn binding(kind: &str, role: &str) -> Value {
        let mut object = object(kind, None, "grant");
        object["roleRef"] = json!({"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role});
        object["subjects"] =
            json!([{"kind": "ServiceAccount", "name": "app", "namespace": "stage"}]);
        object
    }

    fn violations(allow: &Allow, given: &[Value], returned: &[Value]) -> String {
        check(allow, &Namespaces::of("stage", given), given, returned)
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn a_module_may_not_add_secrets_unless_allowed() {
        let config = object("ConfigMap", None, "settings");
        let added = [config.clone(), object("Secret", None, "stolen")];
        let found = violations(&Allow::default(), std::slice::from_ref(&config), &added);
        assert!(
            found.contains("Secret stolen: the step returned 1 Secrets but was given 0"),
            "{found}"
        );
        assert!(found.contains("allow: {newSecrets: true}"), "{found}");
        let allow = Allow {
            new_secrets: true,
            ..Allow::default()
        };
        assert_eq!(violations(&allow, &[config], &added), "");
        let renamed = [object("Secret", None, "prefix-db")];
        assert_eq!(
            violations(&Allow::default(), &[object("Secret", None, "db")], &renamed),
            ""
        );
    }

    #[test]
    fn a_module_may_not_add_cluster_scoped_objects_unless_allowed() {
        let added = [
            object("Namespace", None, "evil"),
            object("ClusterIssuer", None, "ca"),
        ];
        let found = violations(&Allow::default(), &[], &added);
        assert!(found.contains("Namespace evil:"), "{found}");
        assert!(found.contains("ClusterIssuer ca:"), "{found}");
        let allow = Allow {
            cluster_scoped: true,
            ..Allow::default()
        };
        assert_eq!(violations(&allow, &[], &added), "");
    }

    #[test]
    fn a_module_may_not_move_objects_to_other_namespaces() {
        let given = [object("Deployment", None, "web")];
        let moved = [object("Deployment", Some("kube-system"), "web")];
        let found = violations(&Allow::default(), &given, &moved);
        assert!(
            found.contains("Deployment kube-system/web: moved from namespace `stage` to `kube-system`, which is not one of the app's (`stage`)"),
            "{found}"
        );
        let allow = Allow {
            namespaces: vec!["kube-system".into()],
            ..Allow::default()
        };
        assert_eq!(violations(&allow, &given, &moved), "");
        // Naming the app's namespace explicitly changes nothing.
        assert_eq!(
            violations(
                &Allow::default(),
                &given,
                &[object("Deployment", Some("stage"), "web")]
            ),
            ""
        );
    }

    #[test]
    fn objects_may_go_where_the_apps_objects_already_are() {
        let given = [
            object("Deployment", Some("shop"), "web"),
            object("ConfigMap", None, "a"),
        ];
        let budget = object("PodDisruptionBudget", Some("shop"), "web");
        assert_eq!(violations(&Allow::default(), &given, &[budget]), "");
        let moved = [object("Deployment", Some("stage"), "web")];
        assert_eq!(
            violations(&Allow::default(), &given, &moved),
            "",
            "between the app's own"
        );
    }

    #[test]
    fn new_objects_in_other_namespaces_need_an_allowance() {
        let added = [object("ConfigMap", Some("monitoring"), "alloy")];
        let found = violations(&Allow::default(), &[], &added);
        assert!(
            found
                .contains("put in namespace `monitoring`, which is not one of the app's (`stage`)"),
            "{found}"
        );
        let allow = Allow {
            namespaces: vec!["monitoring".into()],
            ..Allow::default()
        };
        assert_eq!(violations(&allow, &[], &added), "");
    }

    #[test]
    fn a_module_may_not_bind_cluster_roles_unless_allowed() {
        let found = violations(
            &Allow::default(),
            &[],
            &[binding("ClusterRoleBinding", "cluster-admin")],
        );
        assert!(
            found.contains("binds the ClusterRole `cluster-admin`"),
            "{found}"
        );
        assert!(
            found.contains("clusterScoped"),
            "a ClusterRoleBinding is cluster-scoped too: {found}"
        );
        let role_binding = binding("RoleBinding", "admin");
        assert!(
            violations(&Allow::default(), &[], std::slice::from_ref(&role_binding))
                .contains("`admin`")
        );
        // Passing a given binding through unchanged is fine; changing its role is not.
        assert_eq!(
            violations(
                &Allow::default(),
                std::slice::from_ref(&role_binding),
                std::slice::from_ref(&role_binding)
            ),
            ""
        );
        let escalated = binding("RoleBinding", "cluster-admin");
        assert!(
            violations(&Allow::default(), &[role_binding], &[escalated]).contains("cluster-admin")
        );
    }

    #[test]
    fn quoted_names_are_escaped_and_long_lists_bounded() {
        let added: Vec<Value> = (0..25)
            .map(|i| object("Secret", None, &format!("s\x1b[31m{i}")))
            .collect();
        let found = violations(&Allow::default(), &[], &added);
        assert!(!found.contains('\x1b'), "{found}");
        assert!(found.contains("Secret s\\u{1b}[31m0"), "{found}");
        assert!(found.contains("… 15 more"), "{found}");
    }
}
