//! Name references: after renames, fields that name another object (a Deployment's ConfigMap
//! volume, an Ingress backend's Service, a RoleBinding's subjects, …) follow that object's
//! new name. The table is the config's `nameReference` (kustomize's defaults plus
//! `configurations` and `crds`); the matching rules are those of kustomize's nameref filter:
//! the field's value must be an earlier name of an object of the target kind, in the
//! referrer's namespace (or cluster-scoped, or a ServiceAccount a RoleBinding names), and a
//! `roleRef` must agree on kind and group.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use serde_json::Value;

use crate::fieldspec::{FieldSpec, ObjectType, Segment, segments, visit_map};
use crate::resource::{Id, Renames, Resource};
use crate::tconfig::{Config, NameBackReference};

/// One referring field: objects the `referrer` spec selects name a `target` at its path.
struct Reference<'a> {
    target: &'a NameBackReference,
    referrer: &'a FieldSpec,
    /// The referrer's path, split when first walked: of the hundreds of default
    /// references, a build walks only those of the kinds it has.
    path: OnceCell<Vec<Segment<'a>>>,
}

impl<'a> Reference<'a> {
    fn path(&self) -> &[Segment<'a>] {
        self.path.get_or_init(|| segments(&self.referrer.path))
    }

    fn is_role_ref(&self) -> bool {
        let names: Vec<&str> = self.path().iter().map(|s| &*s.name).collect();
        names.ends_with(&["roleRef", "name"])
    }

    fn dotted_path(&self) -> String {
        let names: Vec<&str> = self.path().iter().map(|s| &*s.name).collect();
        names.join(".")
    }
}

fn table(config: &Config) -> Vec<Reference<'_>> {
    config
        .name_reference
        .iter()
        .flat_map(|target| {
            target.referrers.iter().map(move |referrer| Reference {
                target,
                referrer,
                path: OnceCell::new(),
            })
        })
        .collect()
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
    renames: Renames,
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
            effective_namespace: resource.effective_namespace().to_owned(),
            original_namespace: resource.original().namespace,
            cluster_scoped: resource.is_cluster_scoped(),
            previous: resource.previous.clone(),
            renames: resource.renames.clone(),
        }
    }

    fn was(&self, target: &NameBackReference) -> bool {
        self.previous
            .iter()
            .any(|id| target.selects(&self.group, &self.version, &id.kind))
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
    renames: Renames,
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
            namespace: resource.effective_namespace().to_owned(),
            subject_namespaces,
            role_ref,
            renames: resource.renames.clone(),
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
    /// The namespaces the candidates were originally in.
    original_namespaces: HashSet<String>,
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
        let original_namespaces = all.iter().map(|c| c.original_namespace.clone()).collect();
        Self {
            all,
            by_previous_name,
            original_namespaces,
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
        let is_role_ref = reference.is_role_ref();
        let found: Vec<&Candidate> = indexes
            .iter()
            .map(|&i| &self.all[i])
            .filter(|candidate| self.in_namespace(candidate, namespace))
            .filter(|candidate| candidate.was(reference.target))
            .filter(|candidate| match (&referrer.role_ref, is_role_ref) {
                (Some((group, kind)), true) => candidate
                    .previous
                    .iter()
                    .any(|id| &id.kind == kind && (group.is_empty() || *group == candidate.group)),
                _ => true,
            })
            .filter(|candidate| referrer.may_reference(candidate))
            .collect();
        let found = prefer_renamed_alike(found, referrer);
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
        match self.original_namespaces.contains(namespace) {
            true => candidate.original_namespace == namespace,
            false => candidate.effective_namespace == namespace,
        }
    }
}

