//! Load-time checks of the routing table. Every finding names the `with.…` field it is
//! about, and all findings are reported at once so one fix round is enough.

use std::collections::{BTreeMap, BTreeSet};

use argocd_wasm_sdk::{Diagnostic, FieldPath, pod_template_path};

use crate::config::{EncryptionKind, LogRouting, S3Destination, Tier, Workload};
use crate::names;
use crate::pipeline::CHANNEL_SEPARATOR;

pub fn validate(config: &LogRouting) -> Vec<Diagnostic> {
    let with = FieldPath::default().key("with");
    let mut findings = Vec::new();
    check_tiers(config, &with, &mut findings);
    check_routes(config, &with, &mut findings);
    check_labels(config, &with, &mut findings);
    check_lines(config, &with, &mut findings);
    check_alloy(config, &with, &mut findings);
    check_workloads(config, &with, &mut findings);
    findings
}

/// A problem with the routing table. They share one code: the field they name tells them
/// apart.
fn error(message: impl Into<String>, at: &FieldPath) -> Diagnostic {
    Diagnostic::error(message).at(at).code("invalid-config")
}

fn check_tiers(config: &LogRouting, with: &FieldPath, findings: &mut Vec<Diagnostic>) {
    let tiers = with.key("tiers");
    if !config.collects() {
        check_labels_only(config, with, findings);
        return;
    }
    let mut seen = BTreeSet::new();
    for (i, tier) in config.tiers.iter().enumerate() {
        let at = tiers.index(i);
        if let Some(problem) = names::identifier_problem(&tier.name) {
            findings.push(error(format!("tier name {problem}"), &at.key("name")));
        }
        if !seen.insert(tier.name.as_str()) {
            let message = format!("tier `{}` is defined twice", tier.name);
            findings.push(error(message, &at.key("name")));
        }
        check_destination(tier, &at, findings);
    }
    let required = [
        (
            "defaultTier",
            &config.default_tier,
            "the tier of pods that declare no channel",
        ),
        (
            "unclassifiedTier",
            &config.unclassified_tier,
            "the tier (L2, or a quarantine) of a declared pod's lines that name none of its channels",
        ),
    ];
    for (field, value, meaning) in required {
        match value {
            None => findings.push(error(
                format!("`{field}` is required with `tiers`: {meaning}"),
                &with.key(field),
            )),
            Some(name) if !seen.contains(name.as_str()) => {
                findings.push(unknown_tier(name, &seen, &with.key(field)));
            }
            Some(_) => {}
        }
    }
    check_unclassified_is_not_loki(config, with, findings);
    for tier in &config.tiers {
        let receives = Some(&tier.name) == config.default_tier.as_ref()
            || Some(&tier.name) == config.unclassified_tier.as_ref()
            || config.routes.contains_key(&tier.name);
        if !receives {
            let message = format!(
                "tier `{}` receives no logs: no route names it and it is neither `defaultTier` nor `unclassifiedTier`",
                tier.name
            );
            findings.push(Diagnostic::warning(message).at(&tiers));
        }
    }
}

/// Unclassified lines may be sensitive: sending them to Loki while an archive exists is
/// allowed (a platform may want it) but worth a word.
fn check_unclassified_is_not_loki(
    config: &LogRouting,
    with: &FieldPath,
    findings: &mut Vec<Diagnostic>,
) {
    let tier_of = |name: &str| config.tiers.iter().find(|tier| tier.name == name);
    let unclassified = config.unclassified_tier.as_deref().and_then(tier_of);
    let has_archive = config.tiers.iter().any(|tier| tier.s3.is_some());
    if let Some(tier) = unclassified.filter(|tier| tier.loki.is_some() && has_archive) {
        let message = format!(
            "`unclassifiedTier` `{}` is a Loki tier: lines of pods that declare archived channels and name none of them would reach Loki",
            tier.name
        );
        findings.push(Diagnostic::warning(message).at(with.key("unclassifiedTier")));
    }
}

/// A workload app's step: it labels pods and emits nothing else, so the routing fields
/// would be ignored; saying so beats a silently dropped table.
fn check_labels_only(config: &LogRouting, with: &FieldPath, findings: &mut Vec<Diagnostic>) {
    if config.workloads.is_empty() {
        findings.push(error(
            "nothing to do: set `tiers` (the collector kit, in the monitoring app) or `workloads` (pod labels, in a workload app)",
            with,
        ));
    }
    let routing_fields = [
        ("defaultTier", config.default_tier.is_some()),
        ("unclassifiedTier", config.unclassified_tier.is_some()),
        ("routes", !config.routes.is_empty()),
    ];
    for (field, set) in routing_fields {
        if set {
            findings.push(error(
                format!("`{field}` only applies with `tiers` (the monitoring app's step)"),
                &with.key(field),
            ));
        }
    }
}

