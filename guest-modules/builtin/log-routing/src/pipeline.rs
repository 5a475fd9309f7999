//! The Alloy configuration for a routing table.
//!
//! Collection follows the platform (seed section 11): the kubelet writes container output to
//! the node's disk, one Alloy pod per node reads it. Discovery lists only this node's pods
//! (a `spec.nodeName` field selector), relabelling turns each container into its log file
//! under /var/log/pods and gives every pod a routing tier, `local.file_match` expands the
//! files.
//!
//! Each tier then has a pipeline of its own: its own `loki.source.file` (own tail positions)
//! → `loki.process` (CRI format, multi-line joining, the line's own channel, keep only this
//! tier's lines) → the destination. Separate readers are what keeps the tiers independent:
//! when Loki is down only the Loki tier's reader waits, the S3 archive keeps reading.
//!
//! Routing fails closed. Discovery sets every pod's tier: the default tier for pods that
//! declare no channel; for a declared pod, the tier all its channels go to, or the
//! unclassified tier when they do not all go to one. A line moves to another tier only when
//! it names a routed channel its own pod declares. Only positive matchers are used: a LogQL
//! `!=` or `!~` also matches a missing label.

use crate::alloy::{Block, Expr, Item, render};
use crate::config::{
    Destination, EncryptionKind, LineFormat, LogRouting, LokiDestination, PARTITION_FORMAT,
    S3Destination, Tier,
};
use crate::names::pod_label_meta;

/// A line's tier while it crosses Alloy; dropped before lines leave it.
pub const TIER_LABEL: &str = "routing_tier";
/// The channels a pod declares, while lines are classified.
pub const DECLARED_LABEL: &str = "routing_channels";
/// The channel a line names, until it is known to be one its pod declares.
const LINE_LABEL: &str = "routing_line_channel";
/// Label names the channel label must not take.
pub const RESERVED_LABELS: &[&str] = &[TIER_LABEL, DECLARED_LABEL, LINE_LABEL, FILE_LABEL];
/// The label loki.source.file gives each line: the file path, one value per container
/// restart. Dropped: namespace, pod and container already say where a line comes from.
const FILE_LABEL: &str = "filename";
/// The extracted-data key a line's own channel is read into.
const LINE_CHANNEL: &str = "routing_channel";
/// The separator of the channels in a pod label value (`admin_auth.payment`).
pub const CHANNEL_SEPARATOR: char = '.';
/// The environment variable holding the node name; the DaemonSet sets it from
/// `spec.nodeName`, and discovery lists only that node's pods.
pub const NODE_ENV: &str = "NODE_NAME";
/// Where the kubelet writes container logs, and where the DaemonSet mounts them.
pub const POD_LOGS: &str = "/var/log/pods";

/// The routing table, sorted, as the config renders it.
pub struct Plan<'a> {
    config: &'a LogRouting,
    tiers: Vec<&'a Tier>,
}

impl<'a> Plan<'a> {
    /// Expects a config that passed validation and has tiers.
    pub fn new(config: &'a LogRouting) -> Self {
        let mut tiers: Vec<&Tier> = config.tiers.iter().collect();
        tiers.sort_by(|a, b| a.name.cmp(&b.name));
        Self { config, tiers }
    }

