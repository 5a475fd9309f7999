//! The collector kit the monitoring app emits: the Alloy DaemonSet, its ServiceAccount (with
//! the IRSA role), the ClusterRole and binding discovery needs, and the config. An object of
//! the kit already in the stream (a hand-written DaemonSet, say) is kept instead of the
//! generated one; either way the DaemonSet is checked for what the config relies on.

use argocd_wasm_sdk::{Diagnostic, FieldPath, Object, Objects, Result};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::{Alloy, LogRouting};
use crate::pipeline::{NODE_ENV, POD_LOGS};

/// The ConfigMap key the DaemonSet mounts and Alloy's Helm chart reads.
pub const CONFIG_KEY: &str = "config.alloy";
/// The pod template annotation that changes whenever the config does.
pub const CHECKSUM_ANNOTATION: &str = "argocd-wasm-plugin.io/alloy-config-sha256";
/// The annotation EKS reads to give a service account's pods an IAM role (IRSA).
pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// The flag otelcol.exporter.awss3 needs, and the one that places Alloy's data.
const STABILITY_FLAG: &str = "--stability.level";
const STORAGE_FLAG: &str = "--storage.path";
/// Where the container sees the config, and its data directory (a hostPath).
const CONFIG_DIR: &str = "/etc/alloy";
const DATA_DIR: &str = "/var/lib/alloy";
/// Alloy's HTTP server: metrics, readiness, the debug UI.
const HTTP_PORT: u16 = 12345;

/// Lowercase hex SHA-256 of the config text.
pub fn checksum(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Adds the kit objects the stream does not hold yet, writes the config into the
/// ConfigMap, the IRSA role onto the ServiceAccount, and the config checksum onto the
/// DaemonSet. Returns the DaemonSet's findings; errors fail the render.
pub fn emit(
    config: &LogRouting,
    objects: &mut Objects,
    text: &str,
    needs_experimental: bool,
) -> Result<Vec<Diagnostic>> {
    let alloy = &config.alloy;
    for wanted in kit_objects(alloy, needs_experimental) {
        if position(objects, &wanted).is_none() {
            objects.push(Object::from_value(wanted)?);
        }
    }
    let config_map = find(
        objects,
        "ConfigMap",
        &alloy.config_map,
        Some(&alloy.namespace),
    );
    config_map.set_path(
        &FieldPath::default().key("data").key(CONFIG_KEY),
        Value::from(text),
    )?;
    if let Some(role) = &alloy.role_arn {
        let account = find(
            objects,
            "ServiceAccount",
            &alloy.service_account,
            Some(&alloy.namespace),
        );
        account.set_annotation(IRSA_ANNOTATION, role)?;
    }
    let daemon_set = find(
        objects,
        "DaemonSet",
        &alloy.daemon_set,
        Some(&alloy.namespace),
    );
    let annotation =
        FieldPath::parse("spec.template.metadata.annotations")?.key(CHECKSUM_ANNOTATION);
    daemon_set.set_path(&annotation, Value::from(checksum(text)))?;
    Ok(requirements(daemon_set, needs_experimental))
}

/// The kit's objects as the module writes them.
fn kit_objects(alloy: &Alloy, needs_experimental: bool) -> Vec<Value> {
    let namespace = &alloy.namespace;
    let cluster_name = cluster_object_name(alloy);
    vec![
        json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": alloy.service_account, "namespace": namespace},
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": cluster_name},
            // discovery.kubernetes lists and watches the pods of its node; nothing else.
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": cluster_name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_name},
            "subjects": [{"kind": "ServiceAccount", "name": alloy.service_account, "namespace": namespace}],
        }),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": alloy.config_map, "namespace": namespace},
            "data": {CONFIG_KEY: ""},
        }),
        daemon_set(alloy, needs_experimental),
    ]
}

/// Cluster-scoped objects are named after the namespace and DaemonSet, so two kits (two
/// namespaces) never write the same object.
pub fn cluster_object_name(alloy: &Alloy) -> String {
    format!("{}-{}", alloy.namespace, alloy.daemon_set)
}