fn unknown_tier(name: &str, known: &BTreeSet<&str>, at: &FieldPath) -> Diagnostic {
    let known: Vec<&str> = known.iter().copied().collect();
    error(
        format!("unknown tier `{name}` (tiers: {})", known.join(", ")),
        at,
    )
}

fn check_destination(tier: &Tier, at: &FieldPath, findings: &mut Vec<Diagnostic>) {
    if tier.destination().is_none() {
        let message = format!(
            "tier `{}` needs exactly one destination: `loki` or `s3`",
            tier.name
        );
        findings.push(error(message, at));
    }
    if let Some(loki) = &tier.loki {
        let url = &loki.url;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            let message = format!("`{url}` is not a Loki push URL (http:// or https://)");
            findings.push(error(message, &at.key("loki").key("url")));
        }
    }
    if let Some(s3) = &tier.s3 {
        check_s3(s3, &at.key("s3"), findings);
    }
}

fn check_s3(s3: &S3Destination, at: &FieldPath, findings: &mut Vec<Diagnostic>) {
    let required = [
        ("bucket", &s3.bucket),
        ("region", &s3.region),
        ("prefix", &s3.prefix),
    ];
    for (field, value) in required {
        if value.trim().is_empty() {
            findings.push(error(format!("`{field}` is empty"), &at.key(field)));
        }
    }
    let encryption_at = at.key("encryption");
    match &s3.encryption {
        None => findings.push(error(
            "an S3 tier needs encryption settings: `encryption: {type: sse-kms, kmsKeyId: …}` or `{type: sse-s3}`",
            &encryption_at,
        )),
        Some(encryption) => {
            let key_without_kms =
                encryption.kind == EncryptionKind::SseS3 && encryption.kms_key_id.is_some();
            if key_without_kms {
                findings.push(error(
                    "`kmsKeyId` only applies to `type: sse-kms`",
                    &encryption_at.key("kmsKeyId"),
                ));
            }
        }
    }
}

fn check_routes(config: &LogRouting, with: &FieldPath, findings: &mut Vec<Diagnostic>) {
    let known: BTreeSet<&str> = config.tiers.iter().map(|t| t.name.as_str()).collect();
    let routes = with.key("routes");
    // channel → the tier that first claimed it
    let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
    for (tier, channels) in &config.routes {
        let at = routes.key(tier);
        if config.collects() && !known.contains(tier.as_str()) {
            findings.push(unknown_tier(tier, &known, &at));
        }
        for (i, channel) in channels.iter().enumerate() {
            let at = at.index(i);
            check_channel(channel, &at, findings);
            if let Some(first) = claimed.insert(channel, tier) {
                let message = if first == tier {
                    format!("channel `{channel}` is listed twice for tier `{tier}`")
                } else {
                    format!("channel `{channel}` is routed to two tiers: `{first}` and `{tier}`")
                };
                findings.push(error(message, &at));
            }
        }
    }
}

fn check_channel(channel: &str, at: &FieldPath, findings: &mut Vec<Diagnostic>) {
    if let Some(problem) = names::channel_problem(channel) {
        findings.push(error(problem, at));
    }
}

fn check_labels(config: &LogRouting, with: &FieldPath, findings: &mut Vec<Diagnostic>) {
    let labels = with.key("labels");
    if let Some(problem) = names::loki_label_problem(&config.labels.channel) {
        findings.push(error(problem, &labels.key("channel")));
    }
    if let Some(problem) = names::label_key_problem(&config.labels.pod) {
        findings.push(error(problem, &labels.key("pod")));
    }
}

fn check_lines(config: &LogRouting, with: &FieldPath, findings: &mut Vec<Diagnostic>) {
    let lines = &config.lines;
    let at = with.key("lines");
    // The field lands in a quoted JMESPath identifier or a logfmt key: keep it plain.
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if lines.field.is_empty() || !lines.field.chars().all(plain) {
        let message = format!(
            "`{}` is not a valid line field: use letters, digits, `_`, `-` and `.`",
            lines.field
        );
        findings.push(error(message, &at.key("field")));
    }
    if !lines.first_line.starts_with('^') {
        findings.push(error(
            format!(
                "`{}` must start with `^`: it matches the start of an entry's first line",
                lines.first_line
            ),
            &at.key("firstLine"),
        ));
    }
}

