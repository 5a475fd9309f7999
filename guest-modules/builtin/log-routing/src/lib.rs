//! `builtin:log-routing`: generates the Grafana Alloy config that sends each log channel to
//! its tier (Loki, a second Loki, or an encrypted S3 archive), labels the pods of workloads
//! that declare channels, and restarts Alloy when the routing changes.
//!
//! ```yaml
//! - module: builtin:log-routing
//!   with:
//!     tiers:
//!       - {name: l1, loki: {url: "http://loki.monitoring:3100/loki/api/v1/push"}}
//!       - name: l2
//!         s3: {bucket: magento-l2-logs, region: eu-west-1, prefix: l2,
//!              encryption: {type: sse-kms, kmsKeyId: "alias/l2-logs"}}
//!     defaultTier: l1
//!     routes: {l2: [payment, admin_auth, customer_pii]}
//! ```
//!
//! See docs/log-routing.md for the generated pipeline and every option.

pub mod alloy;
pub mod config;
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
            "Generates the Grafana Alloy config that routes log channels to tiers, and labels the pods it routes on",
        )
        .reads(&[
            "ConfigMap",
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

/// The whole transform. Refuses an invalid table even when the host did not validate it
/// first (native runs, tests), so a broken config never reaches Alloy.
pub fn route(config: &LogRouting, ctx: &Context, objects: &mut Objects) -> Result<()> {
    let errors: Vec<Diagnostic> = validate::validate(config)
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        errors.into_iter().for_each(|error| ctx.report(error));
        return Ok(());
    }
    let plan = Plan::new(config);
    let text = plan.render();
    let warnings = objects::label_workloads(config, objects)?;
    objects::upsert_config_map(config, objects, &text)?;
    let daemon_set_warnings =
        objects::stamp_daemon_set(config, objects, &text, plan.has_s3_tier())?;
    warnings
        .into_iter()
        .chain(daemon_set_warnings)
        .for_each(|warning| ctx.report(warning));
    Ok(())
}

#[cfg(test)]
mod tests {
    use argocd_wasm_sdk::testing::{TestOutput, TestRun};
    use serde_json::Value;

    use super::*;
    use crate::objects::{CHECKSUM_ANNOTATION, checksum};

    fn table() -> Value {
        json!({
            "tiers": [
                {"name": "l1", "loki": {"url": "http://loki:3100/loki/api/v1/push"}},
                {"name": "l2", "s3": {"bucket": "b", "region": "eu-west-1", "prefix": "l2",
                                      "encryption": {"type": "sse-kms"}}}
            ],
            "defaultTier": "l1",
            "routes": {"l2": ["payment"]},
            "workloads": [
                {"kind": "Deployment", "name": "web", "namespace": "shop", "channels": ["payment", "http"]},
                {"kind": "CronJob", "name": "cron", "channels": ["cron"]}
            ]
        })
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

    fn daemon_set(namespace: &str, args: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
               "metadata": {"name": "alloy", "namespace": namespace},
               "spec": {"template": {"spec": {"containers": [{"name": "alloy", "args": args}]}}}})
    }

    fn run(config: Value, objects: Vec<Value>) -> TestOutput {
        TestRun::new()
            .config(config)
            .run::<LogRouting>(objects)
            .unwrap_or_else(|d| panic!("{d:#?}"))
    }

    fn config_text(out: &TestOutput) -> &str {
        out.objects
            .iter()
            .find(|o| o["kind"] == "ConfigMap")
            .and_then(|o| o["data"]["config.alloy"].as_str())
            .expect("a ConfigMap with config.alloy")
    }

    fn experimental() -> Value {
        json!(["run", "--stability.level=experimental"])
    }

    #[test]
    fn adds_the_alloy_config_map() {
        let out = run(table(), vec![deployment("web", "shop")]);
        let config_map = out.objects.last().unwrap();
        assert_eq!(
            config_map["metadata"],
            json!({"name": "alloy-config", "namespace": "monitoring"})
        );
        assert!(config_text(&out).contains("loki.source.kubernetes \"pods\""));
    }

    #[test]
    fn replaces_the_config_of_an_existing_config_map_in_place() {
        let existing = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "alloy-config", "namespace": "monitoring", "labels": {"a": "b"}},
            "data": {"config.alloy": "old", "other.alloy": "kept"}});
        let out = run(table(), vec![existing, deployment("web", "shop")]);
        assert_eq!(out.objects.len(), 2);
        let config_map = &out.objects[0];
        assert_ne!(config_map["data"]["config.alloy"], "old");
        assert_eq!(config_map["data"]["other.alloy"], "kept");
        assert_eq!(config_map["metadata"]["labels"]["a"], "b");
    }

    #[test]
    fn a_config_map_of_another_namespace_is_not_ours() {
        let elsewhere = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "alloy-config", "namespace": "other"}, "data": {"config.alloy": "x"}});
        let out = run(table(), vec![elsewhere.clone()]);
        assert_eq!(out.objects[0], elsewhere);
        assert_eq!(out.objects.len(), 2);
    }

    #[test]
    fn labels_the_pod_templates_of_declared_workloads() {
        let out = run(
            table(),
            vec![
                deployment("web", "shop"),
                deployment("web", "other"),
                cron_job(),
            ],
        );
        let key = "argocd-wasm-plugin.io/log-channels";
        assert_eq!(
            out.objects[0]["spec"]["template"]["metadata"]["labels"][key],
            "http.payment"
        );
        assert_eq!(
            out.objects[0]["spec"]["template"]["metadata"]["labels"]["app"],
            "web"
        );
        assert!(
            out.objects[1]["spec"]["template"]["metadata"]["labels"]
                .get(key)
                .is_none(),
            "namespace filter"
        );
        let cron = &out.objects[2]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"];
        assert_eq!(cron[key], "cron");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn warns_about_declared_workloads_the_step_does_not_see() {
        let out = run(table(), vec![deployment("web", "shop")]);
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
    fn stamps_the_config_checksum_on_the_alloy_daemon_set() {
        let objects = vec![
            deployment("web", "shop"),
            cron_job(),
            daemon_set("monitoring", experimental()),
        ];
        let out = run(table(), objects.clone());
        let stamp = |out: &TestOutput| {
            out.objects[2]["spec"]["template"]["metadata"]["annotations"][CHECKSUM_ANNOTATION]
                .clone()
        };
        assert_eq!(stamp(&out), json!(checksum(config_text(&out))));
        assert_eq!(
            stamp(&run(table(), objects.clone())),
            stamp(&out),
            "stable while routing is"
        );
        let mut rerouted = table();
        rerouted["routes"]["l2"] = json!(["payment", "admin_auth"]);
        assert_ne!(
            stamp(&run(rerouted, objects)),
            stamp(&out),
            "a routing change restarts Alloy"
        );
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn leaves_a_daemon_set_of_another_namespace_alone() {
        let other = daemon_set("kube-system", experimental());
        let out = run(
            table(),
            vec![deployment("web", "shop"), cron_job(), other.clone()],
        );
        assert_eq!(out.objects[2], other);
    }

    #[test]
    fn warns_when_alloy_does_not_enable_the_experimental_s3_exporter() {
        let plain = daemon_set("monitoring", json!(["run"]));
        let out = run(
            table(),
            vec![deployment("web", "shop"), cron_job(), plain.clone()],
        );
        let [warning] = out.diagnostics.as_slice() else {
            panic!("{:?}", out.diagnostics)
        };
        assert!(warning.message.contains("--stability.level=experimental"));
        assert_eq!(
            warning.object.as_ref().map(|o| o.name.as_str()),
            Some("alloy")
        );

        let mut loki_only = table();
        loki_only["tiers"].as_array_mut().unwrap().pop();
        loki_only["routes"] = json!({});
        let out = run(
            loki_only,
            vec![deployment("web", "shop"), cron_job(), plain],
        );
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn refuses_an_invalid_table_even_without_load_time_validation() {
        let mut broken = table();
        broken["routes"]["nowhere"] = json!(["x"]);
        let errors = TestRun::new()
            .config(broken)
            .run::<LogRouting>(vec![deployment("web", "shop")])
            .unwrap_err();
        assert!(
            errors
                .iter()
                .any(|d| d.field.as_deref() == Some("with.routes.nowhere"))
        );
    }

    #[test]
    fn output_is_byte_identical_across_runs() {
        let objects = || {
            vec![
                deployment("web", "shop"),
                cron_job(),
                daemon_set("monitoring", experimental()),
            ]
        };
        let first = run(table(), objects());
        let second = run(table(), objects());
        let text = |out: &TestOutput| out.objects.iter().map(Value::to_string).collect::<Vec<_>>();
        assert_eq!(text(&first), text(&second));
    }

    #[test]
    fn describes_itself_and_the_kinds_it_reads() {
        let info = LogRouting::info();
        assert_eq!(info.name, "log-routing");
        for kind in ["ConfigMap", "DaemonSet", "Deployment", "CronJob"] {
            assert!(info.reads_kinds.iter().any(|k| k == kind), "{kind}");
        }
    }
}