    /// The channels a route sends to this tier, sorted.
    pub fn routed_channels(&self, tier: &str) -> Vec<&'a str> {
        let mut channels: Vec<&str> = self
            .config
            .routes
            .get(tier)
            .map(|channels| channels.iter().map(String::as_str).collect())
            .unwrap_or_default();
        channels.sort_unstable();
        channels
    }

    /// Every routed channel with its tier, sorted by channel.
    fn channel_tiers(&self) -> Vec<(&'a str, &'a str)> {
        let mut pairs: Vec<(&str, &str)> = self
            .tiers
            .iter()
            .flat_map(|tier| {
                let name = tier.name.as_str();
                self.routed_channels(name)
                    .into_iter()
                    .map(move |channel| (channel, name))
            })
            .collect();
        pairs.sort_unstable();
        pairs
    }

    pub fn has_s3_tier(&self) -> bool {
        self.tiers.iter().any(|tier| tier.s3.is_some())
    }

    /// The whole `config.alloy` text.
    pub fn render(&self) -> String {
        let mut items = self.header();
        items.extend(described(
            "The pods of this node, from the Kubernetes API.",
            discovery(),
        ));
        items.extend(described(
            "Each container's log file on the node, its labels, and its pod's tier.",
            self.relabel(),
        ));
        items.extend(described(
            "The files behind the globs: one per container (restart).",
            file_match(),
        ));
        for tier in &self.tiers {
            items.extend(described(
                &format!(
                    "Tier {}: its own reader, so no other tier's outage stops it.",
                    tier.name
                ),
                source(tier),
            ));
            items.extend(described(
                &format!(
                    "Tier {}: parses and classifies every line, keeps its own.",
                    tier.name
                ),
                self.tier_process(tier),
            ));
            items.extend(destination(tier));
        }
        render(&items)
    }

    fn header(&self) -> Vec<Item> {
        let mut lines = vec![
            "Generated by argocd-wasm-plugin (builtin:log-routing) from the routing table of"
                .to_owned(),
            "wasm-pipeline.yaml. Edits here are overwritten: change the table instead.".to_owned(),
            String::new(),
            format!(
                "Each line goes to exactly one tier, by its pod's `{}` label and its channel:",
                self.config.labels.pod
            ),
        ];
        lines.extend(self.tiers.iter().map(|tier| self.tier_summary(tier)));
        lines.extend([
            format!("  pods without the label: {}", self.config.default_tier()),
            format!(
                "  other lines of declared pods whose channels are not all in one tier: {}",
                self.config.unclassified_tier()
            ),
        ]);
        if self.has_s3_tier() {
            lines.extend([
                String::new(),
                "otelcol.exporter.awss3 is an experimental Alloy component: run Alloy with"
                    .to_owned(),
                "--stability.level=experimental, or it refuses to load this file.".to_owned(),
            ]);
        }
        let mut items: Vec<Item> = lines.into_iter().map(Item::Comment).collect();
        items.push(Item::Blank);
        items
    }

    fn tier_summary(&self, tier: &Tier) -> String {
        let kind = match tier.destination() {
            Some(Destination::S3(_)) => "s3",
            _ => "loki",
        };
        let channels = self.routed_channels(&tier.name);
        let what = if channels.is_empty() {
            "no channel".to_owned()
        } else {
            channels.join(", ")
        };
        format!("  {} ({kind}): {what}", tier.name)
    }

    fn relabel(&self) -> Block {
        let copies = [
            ("__meta_kubernetes_namespace", "namespace"),
            ("__meta_kubernetes_pod_name", "pod"),
            ("__meta_kubernetes_pod_container_name", "container"),
        ];
        let declared = pod_label_meta(&self.config.labels.pod);
        let mut block = Block::component("discovery.relabel", "pods")
            .attr("targets", Expr::code("discovery.kubernetes.pods.targets"));
        for (source, target) in copies {
            block = block.block(copy_rule(&[source], None, target));
        }
        block = block
            .comment(format!(
                "The kubelet writes {POD_LOGS}/<namespace>_<pod>_<uid>/<container>/<restart>.log."
            ))
            .block(
                copy_rule(
                    &[
                        "__meta_kubernetes_pod_uid",
                        "__meta_kubernetes_pod_container_name",
                    ],
                    None,
                    "__path__",
                )
                .attr("separator", Expr::str("/"))
                .attr("replacement", Expr::str(format!("{POD_LOGS}/*$1/*.log"))),
            )
            .comment("A pod that declares a single channel logs every line in that channel.")
            .block(copy_rule(
                &[&declared],
                Some(&format!("([^{CHANNEL_SEPARATOR}]+)")),
                &self.config.labels.channel,
            ))
            .block(copy_rule(&[&declared], Some("(.+)"), DECLARED_LABEL))
            .comment("The pod's tier: undeclared pods go to the default tier, declared pods")
            .comment("to the unclassified tier unless all their channels go to one tier.")
            .block(set_rule(&[], None, TIER_LABEL, self.config.default_tier()))
            .block(set_rule(
                &[&declared],
                Some(".+"),
                TIER_LABEL,
                self.config.unclassified_tier(),
            ));
        for tier in &self.tiers {
            let channels = self.routed_channels(&tier.name);
            if !channels.is_empty() {
                let only_these = channel_list_regex(&channels);
                block = block.block(set_rule(
                    &[&declared],
                    Some(&only_these),
                    TIER_LABEL,
                    &tier.name,
                ));
            }
        }
        block
    }

    /// CRI parsing, multi-line joining, the line's own channel, and the drop of every line
    /// another tier owns.
    fn tier_process(&self, tier: &Tier) -> Block {
        let others: Vec<&str> = self
            .tiers
            .iter()
            .map(|other| other.name.as_str())
            .filter(|other| *other != tier.name)
            .collect();
        let mut block = Block::component("loki.process", &tier_label(tier))
            .attr(
                "forward_to",
                Expr::List(vec![Expr::code(entry_point(tier))]),
            )
            .comment("containerd's format: time, stream, partial flag, then the line.")
            .block(Block::inner("stage.cri"))
            .comment("A stack trace joins the line that starts it, per container stream.")
            .block(
                Block::inner("stage.multiline")
                    .attr("firstline", Expr::str(&self.config.lines.first_line)),
            )
            .block(self.line_channel());
        if !others.is_empty() {
            block = block.block(
                Block::inner("stage.match")
                    .attr("selector", Expr::str(selector(TIER_LABEL, &others)))
                    .attr("action", Expr::str("drop"))
                    .attr("drop_counter_reason", Expr::str("routed_to_another_tier")),
            );
        }
        block.block(label_drop(&[
            FILE_LABEL,
            DECLARED_LABEL,
            LINE_LABEL,
            TIER_LABEL,
        ]))
    }

    /// For lines of declared pods: reads the channel the line names and, when its pod
    /// declares that channel and a route names it, moves the line to the route's tier.
    fn line_channel(&self) -> Block {
        let lines = &self.config.lines;
        let parse = match lines.format {
            // A quoted JMESPath identifier: the field name is taken literally.
            LineFormat::Json => Block::inner("stage.json").attr(
                "expressions",
                Expr::Object(vec![(
                    LINE_CHANNEL.to_owned(),
                    Expr::str(format!("\"{}\"", lines.field)),
                )]),
            ),
            LineFormat::Logfmt => Block::inner("stage.logfmt").attr(
                "mapping",
                Expr::Object(vec![(LINE_CHANNEL.to_owned(), Expr::str(&lines.field))]),
            ),
        };
        let mut block = Block::inner("stage.match")
            .attr("selector", Expr::str(selector(DECLARED_LABEL, &[".+"])))
            .block(parse)
            .block(Block::inner("stage.labels").attr(
                "values",
                Expr::Object(vec![(LINE_LABEL.to_owned(), Expr::str(LINE_CHANNEL))]),
            ));
        for (channel, tier) in self.channel_tiers() {
            let declared_by_pod =
                format!("(.*[{CHANNEL_SEPARATOR}])?{channel}([{CHANNEL_SEPARATOR}].*)?");
            let selector = format!(
                "{{{LINE_LABEL}={}, {DECLARED_LABEL}=~{}}}",
                crate::alloy::quote(channel),
                crate::alloy::quote(&declared_by_pod)
            );
            let labels = vec![
                (self.config.labels.channel.clone(), Expr::str(channel)),
                (TIER_LABEL.to_owned(), Expr::str(tier)),
            ];
            block = block.block(
                Block::inner("stage.match")
                    .attr("selector", Expr::str(selector))
                    .block(
                        Block::inner("stage.static_labels").attr("values", Expr::Object(labels)),
                    ),
            );
        }
        block
    }
}