fn check_alloy(config: &LogRouting, with: &FieldPath, findings: &mut Vec<Diagnostic>) {
    if !config.collects() {
        return;
    }
    let alloy = &config.alloy;
    let at = with.key("alloy");
    let names = [
        ("namespace", &alloy.namespace),
        ("configMap", &alloy.config_map),
        ("daemonSet", &alloy.daemon_set),
        ("serviceAccount", &alloy.service_account),
    ];
    for (field, value) in names {
        if let Some(problem) = names::dns_subdomain_problem(value) {
            findings.push(error(problem, &at.key(field)));
        }
    }
    if alloy.image.trim().is_empty() {
        findings.push(error("the Alloy image is empty", &at.key("image")));
    }
    if alloy
        .role_arn
        .as_ref()
        .is_some_and(|role| !role.starts_with("arn:"))
    {
        findings.push(error(
            "`roleArn` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
            &at.key("roleArn"),
        ));
    }
    if !alloy.data_path().starts_with('/') {
        findings.push(error(
            "`dataPath` must be an absolute path on the node",
            &at.key("dataPath"),
        ));
    }
    if !alloy.resources.is_object() {
        findings.push(error(
            "`resources` must be a map (requests, limits)",
            &at.key("resources"),
        ));
    }
    if !alloy.tolerations.is_array() {
        findings.push(error(
            "`tolerations` must be a list",
            &at.key("tolerations"),
        ));
    }
    let writes_s3_without_role = alloy.role_arn.is_none()
        && config
            .tiers
            .iter()
            .any(|tier| tier.s3.as_ref().is_some_and(|s3| s3.role_arn.is_none()));
    if writes_s3_without_role {
        findings.push(
            Diagnostic::warning(
                "an S3 tier without `alloy.roleArn`: Alloy's service account gets no IRSA role, so uploads use whatever credentials the node has",
            )
            .at(at.key("roleArn")),
        );
    }
}

fn check_workloads(config: &LogRouting, with: &FieldPath, findings: &mut Vec<Diagnostic>) {
    let workloads = with.key("workloads");
    let mut seen = BTreeSet::new();
    for (i, workload) in config.workloads.iter().enumerate() {
        let at = workloads.index(i);
        check_workload(workload, &at, findings);
        if config.collects() {
            check_routed(config, workload, &at, findings);
        }
        let identity = (&workload.kind, &workload.namespace, &workload.name);
        if !seen.insert(identity) {
            let message = format!(
                "workload {} `{}` is declared twice",
                workload.kind, workload.name
            );
            findings.push(error(message, &at));
        }
    }
}

/// A channel no route names classifies nothing: its lines go where the pod's other
/// channels send them, or to the unclassified tier.
fn check_routed(
    config: &LogRouting,
    workload: &Workload,
    at: &FieldPath,
    findings: &mut Vec<Diagnostic>,
) {
    let routed: BTreeSet<&str> = config
        .routes
        .values()
        .flatten()
        .map(String::as_str)
        .collect();
    for (i, channel) in workload.channels.iter().enumerate() {
        if !routed.contains(channel.as_str()) {
            let message = format!(
                "no route names channel `{channel}`: its lines go to the unclassified tier `{}` unless the pod's other channels all go to one tier",
                config.unclassified_tier()
            );
            findings.push(Diagnostic::warning(message).at(at.key("channels").index(i)));
        }
    }
}

fn check_workload(workload: &Workload, at: &FieldPath, findings: &mut Vec<Diagnostic>) {
    if pod_template_path(&workload.kind).is_none() {
        let message = format!(
            "kind `{}` has no pod template this module knows (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Rollout)",
            workload.kind
        );
        findings.push(error(message, &at.key("kind")));
    }
    if workload.name.is_empty() {
        findings.push(error("the workload name is empty", &at.key("name")));
    }
    let channels_at = at.key("channels");
    if workload.channels.is_empty() {
        findings.push(error("declare at least one channel", &channels_at));
    }
    let mut seen = BTreeSet::new();
    for (i, channel) in workload.channels.iter().enumerate() {
        check_channel(channel, &channels_at.index(i), findings);
        if !seen.insert(channel) {
            let message = format!("channel `{channel}` is listed twice");
            findings.push(error(message, &channels_at.index(i)));
        }
    }
    let value = declared_channels(workload);
    if !names::is_label_value(&value) {
        let message = format!(
            "the pod label value `{value}` is not a valid Kubernetes label value: at most 63 characters for all channels together"
        );
        findings.push(error(message, &channels_at));
    }
}

