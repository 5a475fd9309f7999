//! Name references: after renames, fields that name another object (a Deployment's ConfigMap
//! volume, an Ingress backend's Service, a RoleBinding's subjects, …) follow that object's
//! new name. The table is kustomize's default (api/konfig/builtinpluginconsts/namereference.go);
//! the matching rules are those of its nameref filter: the field's value must be an earlier
//! name of an object of the target kind, in the referrer's namespace (or cluster-scoped, or
//! a ServiceAccount a RoleBinding names), and a `roleRef` must agree on kind and group.

use std::collections::HashMap;

use argocd_wasm_sdk::{Diagnostic, Result};
use serde_json::Value;

use crate::fieldspec::{segments, visit_map};
use crate::kinds::Gvk;
use crate::resource::{Id, Resource};

/// One referring field: objects of kind `referrer` name a `target` at `path`.
struct Reference {
    target: Gvk,
    referrer: Gvk,
    path: Vec<String>,
}

const CONFIG_MAP: Gvk = Gvk::new("", "v1", "ConfigMap");
const SECRET: Gvk = Gvk::new("", "v1", "Secret");
const SERVICE: Gvk = Gvk::new("", "v1", "Service");
const SERVICE_ACCOUNT: Gvk = Gvk::new("", "v1", "ServiceAccount");
const PVC: Gvk = Gvk::new("", "v1", "PersistentVolumeClaim");
const PV: Gvk = Gvk::new("", "v1", "PersistentVolume");
const STORAGE_CLASS: Gvk = Gvk::new("storage.k8s.io", "v1", "StorageClass");
const PRIORITY_CLASS: Gvk = Gvk::new("scheduling.k8s.io", "v1", "PriorityClass");
const ROLE: Gvk = Gvk::new("rbac.authorization.k8s.io", "", "Role");
const CLUSTER_ROLE: Gvk = Gvk::new("rbac.authorization.k8s.io", "", "ClusterRole");
const ROLE_BINDING: Gvk = Gvk::new("rbac.authorization.k8s.io", "", "RoleBinding");
const CLUSTER_ROLE_BINDING: Gvk = Gvk::new("rbac.authorization.k8s.io", "", "ClusterRoleBinding");
const INGRESS: Gvk = Gvk::kind("Ingress");
const KNATIVE_SERVICE: Gvk = Gvk::new("serving.knative.dev", "v1", "Service");

/// Where ConfigMap and Secret references sit: the pod spec of each workload kind.
const CONFIG_POD_SPECS: [(Gvk, &str); 7] = [
    (Gvk::new("", "v1", "Pod"), "spec"),
    (Gvk::kind("Deployment"), "spec/template/spec"),
    (Gvk::kind("ReplicaSet"), "spec/template/spec"),
    (Gvk::kind("DaemonSet"), "spec/template/spec"),
    (Gvk::kind("StatefulSet"), "spec/template/spec"),
    (Gvk::kind("Job"), "spec/template/spec"),
    (Gvk::kind("CronJob"), "spec/jobTemplate/spec/template/spec"),
];

/// Where ServiceAccount, PVC and PriorityClass references sit.
const WORKLOAD_POD_SPECS: [(Gvk, &str); 7] = [
    (Gvk::kind("Pod"), "spec"),
    (Gvk::kind("StatefulSet"), "spec/template/spec"),
    (Gvk::kind("Deployment"), "spec/template/spec"),
    (Gvk::kind("ReplicationController"), "spec/template/spec"),
    (Gvk::kind("CronJob"), "spec/jobTemplate/spec/template/spec"),
    (Gvk::kind("Job"), "spec/template/spec"),
    (Gvk::kind("DaemonSet"), "spec/template/spec"),
];

const CONFIG_MAP_POD_FIELDS: [&str; 6] = [
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
];

const SECRET_POD_FIELDS: [&str; 7] = [
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
];

