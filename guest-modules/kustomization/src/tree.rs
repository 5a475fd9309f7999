//! The loaded kustomization tree: what the host hands `builtin:overlay` in one call.
//! Owned by the kustomize core work (issue 12).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Kustomization;

/// One kustomization (or component) directory, with every file it reads already loaded.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tree {
    /// The kustomization file, relative to the repository root, for messages.
    pub file: String,
    pub kustomization: Kustomization,
    /// `resources:` (then `bases:`) in order.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// `components:` in order.
    #[serde(default)]
    pub components: Vec<Tree>,
    /// Every other file the kustomization names (patches, generator files and envs,
    /// configurations, replacement and transformer files, crds), keyed by the path exactly as
    /// written in the kustomization.
    #[serde(default)]
    pub files: BTreeMap<String, FileData>,
}

/// One entry of `resources:`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Resource {
    /// A manifest file: its objects, in order.
    Objects { path: String, objects: Vec<Value> },
    /// A directory with a kustomization.
    Tree(Box<Tree>),
}

/// A file's content as the module needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FileData {
    /// YAML or JSON documents, parsed by the host's manifest reader.
    Documents(Vec<Value>),
    /// Text (generator files and env files).
    Text(String),
    /// Bytes that are not UTF-8, base64-encoded (a binary file in a generator).
    Base64(String),
}