/// Component labels of a tier carry a prefix so that no tier name can collide with the
/// fixed labels (`pods`).
fn tier_label(tier: &Tier) -> String {
    format!("tier_{}", tier.name)
}

/// The receiver a tier's kept lines go to.
fn entry_point(tier: &Tier) -> String {
    let label = tier_label(tier);
    match tier.destination() {
        Some(Destination::S3(_)) => format!("otelcol.receiver.loki.{label}.receiver"),
        _ => format!("loki.write.{label}.receiver"),
    }
}

fn destination(tier: &Tier) -> Vec<Item> {
    match tier.destination() {
        Some(Destination::Loki(loki)) => described(
            &format!(
                "Tier {}: pushes to Loki. A full queue makes this tier's reader wait.",
                tier.name
            ),
            loki_write(tier, loki),
        ),
        Some(Destination::S3(s3)) => s3_chain(tier, s3),
        None => Vec::new(),
    }
}

fn loki_write(tier: &Tier, loki: &LokiDestination) -> Block {
    let mut endpoint = Block::inner("endpoint").attr("url", Expr::str(&loki.url));
    if let Some(tenant) = &loki.tenant_id {
        endpoint = endpoint.attr("tenant_id", Expr::str(tenant));
    }
    Block::component("loki.write", &tier_label(tier)).block(endpoint)
}

