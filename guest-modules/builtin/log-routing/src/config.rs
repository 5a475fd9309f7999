//! The step's `with:` block. Field names are camelCase; unknown fields are errors so a
//! misspelt option never silently falls back to a default.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The routing table: where each log channel goes, and what the module stamps on workloads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogRouting {
    /// The destinations. Order does not matter: the output is sorted by tier name.
    pub tiers: Vec<Tier>,
    /// The tier of every line whose channel no route names, and of lines without a channel.
    pub default_tier: String,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Destination {
    pub bucket: String,
    pub region: String,
    /// The key prefix (root directory inside the bucket).
    pub prefix: String,
    /// The IAM role Alloy assumes to write (the restricted role of the seed's L2 tier).
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

/// The label names the routing reads and writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Labels {
    /// The log label that carries a line's channel, and that routing reads.
    pub channel: String,
    /// The pod label that declares the channels a workload's pods log.
    pub pod: String,
}

impl Default for Labels {
    fn default() -> Self {
        Self {
            channel: "channel".to_owned(),
            pod: "argocd-wasm-plugin.io/log-channels".to_owned(),
        }
    }
}

/// How a line of a pod that declares channels names its own channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Lines {
    pub format: LineFormat,
    /// The key holding the channel (Monolog's JSON formatter writes `channel`).
    pub field: String,
}

impl Default for Lines {
    fn default() -> Self {
        Self {
            format: LineFormat::Json,
            field: "channel".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineFormat {
    Json,
    Logfmt,
}

/// Where Alloy runs and where its config goes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Alloy {
    pub namespace: String,
    pub config_map: String,
    /// The DaemonSet whose pods restart when the config changes.
    pub daemon_set: String,
    /// Alloy runs one pod per node (a DaemonSet), each reading only its node's pods.
    pub node_local: bool,
}

impl Default for Alloy {
    fn default() -> Self {
        Self {
            namespace: "monitoring".to_owned(),
            config_map: "alloy-config".to_owned(),
            daemon_set: "alloy".to_owned(),
            node_local: true,
        }
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