/// The references outside pod specs.
const OTHER_REFERENCES: &[(Gvk, Gvk, &str)] = &[
    (CONFIG_MAP, Gvk::kind("Node"), "spec/configSource/configMap"),
    (CONFIG_MAP, Gvk::kind("Role"), "rules/resourceNames"),
    (CONFIG_MAP, Gvk::kind("ClusterRole"), "rules/resourceNames"),
    (
        CONFIG_MAP,
        INGRESS,
        r"metadata/annotations/nginx.ingress.kubernetes.io\/fastcgi-params-configmap",
    ),
    (
        CONFIG_MAP,
        KNATIVE_SERVICE,
        "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
    ),
    (
        CONFIG_MAP,
        KNATIVE_SERVICE,
        "spec/template/spec/containers/envFrom/configMapRef/name",
    ),
    (SECRET, INGRESS, "spec/tls/secretName"),
    (
        SECRET,
        INGRESS,
        r"metadata/annotations/ingress.kubernetes.io\/auth-secret",
    ),
    (
        SECRET,
        INGRESS,
        r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret",
    ),
    (
        SECRET,
        INGRESS,
        r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-tls-secret",
    ),
    (SECRET, Gvk::kind("ServiceAccount"), "imagePullSecrets/name"),
    (SECRET, Gvk::kind("StorageClass"), "parameters/secretName"),
    (
        SECRET,
        Gvk::kind("StorageClass"),
        "parameters/adminSecretName",
    ),
    (
        SECRET,
        Gvk::kind("StorageClass"),
        "parameters/userSecretName",
    ),
    (SECRET, Gvk::kind("StorageClass"), "parameters/secretRef"),
    (SECRET, Gvk::kind("Role"), "rules/resourceNames"),
    (SECRET, Gvk::kind("ClusterRole"), "rules/resourceNames"),
    (
        SECRET,
        KNATIVE_SERVICE,
        "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
    ),
    (
        SECRET,
        Gvk::kind("PersistentVolume"),
        "spec/azureFile/secretName",
    ),
    (
        SERVICE,
        Gvk::new("apps", "", "StatefulSet"),
        "spec/serviceName",
    ),
    (
        SERVICE,
        INGRESS,
        "spec/rules/http/paths/backend/serviceName",
    ),
    (SERVICE, INGRESS, "spec/backend/serviceName"),
    (
        SERVICE,
        INGRESS,
        "spec/rules/http/paths/backend/service/name",
    ),
    (SERVICE, INGRESS, "spec/defaultBackend/service/name"),
    (
        SERVICE,
        Gvk::new("apiregistration.k8s.io", "", "APIService"),
        "spec/service/name",
    ),
    (
        SERVICE,
        Gvk::new(
            "admissionregistration.k8s.io",
            "",
            "ValidatingWebhookConfiguration",
        ),
        "webhooks/clientConfig/service",
    ),
    (
        SERVICE,
        Gvk::new(
            "admissionregistration.k8s.io",
            "",
            "MutatingWebhookConfiguration",
        ),
        "webhooks/clientConfig/service",
    ),
    (ROLE, ROLE_BINDING, "roleRef/name"),
    (CLUSTER_ROLE, ROLE_BINDING, "roleRef/name"),
    (CLUSTER_ROLE, CLUSTER_ROLE_BINDING, "roleRef/name"),
    (SERVICE_ACCOUNT, ROLE_BINDING, "subjects"),
    (SERVICE_ACCOUNT, CLUSTER_ROLE_BINDING, "subjects"),
    (PV, Gvk::kind("PersistentVolumeClaim"), "spec/volumeName"),
    (PV, Gvk::kind("ClusterRole"), "rules/resourceNames"),
    (
        STORAGE_CLASS,
        Gvk::kind("PersistentVolume"),
        "spec/storageClassName",
    ),
    (
        STORAGE_CLASS,
        Gvk::kind("PersistentVolumeClaim"),
        "spec/storageClassName",
    ),
    (
        STORAGE_CLASS,
        Gvk::kind("StatefulSet"),
        "spec/volumeClaimTemplates/spec/storageClassName",
    ),
];