/// How long archive lines wait to share an upload: few, large S3 objects.
const ARCHIVE_FLUSH: &str = "60s";

/// Loki entries → OpenTelemetry logs → an on-disk queue → gzip objects in S3.
fn s3_chain(tier: &Tier, s3: &S3Destination) -> Vec<Item> {
    let label = tier_label(tier);
    let receiver =
        Block::component("otelcol.receiver.loki", &label).block(Block::inner("output").attr(
            "logs",
            Expr::List(vec![Expr::code(format!(
                "otelcol.exporter.awss3.{label}.input"
            ))]),
        ));
    let storage = Block::component("otelcol.storage.file", &label);
    let mut uploader = Block::inner("s3_uploader")
        .attr("region", Expr::str(&s3.region))
        .attr("s3_bucket", Expr::str(&s3.bucket))
        .attr("s3_prefix", Expr::str(&s3.prefix))
        .attr("s3_partition_format", Expr::str(PARTITION_FORMAT))
        .attr("s3_partition_timezone", Expr::str("UTC"))
        .attr("compression", Expr::str("gzip"));
    if let Some(role) = &s3.role_arn {
        uploader = uploader.attr("role_arn", Expr::str(role));
    }
    let queue = Block::inner("sending_queue")
        .attr(
            "storage",
            Expr::code(format!("otelcol.storage.file.{label}.handler")),
        )
        .attr("block_on_overflow", Expr::code("true"))
        .block(Block::inner("batch").attr("flush_timeout", Expr::str(ARCHIVE_FLUSH)));
    let exporter = Block::component("otelcol.exporter.awss3", &label)
        .block(uploader)
        .block(queue);
    let mut items = described(
        &format!(
            "Tier {}: Loki entries become OpenTelemetry logs; labels become attributes.",
            tier.name
        ),
        receiver,
    );
    items.extend(described(
        "The archive's queue on the node's disk: it survives a restarted or replaced pod.",
        storage,
    ));
    items.extend(encryption_note(s3));
    items.push(Item::Block(exporter));
    items
}

/// otelcol.exporter.awss3 has no server-side-encryption argument, so the encryption the
/// table requires is the bucket's default encryption; the config records which one.
fn encryption_note(s3: &S3Destination) -> Vec<Item> {
    let Some(encryption) = &s3.encryption else {
        return Vec::new();
    };
    let scheme = match (encryption.kind, &encryption.kms_key_id) {
        (EncryptionKind::SseKms, Some(key)) => {
            format!("SSE-KMS, key {}", crate::alloy::quote(key))
        }
        (EncryptionKind::SseKms, None) => "SSE-KMS, AWS managed key aws/s3".to_owned(),
        (EncryptionKind::SseS3, _) => "SSE-S3 (AES-256)".to_owned(),
    };
    [
        "EXPERIMENTAL component: Alloy must run with --stability.level=experimental.".to_owned(),
        format!("Encryption at rest: {scheme}, by the bucket's default encryption:"),
        "the exporter sends no encryption header, so S3 applies the bucket default.".to_owned(),
        format!("Keys: <prefix>/{PARTITION_FORMAT} (UTC)/<object>.json.gz."),
    ]
    .into_iter()
    .map(Item::Comment)
    .collect()
}

/// Only this node's pods: the API server filters them, so each Alloy pod watches its own
/// node's pods instead of every pod in the cluster.
fn discovery() -> Block {
    Block::component("discovery.kubernetes", "pods")
        .attr("role", Expr::str("pod"))
        .block(
            Block::inner("selectors")
                .attr("role", Expr::str("pod"))
                .attr(
                    "field",
                    Expr::code(format!("\"spec.nodeName=\" + sys.env(\"{NODE_ENV}\")")),
                ),
        )
}

