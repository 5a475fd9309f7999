//! `patches:`, `patchesJson6902:` and their targets.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of `patches:`. `path` or `patch` (inline YAML text) is set; in a loaded
/// [`crate::Tree`] either string is a key of the tree's files, which holds its parsed documents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<PatchOptions>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchOptions {
    #[serde(default)]
    pub allow_name_change: bool,
    #[serde(default)]
    pub allow_kind_change: bool,
}

impl Patch {
    /// The key of the patch's documents in the tree's files: its path, or its inline text.
    pub fn source(&self) -> Option<&str> {
        self.path.as_deref().or(self.patch.as_deref())
    }
}

/// One entry of `patchesJson6902:`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Json6902Patch {
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
}

impl Json6902Patch {
    /// The key of the patch's documents in the tree's files: its path, or its inline text.
    pub fn source(&self) -> Option<&str> {
        self.path.as_deref().or(self.patch.as_deref())
    }
}

/// Which objects a patch applies to. Group, version, kind, name and namespace are anchored
/// regular expressions; the selectors use Kubernetes label-selector syntax.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label_selector: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub annotation_selector: String,
}

/// One RFC 6902 operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum Operation {
    Add { path: String, value: Value },
    Remove { path: String },
    Replace { path: String, value: Value },
    Move { from: String, path: String },
    Copy { from: String, path: String },
    Test { path: String, value: Value },
}