/// The kinds a HorizontalPodAutoscaler scales, all referenced at `spec/scaleTargetRef/name`.
const SCALE_TARGETS: [&str; 4] = [
    "Deployment",
    "ReplicationController",
    "ReplicaSet",
    "StatefulSet",
];

/// The targets whose references sit at one field of every workload pod spec.
const WORKLOAD_REFERENCES: [(Gvk, &str); 3] = [
    (SERVICE_ACCOUNT, "serviceAccountName"),
    (PVC, "volumes/persistentVolumeClaim/claimName"),
    (PRIORITY_CLASS, "priorityClassName"),
];

fn table() -> Vec<Reference> {
    let reference = |target: Gvk, referrer: Gvk, path: &str| Reference {
        target,
        referrer,
        path: segments(path),
    };
    let mut table = Vec::new();
    for target in SCALE_TARGETS {
        let hpa = Gvk::kind("HorizontalPodAutoscaler");
        table.push(reference(
            Gvk::kind(target),
            hpa,
            "spec/scaleTargetRef/name",
        ));
    }
    for (target, fields) in [
        (CONFIG_MAP, &CONFIG_MAP_POD_FIELDS[..]),
        (SECRET, &SECRET_POD_FIELDS[..]),
    ] {
        for (referrer, pod_spec) in CONFIG_POD_SPECS {
            for field in fields {
                table.push(reference(target, referrer, &format!("{pod_spec}/{field}")));
            }
        }
    }
    for (target, field) in WORKLOAD_REFERENCES {
        for (referrer, pod_spec) in WORKLOAD_POD_SPECS {
            table.push(reference(target, referrer, &format!("{pod_spec}/{field}")));
        }
    }
    for (target, referrer, path) in OTHER_REFERENCES {
        table.push(reference(*target, *referrer, path));
    }
    table
}

/// What name references need to know of an object renamed or moved at some level.
struct Candidate {
    group: String,
    version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    effective_namespace: String,
    original_namespace: String,
    cluster_scoped: bool,
    previous: Vec<Id>,
}

impl Candidate {
    fn of(resource: &Resource) -> Self {
        let object = &resource.object;
        Self {
            group: object.group().to_owned(),
            version: resource.version().to_owned(),
            kind: object.kind().to_owned(),
            name: object.name().to_owned(),
            namespace: object
                .namespace()
                .filter(|ns| !ns.is_empty())
                .map(str::to_owned),
            effective_namespace: resource.effective_namespace(),
            original_namespace: resource.original().namespace,
            cluster_scoped: resource.is_cluster_scoped(),
            previous: resource.previous.clone(),
        }
    }

    fn was(&self, gvk: &Gvk) -> bool {
        self.previous
            .iter()
            .any(|id| gvk.selects(&self.group, &self.version, &id.kind))
    }
}

/// What the referring object's own identity allows it to reference.
struct Referrer {
    cluster_scoped: bool,
    namespace: String,
    /// For a RoleBinding: the namespaces of its ServiceAccount subjects.
    subject_namespaces: Vec<String>,
    /// The group and kind its `roleRef` names.
    role_ref: Option<(String, String)>,
}

impl Referrer {
    fn of(resource: &Resource) -> Self {
        let object = resource.object.as_map();
        let text =
            |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let subject_namespaces = match (resource.object.kind(), object.get("subjects")) {
            ("RoleBinding", Some(Value::Array(subjects))) => subjects
                .iter()
                .filter(|subject| {
                    subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                })
                .filter_map(|subject| text(subject, "namespace"))
                .collect(),
            _ => Vec::new(),
        };
        let role_ref = object
            .get("roleRef")
            .and_then(|role_ref| Some((text(role_ref, "apiGroup")?, text(role_ref, "kind")?)));
        Self {
            cluster_scoped: resource.is_cluster_scoped(),
            namespace: resource.effective_namespace(),
            subject_namespaces,
            role_ref,
        }
    }

