//! `replacements:` and the deprecated `vars:`.
//! Owned by the replacements work (issue 12); the fields follow kustomize's types.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of `replacements:`: inline, or `path:` to a file of replacements (which the
/// host loads into the tree's files).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReplacementEntry {
    Path {
        path: String,
    },
    /// Source and targets as kustomize's `Replacement`; typed by the replacements work.
    Inline(Value),
}

/// One entry of the deprecated `vars:`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Var {
    pub name: String,
    pub objref: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fieldref: Option<Value>,
}