fn file_match() -> Block {
    Block::component("local.file_match", "pods")
        .attr("path_targets", Expr::code("discovery.relabel.pods.output"))
}

fn source(tier: &Tier) -> Block {
    let label = tier_label(tier);
    Block::component("loki.source.file", &label)
        .attr("targets", Expr::code("local.file_match.pods.targets"))
        .attr(
            "forward_to",
            Expr::List(vec![Expr::code(format!("loki.process.{label}.receiver"))]),
        )
}

/// A relabel rule copying labels (or the part the regex captures) to another.
fn copy_rule(sources: &[&str], regex: Option<&str>, target: &str) -> Block {
    let mut rule = Block::inner("rule");
    if !sources.is_empty() {
        let sources = sources.iter().map(|source| Expr::str(*source)).collect();
        rule = rule.attr("source_labels", Expr::List(sources));
    }
    if let Some(regex) = regex {
        rule = rule.attr("regex", Expr::str(regex));
    }
    rule.attr("target_label", Expr::str(target))
}

/// A relabel rule setting a label to a fixed value when the regex matches the sources.
fn set_rule(sources: &[&str], regex: Option<&str>, target: &str, value: &str) -> Block {
    copy_rule(sources, regex, target).attr("replacement", Expr::str(value))
}

/// Matches a pod label value made only of these channels: `a`, `a.b`, `b.a.b`, …
fn channel_list_regex(channels: &[&str]) -> String {
    let one = format!("({})", channels.join("|"));
    format!("{one}([{CHANNEL_SEPARATOR}]{one})*")
}

fn label_drop(labels: &[&str]) -> Block {
    let labels = labels.iter().map(|label| Expr::str(*label)).collect();
    Block::inner("stage.label_drop").attr("values", Expr::List(labels))
}

/// `{label=~"a|b"}`. Only positive regex matchers: a line without the label never matches.
/// The alternatives are validated names (or `.+`), so they need no regex escaping.
fn selector(label: &str, alternatives: &[&str]) -> String {
    format!(
        "{{{label}=~{}}}",
        crate::alloy::quote(&alternatives.join("|"))
    )
}