/// The pod label value of a workload: its channels, sorted, joined with `.`.
pub fn declared_channels(workload: &Workload) -> String {
    let channels: BTreeSet<&str> = workload.channels.iter().map(String::as_str).collect();
    let channels: Vec<&str> = channels.into_iter().collect();
    channels.join(&CHANNEL_SEPARATOR.to_string())
}

#[cfg(test)]
mod tests {
    use argocd_wasm_sdk::testing::TestRun;
    use serde_json::{Value, json};

    use crate::LogRouting;

    /// The seed's L1/L2 table.
    fn table() -> Value {
        json!({
            "tiers": [
                {"name": "l1", "loki": {"url": "http://loki:3100/loki/api/v1/push"}},
                {"name": "l2", "s3": {"bucket": "b", "region": "eu-west-1", "prefix": "l2",
                                      "encryption": {"type": "sse-kms", "kmsKeyId": "alias/l2"}}}
            ],
            "defaultTier": "l1",
            "unclassifiedTier": "l2",
            "routes": {"l1": ["http"], "l2": ["payment", "admin_auth", "customer_pii"]},
            "alloy": {"roleArn": "arn:aws:iam::123456789012:role/alloy-role"},
            "workloads": [{"kind": "Deployment", "name": "web", "channels": ["payment", "http"]}]
        })
    }

    fn findings(config: Value) -> Vec<(String, String, bool)> {
        TestRun::new()
            .config(config)
            .validate::<LogRouting>()
            .into_iter()
            .map(|d| {
                (
                    d.field.clone().unwrap_or_default(),
                    d.message.clone(),
                    d.is_error(),
                )
            })
            .collect()
    }

    /// Asserts exactly one error, at `field`, whose message contains `words`.
    fn assert_error(config: Value, field: &str, words: &str) {
        let found = findings(config);
        let errors: Vec<_> = found.iter().filter(|(_, _, error)| *error).collect();
        assert!(
            matches!(errors.as_slice(), [(f, m, _)] if f == field && m.contains(words)),
            "expected one error at {field} mentioning {words:?}, got {found:#?}"
        );
    }

    fn with(mut config: Value, edit: impl FnOnce(&mut Value)) -> Value {
        edit(&mut config);
        config
    }

    #[test]
    fn the_seed_table_is_valid() {
        assert_eq!(findings(table()), []);
    }

    #[test]
    fn an_unknown_tier_is_an_error() {
        let default = with(table(), |t| t["defaultTier"] = json!("l9"));
        assert_error(
            default,
            "with.defaultTier",
            "unknown tier `l9` (tiers: l1, l2)",
        );
        let route = with(table(), |t| t["routes"]["l3"] = json!(["x"]));
        assert_error(route, "with.routes.l3", "unknown tier `l3`");
    }

