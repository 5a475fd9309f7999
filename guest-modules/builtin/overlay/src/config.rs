//! The step's `with:` config: one kustomization level's transform fields, which the host has
//! already read and normalized (patch files parsed, multi-document patches split).

use std::collections::BTreeMap;

use kustomize_images::ImageSpec;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Label and annotation values must be strings, as in kustomize (which rejects `version: 1`).
pub type StringMap = BTreeMap<String, String>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name_prefix: String,
    #[serde(default)]
    pub name_suffix: String,
    #[serde(default)]
    pub common_labels: StringMap,
    #[serde(default)]
    pub labels: Vec<LabelSet>,
    #[serde(default)]
    pub common_annotations: StringMap,
    #[serde(default)]
    pub replicas: Vec<Replica>,
    #[serde(default)]
    pub images: Vec<ImageSpec>,
    #[serde(default)]
    pub patches_strategic_merge: Vec<Map<String, Value>>,
    #[serde(default)]
    pub patches: Vec<Patch>,
    #[serde(default)]
    pub patches_json6902: Vec<Json6902Patch>,
}

/// One entry of `labels:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSet {
    #[serde(default)]
    pub pairs: StringMap,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
}

/// One entry of `replicas:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    pub name: String,
    pub count: i64,
}

/// One entry of `patches:`: a strategic-merge patch (an object) or a JSON 6902 op list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    pub patch: PatchBody,
    #[serde(default)]
    pub target: Option<Target>,
    #[serde(default)]
    pub options: PatchOptions,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PatchBody {
    Json6902(Vec<Operation>),
    Strategic(Map<String, Value>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchOptions {
    #[serde(default)]
    pub allow_name_change: bool,
    #[serde(default)]
    pub allow_kind_change: bool,
}

/// One entry of `patchesJson6902:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Json6902Patch {
    pub target: Target,
    pub patch: Vec<Operation>,
}

/// Which objects a patch applies to. Group, version, kind, name and namespace are anchored
/// regular expressions; the selectors use Kubernetes label-selector syntax.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub label_selector: String,
    #[serde(default)]
    pub annotation_selector: String,
}

/// One RFC 6902 operation.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum Operation {
    Add { path: String, value: Value },
    Remove { path: String },
    Replace { path: String, value: Value },
    Move { from: String, path: String },
    Copy { from: String, path: String },
    Test { path: String, value: Value },
}