/// A top-level component with the comment that says what it is for.
fn described(purpose: &str, block: Block) -> Vec<Item> {
    vec![Item::Comment(purpose.to_owned()), Item::Block(block)]
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn table() -> Value {
        json!({
            "tiers": [
                {"name": "l2", "s3": {"bucket": "b", "region": "eu-west-1", "prefix": "l2",
                                      "encryption": {"type": "sse-s3"}}},
                {"name": "l1", "loki": {"url": "http://loki:3100/loki/api/v1/push"}},
                {"name": "audit", "loki": {"url": "http://audit:3100/loki/api/v1/push"}}
            ],
            "defaultTier": "l1",
            "unclassifiedTier": "l2",
            "routes": {"l2": ["payment", "customer_pii"], "audit": ["admin_auth"], "l1": ["http"]}
        })
    }

    fn config(value: Value) -> LogRouting {
        serde_json::from_value(value).unwrap()
    }

    fn rendered(value: Value) -> String {
        Plan::new(&config(value)).render()
    }

    #[test]
    fn channels_are_listed_with_their_tiers() {
        let config = config(table());
        let plan = Plan::new(&config);
        assert_eq!(plan.routed_channels("l2"), ["customer_pii", "payment"]);
        assert_eq!(
            plan.channel_tiers(),
            [
                ("admin_auth", "audit"),
                ("customer_pii", "l2"),
                ("http", "l1"),
                ("payment", "l2")
            ]
        );
    }

    #[test]
    fn discovery_sets_every_pods_tier_default_first() {
        let text = rendered(table());
        let default = text.find("replacement  = \"l1\"").unwrap();
        let unclassified = text.find("replacement   = \"l2\"").unwrap();
        assert!(default < unclassified, "{text}");
        assert!(
            text.contains(
                r#"regex         = "(customer_pii|payment)([.](customer_pii|payment))*""#
            )
        );
        assert!(text.contains(r#"regex         = "(http)([.](http))*""#));
    }

    #[test]
    fn a_line_moves_only_to_a_channel_its_pod_declares() {
        let text = rendered(table());
        assert!(text.contains(
            r#"selector = "{routing_line_channel=\"payment\", routing_channels=~\"(.*[.])?payment([.].*)?\"}""#
        ), "{text}");
    }

    #[test]
    fn selectors_only_use_positive_matchers() {
        // `!=` and `!~` also match a missing label: unlabelled lines would leak into tiers.
        let text = rendered(table());
        let selectors: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("selector "))
            .collect();
        assert_eq!(selectors.len(), 3 * (1 + 4 + 1), "{selectors:#?}");
        for selector in selectors {
            assert!(
                !selector.contains("!=") && !selector.contains("!~"),
                "{selector}"
            );
        }
    }

    #[test]
    fn each_tier_reads_on_its_own_and_drops_the_lines_of_every_other_tier() {
        let text = rendered(table());
        for (tier, others) in [("audit", "l1|l2"), ("l1", "audit|l2"), ("l2", "audit|l1")] {
            assert!(text.contains(&format!("loki.source.file \"tier_{tier}\"")));
            let block = &text[text.find(&format!("loki.process \"tier_{tier}\"")).unwrap()..];
            let selector = format!(r#"selector            = "{{routing_tier=~\"{others}\"}}""#);
            assert!(block.contains(&selector), "{tier}: {block}");
        }
    }

    #[test]
    fn a_single_tier_needs_no_filter() {
        let text = rendered(json!({
            "tiers": [{"name": "only", "loki": {"url": "http://loki"}}],
            "defaultTier": "only",
            "unclassifiedTier": "only"
        }));
        assert!(!text.contains("action              = \"drop\""));
        assert!(text.contains("loki.write \"tier_only\""));
    }

    #[test]
    fn discovery_is_scoped_to_the_node() {
        let text = rendered(table());
        assert!(
            text.contains(r#"field = "spec.nodeName=" + sys.env("NODE_NAME")"#),
            "{text}"
        );
        assert!(text.contains(r#"replacement   = "/var/log/pods/*$1/*.log""#));
    }

    #[test]
    fn s3_tiers_queue_on_disk_compress_and_partition() {
        let text = rendered(table());
        assert!(text.contains("forward_to = [otelcol.receiver.loki.tier_l2.receiver]"));
        assert!(text.contains("logs = [otelcol.exporter.awss3.tier_l2.input]"));
        assert!(text.contains("storage           = otelcol.storage.file.tier_l2.handler"));
        assert!(text.contains("block_on_overflow = true"));
        assert!(text.contains("compression           = \"gzip\""));
        assert!(text.contains("s3_partition_format   = \"year=%Y/month=%m/day=%d/hour=%H\""));
        assert!(text.contains("--stability.level=experimental"));
        assert!(text.contains("Encryption at rest: SSE-S3 (AES-256)"));
        let mut loki_only = table();
        loki_only["tiers"].as_array_mut().unwrap().remove(0);
        loki_only["routes"].as_object_mut().unwrap().remove("l2");
        loki_only["unclassifiedTier"] = json!("audit");
        let text = rendered(loki_only);
        assert!(!text.contains("experimental") && !text.contains("otelcol"));
    }

    #[test]
    fn logfmt_lines_and_other_fields_are_read() {
        let mut logfmt = table();
        logfmt["lines"] = json!({"format": "logfmt", "field": "chan", "firstLine": "^\\["});
        let text = rendered(logfmt);
        assert!(text.contains("routing_channel = \"chan\""));
        assert!(text.contains(r#"firstline = "^\\[""#), "{text}");
        assert!(
            rendered(table()).contains(r#"routing_channel = "\"channel\"""#),
            "json"
        );
    }

    #[test]
    fn the_output_does_not_depend_on_the_order_of_tiers() {
        let mut reversed = table();
        reversed["tiers"].as_array_mut().unwrap().reverse();
        assert_eq!(rendered(table()), rendered(reversed));
    }

    #[test]
    fn user_values_are_quoted() {
        let mut awkward = table();
        awkward["tiers"][1]["loki"]["url"] = json!("http://x/\"}\nloki.write \"evil\" {");
        let text = rendered(awkward);
        assert!(
            text.contains(r#"url = "http://x/\"}\nloki.write \"evil\" {""#),
            "{text}"
        );
    }
}