    #[test]
    fn a_channel_in_two_tiers_is_an_error() {
        let twice = with(table(), |t| {
            t["tiers"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "l3", "loki": {"url": "http://x"}}));
            t["routes"]["l3"] = json!(["cron", "payment"]);
        });
        assert_error(
            twice,
            "with.routes.l3[1]",
            "routed to two tiers: `l2` and `l3`",
        );
        let same = with(table(), |t| {
            t["routes"]["l2"] = json!(["payment", "payment"])
        });
        assert_error(same, "with.routes.l2[1]", "listed twice for tier `l2`");
    }

    #[test]
    fn an_invalid_label_name_is_an_error() {
        for bad in ["log-channel", "1channel", "__channel", "routing_tier", ""] {
            let config = with(table(), |t| t["labels"] = json!({"channel": bad}));
            assert_error(config, "with.labels.channel", "");
        }
        let pod = with(table(), |t| t["labels"] = json!({"pod": "Not A/Key"}));
        assert_error(pod, "with.labels.pod", "not a valid Kubernetes label key");
    }

    #[test]
    fn an_s3_tier_without_encryption_is_an_error() {
        let naked = with(table(), |t| {
            t["tiers"][1]["s3"]
                .as_object_mut()
                .unwrap()
                .remove("encryption");
        });
        assert_error(
            naked,
            "with.tiers[1].s3.encryption",
            "needs encryption settings",
        );
        let key_without_kms = with(table(), |t| {
            t["tiers"][1]["s3"]["encryption"] = json!({"type": "sse-s3", "kmsKeyId": "k"});
        });
        assert_error(
            key_without_kms,
            "with.tiers[1].s3.encryption.kmsKeyId",
            "sse-kms",
        );
        let unknown_kind = with(table(), |t| {
            t["tiers"][1]["s3"]["encryption"] = json!({"type": "rot13"})
        });
        assert_error(unknown_kind, "with", "unknown variant `rot13`");
    }

    #[test]
    fn destinations_must_be_complete() {
        let empty = with(table(), |t| t["tiers"][1]["s3"]["bucket"] = json!(" "));
        assert_error(empty, "with.tiers[1].s3.bucket", "empty");
        let url = with(table(), |t| {
            t["tiers"][0]["loki"]["url"] = json!("loki:3100")
        });
        assert_error(url, "with.tiers[0].loki.url", "not a Loki push URL");
        let both = with(table(), |t| {
            t["tiers"][0]["s3"] = t["tiers"][1]["s3"].clone()
        });
        assert_error(both, "with.tiers[0]", "exactly one destination");
        let none = with(table(), |t| {
            t["tiers"][0].as_object_mut().unwrap().remove("loki");
        });
        assert_error(none, "with.tiers[0]", "exactly one destination");
    }

    #[test]
    fn tier_names_are_unique_identifiers() {
        let dash = with(table(), |t| {
            t["tiers"][0]["name"] = json!("l-1");
            t["defaultTier"] = json!("l-1");
            t["routes"].as_object_mut().unwrap().remove("l1");
        });
        assert_error(dash, "with.tiers[0].name", "not a valid name");
        let twice = with(table(), |t| t["tiers"][1]["name"] = json!("l1"));
        let found = findings(twice);
        assert!(
            found
                .iter()
                .any(|(f, m, e)| *e && f == "with.tiers[1].name" && m.contains("defined twice"))
        );
    }

    #[test]
    fn tiers_need_an_explicit_default_and_unclassified_tier() {
        for field in ["defaultTier", "unclassifiedTier"] {
            let missing = with(table(), |t| {
                t.as_object_mut().unwrap().remove(field);
            });
            assert_error(
                missing,
                &format!("with.{field}"),
                "is required with `tiers`",
            );
        }
        let unknown = with(table(), |t| t["unclassifiedTier"] = json!("quarantine"));
        assert_error(
            unknown,
            "with.unclassifiedTier",
            "unknown tier `quarantine`",
        );
    }

    #[test]
    fn an_unclassified_loki_tier_beside_an_archive_is_a_warning() {
        let leaky = with(table(), |t| t["unclassifiedTier"] = json!("l1"));
        let found = findings(leaky);
        assert!(
            matches!(found.as_slice(), [(f, m, false)] if f == "with.unclassifiedTier" && m.contains("would reach Loki")),
            "{found:?}"
        );
    }

    #[test]
    fn a_workload_app_sets_only_workloads() {
        let labels_only =
            json!({"workloads": [{"kind": "Deployment", "name": "web", "channels": ["payment"]}]});
        assert_eq!(findings(labels_only), []);
        assert_error(json!({}), "with", "nothing to do");
        let stray = json!({"routes": {"l2": ["payment"]},
                           "workloads": [{"kind": "Job", "name": "j", "channels": ["x"]}]});
        assert_error(stray, "with.routes", "only applies with `tiers`");
    }

    #[test]
    fn a_declared_channel_no_route_names_is_a_warning() {
        let unrouted = with(table(), |t| {
            t["workloads"][0]["channels"] = json!(["payment", "cron"])
        });
        let found = findings(unrouted);
        assert!(
            matches!(found.as_slice(), [(f, m, false)] if f == "with.workloads[0].channels[1]" && m.contains("unclassified tier `l2`")),
            "{found:?}"
        );
    }

    #[test]
    fn the_kit_settings_are_checked() {
        let role = with(table(), |t| t["alloy"]["roleArn"] = json!("alloy-role"));
        assert_error(role, "with.alloy.roleArn", "not an IAM role ARN");
        let path = with(table(), |t| t["alloy"]["dataPath"] = json!("var/lib/alloy"));
        assert_error(path, "with.alloy.dataPath", "absolute");
        let account = with(table(), |t| t["alloy"]["serviceAccount"] = json!("Alloy"));
        assert_error(
            account,
            "with.alloy.serviceAccount",
            "not a valid Kubernetes name",
        );
        let no_role = with(table(), |t| {
            t["alloy"].as_object_mut().unwrap().remove("roleArn");
        });
        let found = findings(no_role);
        assert!(
            matches!(found.as_slice(), [(f, m, false)] if f == "with.alloy.roleArn" && m.contains("IRSA")),
            "{found:?}"
        );
    }

    #[test]
    fn a_tier_nothing_routes_to_is_a_warning() {
        let idle = with(table(), |t| {
            t["tiers"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "l3", "loki": {"url": "http://x"}}));
        });
        let found = findings(idle);
        assert!(
            matches!(found.as_slice(), [(f, m, false)] if f == "with.tiers" && m.contains("`l3` receives no logs")),
            "{found:?}"
        );
    }

    #[test]
    fn channels_must_be_plain() {
        let route = with(table(), |t| t["routes"]["l2"] = json!(["pay|ment"]));
        assert_error(route, "with.routes.l2[0]", "not a valid channel");
        let workload = with(table(), |t| t["workloads"][0]["channels"] = json!(["a.b"]));
        assert_error(
            workload,
            "with.workloads[0].channels[0]",
            "not a valid channel",
        );
    }

    #[test]
    fn workloads_must_be_labelable() {
        let kind = with(table(), |t| t["workloads"][0]["kind"] = json!("Service"));
        assert_error(kind, "with.workloads[0].kind", "no pod template");
        let none = with(table(), |t| t["workloads"][0]["channels"] = json!([]));
        assert_error(none, "with.workloads[0].channels", "at least one channel");
        let twice = with(table(), |t| {
            t["workloads"][0]["channels"] = json!(["http", "http"])
        });
        assert_error(twice, "with.workloads[0].channels[1]", "listed twice");
        let long: Vec<String> = (0..9).map(|i| format!("channel{i}")).collect();
        let too_long = with(table(), |t| t["workloads"][0]["channels"] = json!(long));
        assert_error(
            too_long,
            "with.workloads[0].channels",
            "at most 63 characters",
        );
        let duplicate = with(table(), |t| {
            let first = t["workloads"][0].clone();
            t["workloads"].as_array_mut().unwrap().push(first);
        });
        assert_error(duplicate, "with.workloads[1]", "declared twice");
        let nameless = with(table(), |t| t["workloads"][0]["name"] = json!(""));
        assert_error(nameless, "with.workloads[0].name", "name is empty");
    }

    #[test]
    fn line_fields_and_alloy_names_are_checked() {
        let field = with(table(), |t| t["lines"] = json!({"field": "a b"}));
        assert_error(field, "with.lines.field", "not a valid line field");
        let first = with(table(), |t| t["lines"] = json!({"firstLine": "[^ ]"}));
        assert_error(first, "with.lines.firstLine", "must start with `^`");
        let namespace = with(table(), |t| t["alloy"] = json!({"namespace": "Monitoring"}));
        assert_error(
            namespace,
            "with.alloy.namespace",
            "not a valid Kubernetes name",
        );
        let config_map = with(table(), |t| {
            t["alloy"] = json!({"configMap": "alloy_config"})
        });
        assert_error(
            config_map,
            "with.alloy.configMap",
            "not a valid Kubernetes name",
        );
    }

    #[test]
    fn unknown_fields_and_snake_case_are_refused() {
        let typo = with(table(), |t| t["defaultTeir"] = json!("l1"));
        assert_error(typo, "with", "unknown field `defaultTeir`");
        let snake = with(table(), |t| t["alloy"] = json!({"config_map": "x"}));
        assert_error(snake, "with", "unknown field `config_map`");
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config: LogRouting = serde_json::from_value(table()).unwrap();
        assert_eq!(config.labels.channel, "channel");
        assert_eq!(config.labels.pod, "log-channel");
        assert_eq!(config.lines.first_line, r"^[^\s#]");
        assert_eq!(config.lines.field, "channel");
        assert_eq!(config.lines.format, crate::config::LineFormat::Json);
        assert_eq!(config.alloy.namespace, "monitoring");
        assert_eq!(config.alloy.config_map, "alloy-config");
        assert_eq!(config.alloy.daemon_set, "alloy");
        assert_eq!(config.alloy.service_account, "alloy");
        assert_eq!(config.alloy.data_path(), "/var/lib/alloy/monitoring-alloy");
    }
}