    fn may_reference(&self, candidate: &Candidate) -> bool {
        self.cluster_scoped
            || candidate.cluster_scoped
            || candidate.effective_namespace == self.namespace
            || (candidate.kind == "ServiceAccount"
                && candidate
                    .namespace
                    .as_ref()
                    .is_some_and(|ns| self.subject_namespaces.contains(ns)))
    }
}

/// The objects with a history, indexed by every earlier name.
struct Candidates {
    all: Vec<Candidate>,
    by_previous_name: HashMap<String, Vec<usize>>,
}

impl Candidates {
    fn new(resources: &[Resource]) -> Self {
        let all: Vec<Candidate> = resources
            .iter()
            .filter(|resource| !resource.previous.is_empty())
            .map(Candidate::of)
            .collect();
        let mut by_previous_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, candidate) in all.iter().enumerate() {
            for id in &candidate.previous {
                let entry = by_previous_name.entry(id.name.clone()).or_default();
                if entry.last() != Some(&i) {
                    entry.push(i);
                }
            }
        }
        Self {
            all,
            by_previous_name,
        }
    }

    /// The one object `name` refers to, if any; several different ones are an error.
    fn select(
        &self,
        name: &str,
        namespace: Option<&str>,
        reference: &Reference,
        referrer: &Referrer,
    ) -> std::result::Result<Option<&Candidate>, String> {
        let Some(indexes) = self.by_previous_name.get(name) else {
            return Ok(None);
        };
        let is_role_ref = reference
            .path
            .ends_with(&["roleRef".to_owned(), "name".to_owned()]);
        let found: Vec<&Candidate> = indexes
            .iter()
            .map(|&i| &self.all[i])
            .filter(|candidate| self.in_namespace(candidate, namespace))
            .filter(|candidate| candidate.was(&reference.target))
            .filter(|candidate| match (&referrer.role_ref, is_role_ref) {
                (Some((group, kind)), true) => candidate
                    .previous
                    .iter()
                    .any(|id| &id.kind == kind && (group.is_empty() || *group == candidate.group)),
                _ => true,
            })
            .filter(|candidate| referrer.may_reference(candidate))
            .collect();
        let same = |a: &&Candidate| {
            a.name == found[0].name && (namespace.is_none() || a.namespace == found[0].namespace)
        };
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            several if several.iter().all(same) => Ok(Some(several[0])),
            several => {
                let names: Vec<String> = several
                    .iter()
                    .map(|c| format!("{} {}/{}", c.kind, c.effective_namespace, c.name))
                    .collect();
                Err(format!("`{name}` may refer to any of {}", names.join(", ")))
            }
        }
    }

    /// A reference with a namespace field looks among the objects originally in that
    /// namespace, or, when there are none, among those now in it.
    fn in_namespace(&self, candidate: &Candidate, namespace: Option<&str>) -> bool {
        let Some(namespace) = namespace else {
            return true;
        };
        let any_original = self.all.iter().any(|c| c.original_namespace == namespace);
        match any_original {
            true => candidate.original_namespace == namespace,
            false => candidate.effective_namespace == namespace,
        }
    }
}