fn daemon_set(alloy: &Alloy, needs_experimental: bool) -> Value {
    let labels = json!({
        "app.kubernetes.io/name": "alloy",
        "app.kubernetes.io/instance": alloy.daemon_set,
    });
    let mut args = vec![
        "run".to_owned(),
        format!("{CONFIG_DIR}/{CONFIG_KEY}"),
        format!("{STORAGE_FLAG}={DATA_DIR}"),
        format!("--server.http.listen-addr=0.0.0.0:{HTTP_PORT}"),
    ];
    if needs_experimental {
        args.push(format!("{STABILITY_FLAG}=experimental"));
    }
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": alloy.daemon_set, "namespace": alloy.namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": alloy.service_account,
                    "tolerations": alloy.tolerations,
                    "containers": [{
                        "name": "alloy",
                        "image": alloy.image,
                        "args": args,
                        "env": [{"name": NODE_ENV, "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                        "ports": [{"name": "http-metrics", "containerPort": HTTP_PORT}],
                        "readinessProbe": {"httpGet": {"path": "/-/ready", "port": HTTP_PORT}},
                        "resources": alloy.resources,
                        "volumeMounts": [
                            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": true},
                            {"name": "pod-logs", "mountPath": POD_LOGS, "readOnly": true},
                            {"name": "data", "mountPath": DATA_DIR},
                        ],
                    }],
                    "volumes": [
                        {"name": "config", "configMap": {"name": alloy.config_map}},
                        {"name": "pod-logs", "hostPath": {"path": POD_LOGS, "type": "Directory"}},
                        {"name": "data", "hostPath": {"path": alloy.data_path(), "type": "DirectoryOrCreate"}},
                    ],
                },
            },
        },
    })
}

fn position(objects: &Objects, wanted: &Value) -> Option<usize> {
    let metadata = &wanted["metadata"];
    objects.iter().position(|object| {
        object.is_kind(wanted["kind"].as_str().unwrap_or_default())
            && object.name() == metadata["name"].as_str().unwrap_or_default()
            && object.namespace() == metadata["namespace"].as_str()
    })
}

/// The kit object `emit` made sure is there.
fn find<'a>(
    objects: &'a mut Objects,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
) -> &'a mut Object {
    objects
        .iter_mut()
        .find(|object| {
            object.is_kind(kind) && object.name() == name && object.namespace() == namespace
        })
        .expect("emit adds every kit object it then edits")
}

/// What the config relies on and only the DaemonSet can give: the node name discovery
/// filters on, the experimental flag, the node's pod logs, a data directory that outlives
/// the pod.
pub fn requirements(daemon_set: &Object, needs_experimental: bool) -> Vec<Diagnostic> {
    let spec = daemon_set
        .get_path(&FieldPath::default().key("spec").key("template").key("spec"))
        .cloned()
        .unwrap_or(Value::Null);
    let containers: Vec<&Value> = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let mut findings = Vec::new();
    let mut fail = |message: String| {
        findings.push(
            Diagnostic::error(message)
                .on(daemon_set.reference())
                .code("daemon-set-misses-requirement"),
        );
    };
    if !containers.iter().any(|c| sets_node_name(c)) {
        fail(format!(
            "no container sets the env var {NODE_ENV} from `fieldRef: {{fieldPath: spec.nodeName}}`: discovery lists the pods of the node named by {NODE_ENV}, so this DaemonSet would collect nothing"
        ));
    }
    if needs_experimental
        && !containers
            .iter()
            .any(|c| flag_value(c, STABILITY_FLAG).as_deref() == Some("experimental"))
    {
        fail(format!(
            "the config uses otelcol.exporter.awss3, an experimental Alloy component, but no container passes `{STABILITY_FLAG}=experimental`: Alloy would refuse the config"
        ));
    }
    if !containers
        .iter()
        .any(|c| node_path(c, &spec, POD_LOGS).as_deref() == Some(POD_LOGS))
    {
        fail(format!(
            "no container mounts the node's {POD_LOGS} (a hostPath volume at {POD_LOGS}): there are no log files to read"
        ));
    }
    let storage_on_node = containers.iter().any(|c| {
        flag_value(c, STORAGE_FLAG).is_some_and(|path| node_path(c, &spec, &path).is_some())
    });
    if !storage_on_node {
        fail(
            "Alloy's `--storage.path` is not on a hostPath volume: tail positions and the S3 queue would be lost with the pod, and every file re-read"
                .to_owned(),
        );
    }
    findings
}

fn sets_node_name(container: &Value) -> bool {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|env| {
            env["name"] == NODE_ENV && env["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
        })
}

