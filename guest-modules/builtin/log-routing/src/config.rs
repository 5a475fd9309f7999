//! The step's `with:` block. Field names are camelCase; unknown fields are errors so a
//! misspelt option never silently falls back to a default.
//!
//! One module, two halves, each in the app that owns its objects:
//! - the monitoring app sets `tiers` (and the rest of the routing table): the step emits the
//!   whole collector kit (DaemonSet, ServiceAccount, RBAC, config);
//! - a workload app sets only `workloads`: the step labels their pods, nothing else.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

/// The routing table: where each log channel goes, and what the module stamps on workloads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogRouting {
    /// The destinations. Order does not matter: the output is sorted by tier name. Empty in
    /// a workload app, which only labels pods.
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// The tier of every line of a pod that declares no channel.
    pub default_tier: Option<String>,
    /// The tier of a declared pod's line that carries no channel the pod declares, when the
    /// pod's channels do not all go to one tier: the L2 tier, or a quarantine tier.
    pub unclassified_tier: Option<String>,
    /// Tier name → the channels routed to it.
    #[serde(default)]
    pub routes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub lines: Lines,
    #[serde(default)]
    pub alloy: Alloy,
    /// Workloads whose pods declare the channels they log.
    #[serde(default)]
    pub workloads: Vec<Workload>,
}

impl LogRouting {
    /// Whether this step emits the collector kit (the monitoring app's half).
    pub fn collects(&self) -> bool {
        !self.tiers.is_empty()
    }

    /// The tier of every line of undeclared pods. Validation makes it present with tiers.
    pub fn default_tier(&self) -> &str {
        self.default_tier.as_deref().unwrap_or_default()
    }

    /// The tier of lines a declared pod does not classify. Present with tiers.
    pub fn unclassified_tier(&self) -> &str {
        self.unclassified_tier.as_deref().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tier {
    /// Also the label of the tier's Alloy components, so it must be an Alloy identifier.
    pub name: String,
    /// Exactly one of `loki` and `s3` is set.
    pub loki: Option<LokiDestination>,
    pub s3: Option<S3Destination>,
}

impl Tier {
    pub fn destination(&self) -> Option<Destination<'_>> {
        match (&self.loki, &self.s3) {
            (Some(loki), None) => Some(Destination::Loki(loki)),
            (None, Some(s3)) => Some(Destination::S3(s3)),
            _ => None,
        }
    }
}

/// Where a tier's lines go, once validation made sure there is exactly one place.
#[derive(Debug, Clone, Copy)]
pub enum Destination<'a> {
    Loki(&'a LokiDestination),
    S3(&'a S3Destination),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LokiDestination {
    /// The push endpoint, e.g. `http://loki.monitoring:3100/loki/api/v1/push`.
    pub url: String,
    /// The `X-Scope-OrgID` of a multi-tenant Loki.
    pub tenant_id: Option<String>,
}

/// The S3 key layout under the prefix: one directory per UTC hour, so lifecycle rules and
/// Athena partitions line up with the seed's retention (Glacier after 90 days, 1 year).
pub const PARTITION_FORMAT: &str = "year=%Y/month=%m/day=%d/hour=%H";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Destination {
    pub bucket: String,
    pub region: String,
    /// The key prefix (root directory inside the bucket).
    pub prefix: String,
    /// A role the exporter assumes on top of the IRSA role of Alloy's service account.
    /// Usually absent: the IRSA role (`alloy.roleArn`) is the writer.
    pub role_arn: Option<String>,
    /// Required: an archive of sensitive logs must say how it is encrypted at rest.
    pub encryption: Option<Encryption>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Encryption {
    #[serde(rename = "type")]
    pub kind: EncryptionKind,
    /// The KMS key of `sse-kms`; absent means the AWS managed key `aws/s3`.
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptionKind {
    SseKms,
    SseS3,
}

/// The default pod label key: the platform's own `log-channel` label.
pub const DEFAULT_POD_LABEL: &str = "log-channel";

/// The label names the routing reads and writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Labels {
    /// The Loki label that carries a line's channel.
    pub channel: String,
    /// The pod label that declares the channels a workload's pods log (`payment`, or
    /// `admin_auth.payment` for several). Set it to the key the platform's pods already carry.
    pub pod: String,
}

impl Default for Labels {
    fn default() -> Self {
        Self {
            channel: "channel".to_owned(),
            pod: DEFAULT_POD_LABEL.to_owned(),
        }
    }
}

/// How a line of a pod that declares channels names its own channel, and where a line
/// that continues the previous one (a stack trace) is recognised.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Lines {
    pub format: LineFormat,
    /// The top-level key holding the channel (Monolog's JSON formatter writes `channel`).
    pub field: String,
    /// An RE2 regex matching the first line of an entry; every other line continues the
    /// entry before it (stack trace frames).
    pub first_line: String,
}

/// A new entry starts with anything but whitespace or `#`: stack frames (`#0 …` in PHP,
/// `\tat …` in Java) and indented continuations join the line before them.
pub const DEFAULT_FIRST_LINE: &str = r"^[^\s#]";

impl Default for Lines {
    fn default() -> Self {
        Self {
            format: LineFormat::Json,
            field: "channel".to_owned(),
            first_line: DEFAULT_FIRST_LINE.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineFormat {
    Json,
    Logfmt,
}

/// The collector kit: where Alloy runs and what its DaemonSet looks like.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Alloy {
    pub namespace: String,
    pub config_map: String,
    pub daemon_set: String,
    pub service_account: String,
    pub image: String,
    /// The IAM role of the service account (IRSA): the role that may write the S3 tiers.
    pub role_arn: Option<String>,
    /// The node directory holding Alloy's data (tail positions, the S3 queue), so they
    /// survive a replaced pod. Defaults to `/var/lib/alloy/<namespace>-<daemonSet>`.
    pub data_path: Option<String>,
    pub resources: Value,
    pub tolerations: Value,
}

/// The Alloy release whose component reference the generated config was checked against.
pub const DEFAULT_IMAGE: &str = "grafana/alloy:v1.18.1";

impl Default for Alloy {
    fn default() -> Self {
        Self {
            namespace: "monitoring".to_owned(),
            config_map: "alloy-config".to_owned(),
            daemon_set: "alloy".to_owned(),
            service_account: "alloy".to_owned(),
            image: DEFAULT_IMAGE.to_owned(),
            role_arn: None,
            data_path: None,
            resources: json!({
                "requests": {"cpu": "100m", "memory": "256Mi"},
                "limits": {"memory": "1Gi"},
            }),
            // Every node, tainted ones included: a node without a collector loses its logs.
            tolerations: json!([{"operator": "Exists"}]),
        }
    }
}

impl Alloy {
    pub fn data_path(&self) -> String {
        self.data_path
            .clone()
            .unwrap_or_else(|| format!("/var/lib/alloy/{}-{}", self.namespace, self.daemon_set))
    }
}

/// A workload whose pods log these channels.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Workload {
    pub kind: String,
    pub name: String,
    /// When set, only the workload in this namespace matches.
    pub namespace: Option<String>,
    pub channels: Vec<String>,
}
