//! `builtin:log-routing`: routes each log line to exactly one tier (Loki, a second Loki, or
//! an encrypted S3 archive) by its pod's declared channels and the channel the line names,
//! failing closed. In the monitoring app the step emits the whole Alloy collector kit
//! (DaemonSet reading the node's /var/log/pods, ServiceAccount with the IRSA role, RBAC,
//! config); in a workload app it only labels the pods of the declared workloads.
//!
//! ```yaml
//! - module: builtin:log-routing          # the monitoring app
//!   with:
//!     tiers:
//!       - {name: l1, loki: {url: "http://loki.monitoring:3100/loki/api/v1/push"}}
//!       - name: l2
//!         s3: {bucket: magento-l2-logs, region: eu-west-1, prefix: l2,
//!              encryption: {type: sse-kms, kmsKeyId: "alias/l2-logs"}}
//!     defaultTier: l1
//!     unclassifiedTier: l2
//!     routes: {l1: [http, cron], l2: [payment, admin_auth, customer_pii]}
//!     alloy: {roleArn: "arn:aws:iam::123456789012:role/alloy-role"}
//! - module: builtin:log-routing          # a workload app
//!   with:
//!     workloads: [{kind: Deployment, name: web, channels: [payment, http]}]
//! ```
//!
//! See docs/log-routing.md for the rules, the generated pipeline and every option.

pub mod alloy;
pub mod config;
pub mod kit;
pub mod names;
pub mod objects;
pub mod pipeline;
pub mod validate;

use argocd_wasm_sdk::prelude::*;

pub use config::LogRouting;
use pipeline::Plan;

impl Module for LogRouting {
    fn info() -> Info {
        Info::new(
            "log-routing",
            env!("CARGO_PKG_VERSION"),
            "Routes log channels to tiers, failing closed: the Alloy collector kit in the monitoring app, pod labels in workload apps",
        )
        .reads(&[
            "ConfigMap",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "DaemonSet",
            "Deployment",
            "StatefulSet",
            "ReplicaSet",
            "Job",
            "CronJob",
            "Rollout",
        ])
    }

    fn validate(&self) -> Vec<Diagnostic> {
        validate::validate(self)
    }

    fn transform(&self, ctx: &Context, objects: &mut Objects) -> Result<()> {
        route(self, ctx, objects)
    }
}

register!(LogRouting);

/// The whole transform: labels the declared workloads' pods and, in the monitoring app,
/// emits the collector kit. The runner has refused an invalid table before this runs, so a
/// broken config never reaches Alloy.
pub fn route(config: &LogRouting, ctx: &Context, objects: &mut Objects) -> Result<()> {
    let mut findings = objects::label_workloads(config, objects)?;
    if config.collects() {
        let plan = Plan::new(config);
        let text = plan.render();
        findings.extend(kit::emit(config, objects, &text, plan.has_s3_tier())?);
    }
    ctx.conclude(findings)
}

#[cfg(test)]
mod tests {
    use argocd_wasm_sdk::testing::{TestOutput, TestRun};
    use serde_json::Value;

    use super::*;
    use crate::kit::{CHECKSUM_ANNOTATION, IRSA_ANNOTATION, checksum};

    /// The monitoring app's half.
    fn collector() -> Value {
        json!({
            "tiers": [
                {"name": "l1", "loki": {"url": "http://loki:3100/loki/api/v1/push"}},
                {"name": "l2", "s3": {"bucket": "b", "region": "eu-west-1", "prefix": "l2",
                                      "encryption": {"type": "sse-kms"}}}
            ],
            "defaultTier": "l1",
            "unclassifiedTier": "l2",
            "routes": {"l1": ["http", "cron"], "l2": ["payment"]},
            "alloy": {"roleArn": "arn:aws:iam::123456789012:role/alloy-role"}
        })
    }

    /// A workload app's half.
    fn labels_only() -> Value {
        json!({"workloads": [
            {"kind": "Deployment", "name": "web", "namespace": "shop", "channels": ["payment", "http"]},
            {"kind": "CronJob", "name": "cron", "channels": ["cron"]}
        ]})
    }

    fn deployment(name: &str, namespace: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": namespace},
               "spec": {"template": {"metadata": {"labels": {"app": name}},
                        "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
    }

    fn cron_job() -> Value {
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cron"},
               "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}})
    }

    fn run(config: Value, objects: Vec<Value>) -> TestOutput {
        TestRun::new()
            .config(config)
            .run::<LogRouting>(objects)
            .unwrap_or_else(|d| panic!("{d:#?}"))
    }

    fn of_kind<'a>(out: &'a TestOutput, kind: &str) -> &'a Value {
        out.objects
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    }

    fn config_text(out: &TestOutput) -> &str {
        of_kind(out, "ConfigMap")["data"]["config.alloy"]
            .as_str()
            .expect("config.alloy")
    }

