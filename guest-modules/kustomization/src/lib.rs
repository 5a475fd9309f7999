//! The kustomization file (kustomize v5.5's `Kustomization` and `Component`) as one typed
//! Rust type, and the loaded tree that the host hands `builtin:overlay`.
//!
//! The host reads files (every path checked against the repository root) and builds a
//! [`Tree`]; the module computes (generators, hashes, merges, replacements, transforms).
//! Every field kustomize builds locally is listed here once; `deny_unknown_fields` makes any
//! other field an error that names it.

pub mod base64;
pub mod generators;
pub mod patches;
pub mod replacements;
pub mod tree;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use generators::{GeneratorArgs, GeneratorOptions};
pub use patches::{Json6902Patch, Operation, Patch, PatchOptions, Target};
pub use replacements::{ReplacementEntry, Var};
pub use tree::{Documents, FileData, Resource, Tree};

/// Label and annotation values must be strings, as in kustomize (which rejects `version: 1`).
pub type StringMap = BTreeMap<String, String>;

/// One kustomization file, as written (paths not yet resolved).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Kustomization {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `Kustomization` (default) or `Component`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,

    // Resources, in kustomize's accumulation order.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub bases: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub components: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub crds: Vec<String>,
    /// `path:` of an OpenAPI schema file (loaded into the tree's files), or `version:`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub openapi: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub configurations: Vec<String>,

    // Generators.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub config_map_generator: Vec<GeneratorArgs>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub secret_generator: Vec<GeneratorArgs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_options: Option<GeneratorOptions>,
    /// Paths or inline YAML of builtin generator configs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub generators: Vec<String>,

    // Transforms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_suffix: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub common_labels: StringMap,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub labels: Vec<LabelSet>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub common_annotations: StringMap,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub replicas: Vec<Replica>,
    /// kustomize `images` entries; `builtin:overlay` parses them with `kustomize-images`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub images: Vec<Value>,
    /// Deprecated spelling of `images`, appended to it as kustomize does.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub image_tags: Vec<Value>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub patches: Vec<Patch>,
    /// File paths or inline YAML.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub patches_strategic_merge: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub patches_json6902: Vec<Json6902Patch>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub replacements: Vec<ReplacementEntry>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub vars: Vec<Var>,
    /// Paths or inline YAML of builtin transformer configs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub transformers: Vec<String>,
    /// Paths or inline YAML of validators (kustomize runs them after transformers).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub validators: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_options: Option<SortOptions>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub build_metadata: Vec<String>,

    /// Refused by the host with a message naming the file and field (needs Helm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_charts: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_globals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_chart_inflation_generator: Option<Value>,
}

impl Kustomization {
    /// `kind: Component`.
    pub fn is_component(&self) -> bool {
        self.kind.as_deref() == Some(COMPONENT_KIND)
    }
}

/// The kind of a kustomization that other kustomizations list under `components:`.
pub const COMPONENT_KIND: &str = "Component";

/// `sortOptions:`: `legacy` (kustomize's default: by kind, then id) or `fifo` (as loaded).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SortOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_sort_options: Option<LegacySortOptions>,
}

/// The kinds the legacy order puts first and last.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LegacySortOptions {
    #[serde(default, deserialize_with = "nullable")]
    pub order_first: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub order_last: Vec<String>,
}

/// One entry of `labels:`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSet {
    #[serde(default, deserialize_with = "nullable")]
    pub pairs: StringMap,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    /// Extra field specs the labels go to (`labels[].fields`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub fields: Vec<Value>,
}

/// One entry of `replicas:`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    pub name: String,
    pub count: i64,
}

/// kustomize treats an empty list or map field (`patches:` with every entry commented out)
/// as absent.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