/// Among several candidates, kustomize keeps those renamed like the referrer: first with an
/// empty prefix or suffix list matching anything, then, if still several, exactly.
fn prefer_renamed_alike<'a>(found: Vec<&'a Candidate>, referrer: &Referrer) -> Vec<&'a Candidate> {
    if found.len() < 2 {
        return found;
    }
    let sieve = |found: Vec<&'a Candidate>, allow_empty: bool| -> Vec<&'a Candidate> {
        found
            .into_iter()
            .filter(|c| c.renames.alike(&referrer.renames, allow_empty))
            .collect()
    };
    let found = sieve(found, true);
    if found.len() > 1 {
        sieve(found, false)
    } else {
        found
    }
}

/// Points every referring field at the current name of the object it names.
pub fn fix(resources: &mut [Resource], config: &Config) -> Result<()> {
    let candidates = Candidates::new(resources);
    if candidates.all.is_empty() {
        return Ok(());
    }
    // Referrer specs by kind; a spec without a kind applies to every object.
    let table = table(config);
    let mut by_referrer_kind: HashMap<&str, Vec<&Reference>> = HashMap::new();
    for reference in &table {
        by_referrer_kind
            .entry(&reference.referrer.kind)
            .or_default()
            .push(reference);
    }
    let any_kind = by_referrer_kind.get("").cloned().unwrap_or_default();
    let mut object_type = ObjectType::default();
    for resource in resources.iter_mut() {
        let of_kind = by_referrer_kind.get(resource.object.kind());
        if of_kind.is_none() && any_kind.is_empty() {
            continue;
        }
        let referrer = Referrer::of(resource);
        let references = of_kind.into_iter().flatten().chain(&any_kind);
        let object_type = object_type.read(&resource.object);
        for reference in references {
            if !reference.referrer.selects_type(object_type) {
                continue;
            }
            let mut failure = None;
            visit_map(
                resource.object.as_map_mut(),
                reference.path(),
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
                    .at(reference.dotted_path()));
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
    use crate::identity::{Affix, Namespace, add_affix, set_namespace};
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
        add_affix(
            &mut resources,
            Affix::Prefix("p-"),
            &Config::default().name_prefix,
        );
        fix(&mut resources, &Config::default()).unwrap();
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
        let config = Config::default();
        let settings = Namespace {
            namespace: "stage",
            specs: &config.namespace,
            unset_only: false,
            subjects: Default::default(),
        };
        set_namespace(&mut resources, &settings).unwrap();
        add_affix(
            &mut resources,
            Affix::Prefix("p-"),
            &Config::default().name_prefix,
        );
        fix(&mut resources, &Config::default()).unwrap();
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
    fn configured_references_follow_renames() {
        let certificate = json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "cert"},
                                 "spec": {"issuerRef": {"kind": "Issuer", "name": "issuer"}}});
        let issuer = json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer", "metadata": {"name": "issuer"}});
        let custom = Config::from_documents(&[json!({"nameReference": [{"kind": "Issuer", "group": "cert-manager.io",
            "fieldSpecs": [{"kind": "Certificate", "group": "cert-manager.io", "path": "spec/issuerRef/name"}]}]})])
        .unwrap();
        let mut config = Config::default();
        let without = renamed(vec![certificate.clone(), issuer.clone()]);
        assert_eq!(
            without[0].object.as_map()["spec"]["issuerRef"]["name"],
            "issuer"
        );
        config.merge(custom).unwrap();
        let mut resources = resources(vec![certificate, issuer]);
        add_affix(&mut resources, Affix::Prefix("p-"), &config.name_prefix);
        fix(&mut resources, &config).unwrap();
        assert_eq!(
            resources[0].object.as_map()["spec"]["issuerRef"]["name"],
            "p-issuer"
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
        add_affix(
            &mut resources,
            Affix::Prefix("p-"),
            &Config::default().name_prefix,
        );
        resources[2].previous[0].name = "cm".to_owned();
        let error = fix(&mut resources, &Config::default()).unwrap_err();
        assert!(
            error.message.contains("may refer to any of"),
            "{}",
            error.message
        );
    }
}