    #[test]
    fn a_workload_app_only_labels_its_pods() {
        let input = vec![
            deployment("web", "shop"),
            deployment("web", "other"),
            cron_job(),
        ];
        let out = run(labels_only(), input.clone());
        assert_eq!(out.objects.len(), input.len(), "nothing is added");
        let labels = |i: usize| out.objects[i]["spec"]["template"]["metadata"]["labels"].clone();
        assert_eq!(labels(0)["log-channel"], "http.payment");
        assert_eq!(labels(0)["app"], "web");
        assert!(labels(1).get("log-channel").is_none(), "namespace filter");
        let cron = &out.objects[2]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"];
        assert_eq!(cron["log-channel"], "cron");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn the_monitoring_app_emits_the_whole_kit() {
        let out = run(collector(), vec![]);
        let kinds: Vec<&str> = out
            .objects
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding",
                "ConfigMap",
                "DaemonSet"
            ]
        );
        assert!(config_text(&out).contains("loki.source.file \"tier_l2\""));
        let account = of_kind(&out, "ServiceAccount");
        assert_eq!(
            account["metadata"]["annotations"][IRSA_ANNOTATION],
            "arn:aws:iam::123456789012:role/alloy-role"
        );
        let daemon_set = of_kind(&out, "DaemonSet");
        assert_eq!(
            daemon_set["spec"]["template"]["metadata"]["annotations"][CHECKSUM_ANNOTATION],
            json!(checksum(config_text(&out)))
        );
        let args = &daemon_set["spec"]["template"]["spec"]["containers"][0]["args"];
        assert!(
            args.as_array()
                .unwrap()
                .contains(&json!("--stability.level=experimental"))
        );
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn a_routing_change_restarts_alloy_and_nothing_else_does() {
        let stamp = |config: Value| {
            let out = run(config, vec![]);
            of_kind(&out, "DaemonSet")["spec"]["template"]["metadata"]["annotations"]
                [CHECKSUM_ANNOTATION]
                .clone()
        };
        assert_eq!(stamp(collector()), stamp(collector()));
        let mut rerouted = collector();
        rerouted["routes"]["l2"] = json!(["payment", "admin_auth"]);
        assert_ne!(stamp(rerouted), stamp(collector()));
    }

    #[test]
    fn existing_kit_objects_are_kept_and_completed() {
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "alloy-config", "namespace": "monitoring", "labels": {"a": "b"}},
            "data": {"config.alloy": "old", "other.alloy": "kept"}});
        let account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "alloy", "namespace": "monitoring"}});
        let out = run(collector(), vec![config_map, account]);
        assert_eq!(out.objects.len(), 5);
        assert_ne!(out.objects[0]["data"]["config.alloy"], "old");
        assert_eq!(out.objects[0]["data"]["other.alloy"], "kept");
        assert_eq!(out.objects[0]["metadata"]["labels"]["a"], "b");
        assert!(out.objects[1]["metadata"]["annotations"][IRSA_ANNOTATION].is_string());
    }

    #[test]
    fn a_daemon_set_that_does_not_give_the_node_name_fails_the_render() {
        let hand_written = json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "alloy", "namespace": "monitoring"},
            "spec": {"template": {"spec": {"containers": [{"name": "alloy", "image": "grafana/alloy",
                "args": ["run", "--stability.level=experimental"],
                "env": [{"name": "HOSTNAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]}]}}}});
        let errors = TestRun::new()
            .config(collector())
            .run::<LogRouting>(vec![hand_written])
            .unwrap_err();
        assert!(
            errors.iter().any(|d| d.is_error()
                && d.message.contains("NODE_NAME")
                && d.object.as_ref().is_some_and(|o| o.kind == "DaemonSet")),
            "{errors:#?}"
        );
    }

    #[test]
    fn warns_about_declared_workloads_the_step_does_not_see() {
        let out = run(labels_only(), vec![deployment("web", "shop")]);
        let [warning] = out.diagnostics.as_slice() else {
            panic!("{:?}", out.diagnostics)
        };
        assert!(!warning.is_error());
        assert_eq!(warning.field.as_deref(), Some("with.workloads[1]"));
        assert!(
            warning.message.contains("CronJob `cron`"),
            "{}",
            warning.message
        );
    }

    #[test]
    fn refuses_an_invalid_table_before_transforming() {
        let mut broken = collector();
        broken["routes"]["nowhere"] = json!(["x"]);
        let errors = TestRun::new()
            .config(broken)
            .run::<LogRouting>(vec![deployment("web", "shop")])
            .unwrap_err();
        assert!(errors.iter().any(|d| {
            d.field.as_deref() == Some("with.routes.nowhere")
                && d.code.as_deref() == Some("log-routing/invalid-config")
        }));
    }

    #[test]
    fn output_is_byte_identical_across_runs() {
        let mut both = collector();
        both["workloads"] = labels_only()["workloads"].clone();
        let objects = || vec![deployment("web", "shop"), cron_job()];
        let text = |out: TestOutput| out.objects.iter().map(Value::to_string).collect::<Vec<_>>();
        assert_eq!(
            text(run(both.clone(), objects())),
            text(run(both, objects()))
        );
    }

    #[test]
    fn describes_itself_and_the_kinds_it_reads() {
        let info = LogRouting::info();
        assert_eq!(info.name, "log-routing");
        for kind in [
            "ConfigMap",
            "DaemonSet",
            "ServiceAccount",
            "Deployment",
            "CronJob",
        ] {
            assert!(info.reads_kinds.iter().any(|k| k == kind), "{kind}");
        }
    }
}
