//! `configMapGenerator`, `secretGenerator` and `generatorOptions`.
//! Owned by the generators work (issue 12); the fields follow kustomize's `GeneratorArgs`.

use serde::{Deserialize, Serialize};

use crate::{StringMap, nullable};

/// One entry of `configMapGenerator:` or `secretGenerator:`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratorArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `create` (default), `merge` or `replace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<String>,
    /// Secrets only: the Secret's `type`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub literals: Vec<String>,
    /// `[key=]path` entries; the host loads each path into the tree's files.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub files: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub envs: Vec<String>,
    /// Deprecated singular form of `envs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<GeneratorOptions>,
}

/// `generatorOptions:` and a generator's own `options:`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratorOptions {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "StringMap::is_empty"
    )]
    pub labels: StringMap,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "StringMap::is_empty"
    )]
    pub annotations: StringMap,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_name_suffix_hash: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}