/// The command and args of a container.
fn words(container: &Value) -> Vec<&str> {
    ["command", "args"]
        .iter()
        .flat_map(|field| container[*field].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect()
}

/// The value of a `--flag=value` or `--flag value` argument.
fn flag_value(container: &Value, flag: &str) -> Option<String> {
    let words = words(container);
    let inline = words
        .iter()
        .find_map(|word| word.strip_prefix(flag)?.strip_prefix('='));
    let separate = words
        .windows(2)
        .find(|pair| pair[0] == flag)
        .map(|pair| pair[1]);
    inline.or(separate).map(str::to_owned)
}

/// The node path behind a path of the container, when a hostPath volume holds it.
fn node_path(container: &Value, spec: &Value, path: &str) -> Option<String> {
    let volumes = spec["volumes"].as_array().into_iter().flatten();
    let host_path = |name: &Value| {
        volumes
            .clone()
            .find(|volume| volume["name"] == *name)
            .and_then(|volume| volume["hostPath"]["path"].as_str())
    };
    container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|mount| {
            let mount_path = mount["mountPath"].as_str()?.trim_end_matches('/');
            let rest = path.strip_prefix(mount_path)?;
            if !(rest.is_empty() || rest.starts_with('/')) {
                return None;
            }
            Some(format!(
                "{}{rest}",
                host_path(&mount["name"])?.trim_end_matches('/')
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated() -> Object {
        Object::from_value(daemon_set(&Alloy::default(), true)).unwrap()
    }

    fn problems(daemon_set: &Object) -> Vec<String> {
        requirements(daemon_set, true)
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    fn edited(edit: impl FnOnce(&mut Value)) -> Object {
        let mut value = generated().into_value();
        edit(&mut value["spec"]["template"]["spec"]);
        Object::from_value(value).unwrap()
    }

    #[test]
    fn checksum_is_sha256_hex() {
        assert_eq!(
            checksum("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_generated_daemon_set_meets_every_requirement() {
        assert_eq!(problems(&generated()), Vec::<String>::new());
    }

    #[test]
    fn a_daemon_set_without_the_node_name_fails() {
        // A hand-written DaemonSet's HOSTNAME is the pod name: nothing would be collected.
        let hostname = edited(|spec| {
            spec["containers"][0]["env"] = json!([{"name": "HOSTNAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]);
        });
        let [problem] = problems(&hostname).try_into().unwrap();
        assert!(problem.contains("NODE_NAME"), "{problem}");
        let from_metadata = edited(|spec| {
            spec["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] =
                json!("metadata.name");
        });
        assert_eq!(problems(&from_metadata).len(), 1);
    }

    #[test]
    fn a_daemon_set_without_flag_logs_or_node_storage_fails() {
        let no_flag = edited(|spec| {
            spec["containers"][0]["args"] = json!([
                "run",
                "/etc/alloy/config.alloy",
                "--storage.path",
                "/var/lib/alloy/data"
            ])
        });
        let [problem] = problems(&no_flag).try_into().unwrap();
        assert!(
            problem.contains("--stability.level=experimental"),
            "{problem}"
        );
        assert!(
            requirements(&no_flag, false).is_empty(),
            "a Loki-only config needs no flag"
        );

        let separate_flag = edited(|spec| {
            spec["containers"][0]["args"] = json!([
                "run",
                "--stability.level",
                "experimental",
                "--storage.path",
                "/var/lib/alloy"
            ])
        });
        assert!(
            problems(&separate_flag).is_empty(),
            "{:?}",
            problems(&separate_flag)
        );
        let whole_var_log = edited(|spec| {
            spec["volumes"][1]["hostPath"]["path"] = json!("/var/log");
            spec["containers"][0]["volumeMounts"][1]["mountPath"] = json!("/var/log");
        });
        assert!(
            problems(&whole_var_log).is_empty(),
            "{:?}",
            problems(&whole_var_log)
        );

        let no_logs =
            edited(|spec| spec["volumes"][1] = json!({"name": "pod-logs", "emptyDir": {}}));
        let [problem] = problems(&no_logs).try_into().unwrap();
        assert!(problem.contains("/var/log/pods"), "{problem}");

        let tmp_storage =
            edited(|spec| spec["containers"][0]["args"][2] = json!("--storage.path=/tmp/alloy"));
        let [problem] = problems(&tmp_storage).try_into().unwrap();
        assert!(problem.contains("--storage.path"), "{problem}");
    }

    #[test]
    fn cluster_objects_are_named_after_the_kit() {
        assert_eq!(cluster_object_name(&Alloy::default()), "monitoring-alloy");
    }
}
