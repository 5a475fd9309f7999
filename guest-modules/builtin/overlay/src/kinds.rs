//! Group/version/kind facts kustomize relies on: which kinds are cluster-scoped, which come
//! from Kubernetes itself (and so have strategic-merge keys), and how field specs select kinds.

use argocd_wasm_sdk::Object;

/// The cluster-scoped kinds of kustomize's precomputed OpenAPI table (kyaml
/// `precomputedIsNamespaceScoped`), keyed by apiVersion. kustomize treats every other kind,
/// custom resources included, as namespaced.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
];

/// The API groups of Kubernetes itself. kustomize merges lists of these kinds by the merge
/// keys of the built-in OpenAPI schema; lists of any other kind are replaced by a patch.
const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
];

pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&(api_version, kind))
}

pub fn is_built_in(object: &Object) -> bool {
    BUILT_IN_GROUPS.contains(&object.group())
}

/// The version part of an apiVersion: `v1` for both `v1` and `apps/v1`.
pub fn version_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map_or(api_version, |(_, version)| version)
}

/// A kind filter of a field spec: an empty part matches anything, as in kustomize's
/// `Gvk.IsSelected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gvk {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
}

impl Gvk {
    pub const ANY: Gvk = Gvk::new("", "", "");

    pub const fn new(group: &'static str, version: &'static str, kind: &'static str) -> Self {
        Self {
            group,
            version,
            kind,
        }
    }

    pub const fn kind(kind: &'static str) -> Self {
        Self::new("", "", kind)
    }

    pub fn selects(&self, group: &str, version: &str, kind: &str) -> bool {
        let part = |wanted: &str, actual: &str| wanted.is_empty() || wanted == actual;
        part(self.group, group) && part(self.version, version) && part(self.kind, kind)
    }

    pub fn selects_object(&self, object: &Object) -> bool {
        self.selects(
            object.group(),
            version_of(object.api_version()),
            object.kind(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(api_version: &str, kind: &str) -> Object {
        Object::from_value(
            json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}),
        )
        .unwrap()
    }

    #[test]
    fn knows_cluster_scoped_kinds_by_api_version() {
        assert!(is_cluster_scoped("v1", "Namespace"));
        assert!(is_cluster_scoped(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole"
        ));
        assert!(!is_cluster_scoped("example.com/v1", "Namespace"));
        assert!(!is_cluster_scoped("apps/v1", "Deployment"));
    }

    #[test]
    fn selects_by_the_parts_it_names() {
        let deployment = object("apps/v1", "Deployment");
        assert!(Gvk::kind("Deployment").selects_object(&deployment));
        assert!(Gvk::new("apps", "", "Deployment").selects_object(&deployment));
        assert!(!Gvk::new("", "v1beta1", "Deployment").selects_object(&deployment));
        assert!(
            Gvk::new("", "v1", "Service")
                .selects_object(&object("serving.knative.dev/v1", "Service"))
        );
        assert!(is_built_in(&deployment));
        assert!(!is_built_in(&object("example.com/v1", "Foo")));
    }
}