/// Points every referring field at the current name of the object it names.
pub fn fix(resources: &mut [Resource]) -> Result<()> {
    let candidates = Candidates::new(resources);
    if candidates.all.is_empty() {
        return Ok(());
    }
    let mut by_referrer_kind: HashMap<&str, Vec<&Reference>> = HashMap::new();
    let table = table();
    for reference in &table {
        by_referrer_kind
            .entry(reference.referrer.kind)
            .or_default()
            .push(reference);
    }
    for resource in resources.iter_mut() {
        let Some(references) = by_referrer_kind.get(resource.object.kind()) else {
            continue;
        };
        let referrer = Referrer::of(resource);
        for reference in references {
            if !reference.referrer.selects_object(&resource.object) {
                continue;
            }
            let mut failure = None;
            visit_map(
                resource.object.as_map_mut(),
                &reference.path,
                false,
                &mut |node| {
                    if failure.is_none() {
                        failure = update(node, &candidates, reference, &referrer).err();
                    }
                },
            );
            if let Some(problem) = failure {
                return Err(Diagnostic::error(format!("name reference: {problem}"))
                    .on(&resource.object)
                    .at(reference.path.join(".")));
            }
        }
    }
    Ok(())
}

/// Updates one referring node: a name, or a map with `name` and optionally `namespace`.
fn update(
    node: &mut Value,
    candidates: &Candidates,
    reference: &Reference,
    referrer: &Referrer,
) -> std::result::Result<(), String> {
    match node {
        Value::String(name) => {
            if let Some(found) = candidates.select(name, None, reference, referrer)? {
                *name = found.name.clone();
            }
            Ok(())
        }
        Value::Object(map) => {
            let Some(Value::String(name)) = map.get("name") else {
                return Err("the referring map has no `name`".to_owned());
            };
            let namespace = map.get("namespace").and_then(Value::as_str);
            let Some(found) = candidates.select(name, namespace, reference, referrer)? else {
                return Ok(());
            };
            map.insert("name".to_owned(), Value::from(found.name.as_str()));
            if let Some(namespace) = &found.namespace {
                map.insert("namespace".to_owned(), Value::from(namespace.as_str()));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{add_prefix_suffix, set_namespace};
    use argocd_wasm_sdk::Object;
    use serde_json::json;

    fn resources(values: Vec<Value>) -> Vec<Resource> {
        values
            .into_iter()
            .map(|value| Resource::new(Object::from_value(value).unwrap()))
            .collect()
    }

    fn renamed(values: Vec<Value>) -> Vec<Resource> {
        let mut resources = resources(values);
        add_prefix_suffix(&mut resources, "p-", "");
        fix(&mut resources).unwrap();
        resources
    }

    fn meta(kind: &str, name: &str) -> Value {
        let api_version = match kind {
            "Deployment" | "StatefulSet" => "apps/v1",
            "Ingress" => "networking.k8s.io/v1",
            "HorizontalPodAutoscaler" => "autoscaling/v2",
            "RoleBinding" | "Role" | "ClusterRole" => "rbac.authorization.k8s.io/v1",
            _ => "v1",
        };
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}})
    }

    fn with(mut base: Value, key: &str, value: Value) -> Value {
        base[key] = value;
        base
    }

    #[test]
    fn pod_spec_references_follow_renames() {
        let deployment = with(
            meta("Deployment", "web"),
            "spec",
            json!({"template": {"spec": {
                "serviceAccountName": "sa",
                "imagePullSecrets": [{"name": "pull"}],
                "volumes": [{"name": "v", "configMap": {"name": "cm"}}, {"name": "s", "secret": {"secretName": "sec"}},
                            {"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
                "containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}}],
                                "env": [{"name": "E", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "k"}}},
                                        {"name": "U", "valueFrom": {"configMapKeyRef": {"name": "unknown", "key": "k"}}}]}]
            }}}),
        );
        let out = renamed(vec![
            deployment,
            meta("ConfigMap", "cm"),
            meta("Secret", "sec"),
            meta("Secret", "pull"),
            meta("ServiceAccount", "sa"),
            meta("PersistentVolumeClaim", "data"),
        ]);
        let pod = &out[0].object.as_map()["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "p-sa");
        assert_eq!(pod["imagePullSecrets"][0]["name"], "p-pull");
        assert_eq!(pod["volumes"][0]["configMap"]["name"], "p-cm");
        assert_eq!(pod["volumes"][1]["secret"]["secretName"], "p-sec");
        assert_eq!(
            pod["volumes"][2]["persistentVolumeClaim"]["claimName"],
            "p-data"
        );
        assert_eq!(
            pod["containers"][0]["envFrom"][0]["configMapRef"]["name"],
            "p-cm"
        );
        assert_eq!(
            pod["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"],
            "p-sec"
        );
        assert_eq!(
            pod["containers"][0]["env"][1]["valueFrom"]["configMapKeyRef"]["name"],
            "unknown"
        );
    }

    #[test]
    fn service_hpa_and_statefulset_references() {
        let ingress = with(
            meta("Ingress", "ing"),
            "spec",
            json!({
                "defaultBackend": {"service": {"name": "svc"}},
                "rules": [{"http": {"paths": [{"backend": {"service": {"name": "svc"}}}]}}]
            }),
        );
        let hpa = with(
            meta("HorizontalPodAutoscaler", "hpa"),
            "spec",
            json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}}),
        );
        let sts = with(
            meta("StatefulSet", "db"),
            "spec",
            json!({"serviceName": "svc"}),
        );
        let out = renamed(vec![
            ingress,
            hpa,
            sts,
            meta("Service", "svc"),
            meta("Deployment", "web"),
        ]);
        let ingress = &out[0].object.as_map()["spec"];
        assert_eq!(ingress["defaultBackend"]["service"]["name"], "p-svc");
        assert_eq!(
            ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            "p-svc"
        );
        assert_eq!(
            out[1].object.as_map()["spec"]["scaleTargetRef"]["name"],
            "p-web"
        );
        assert_eq!(out[2].object.as_map()["spec"]["serviceName"], "p-svc");
    }

    #[test]
    fn role_bindings_follow_roles_and_service_accounts_across_namespaces() {
        let mut sa = meta("ServiceAccount", "sa");
        sa["metadata"]["namespace"] = json!("old");
        let binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "role"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "old"},
                         {"kind": "ServiceAccount", "name": "other", "namespace": "elsewhere"}]
        });
        let mut resources = resources(vec![
            binding,
            sa,
            meta("Role", "role"),
            meta("ClusterRole", "role"),
        ]);
        set_namespace(&mut resources, "stage").unwrap();
        add_prefix_suffix(&mut resources, "p-", "");
        fix(&mut resources).unwrap();
        let binding = resources[0].object.as_map();
        assert_eq!(binding["roleRef"]["name"], "p-role");
        assert_eq!(
            binding["subjects"][0],
            json!({"kind": "ServiceAccount", "name": "p-sa", "namespace": "stage"})
        );
        assert_eq!(binding["subjects"][1]["name"], "other");
    }

    #[test]
    fn references_stay_within_the_namespace() {
        let mut cm = meta("ConfigMap", "cm");
        cm["metadata"]["namespace"] = json!("a");
        let mut pod = with(
            meta("Pod", "pod"),
            "spec",
            json!({"volumes": [{"name": "v", "configMap": {"name": "cm"}}]}),
        );
        pod["metadata"]["namespace"] = json!("b");
        let out = renamed(vec![pod, cm]);
        assert_eq!(
            out[0].object.as_map()["spec"]["volumes"][0]["configMap"]["name"],
            "cm"
        );
    }

    #[test]
    fn ambiguous_references_are_errors() {
        let mut resources = resources(vec![
            with(
                meta("Pod", "pod"),
                "spec",
                json!({"volumes": [{"name": "v", "configMap": {"name": "cm"}}]}),
            ),
            meta("ConfigMap", "cm"),
            meta("ConfigMap", "cm2"),
        ]);
        add_prefix_suffix(&mut resources, "p-", "");
        resources[2].previous[0].name = "cm".to_owned();
        let error = fix(&mut resources).unwrap_err();
        assert!(
            error.message.contains("may refer to any of"),
            "{}",
            error.message
        );
    }
}
