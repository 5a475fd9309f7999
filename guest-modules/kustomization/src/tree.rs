//! The loaded kustomization tree: what the host hands `builtin:overlay` in one call.
//! Owned by the kustomize core work (issue 12).
//!
//! The host reads every file a kustomization names (each path checked against the repository
//! root and the load restrictor) and parses the YAML ones; the module never touches a file and
//! never parses YAML.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Kustomization;

/// One kustomization (or component) directory, with every file it reads already loaded.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tree {
    /// The kustomization file, relative to the repository root, for messages.
    pub file: String,
    pub kustomization: Kustomization,
    /// `resources:` (then `bases:`) in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// `components:` in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Tree>,
    /// `generators:` entries: builtin generator configs, in the order written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generators: Vec<Resource>,
    /// `transformers:` entries: builtin transformer configs, in the order written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transformers: Vec<Resource>,
    /// `validators:` entries, in the order written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validators: Vec<Resource>,
    /// Every other file the kustomization (or one of its builtin plugin configs) names:
    /// patches, generator files and envs, configurations, replacement files, crds, openapi.
    /// Keyed by the string exactly as written there: a path (`files: [key=a.txt]` gives
    /// `a.txt`), or for inline YAML (`patches[].patch`, an inline `patchesStrategicMerge`
    /// entry) the inline text itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, FileData>,
}

/// One entry of `resources:`, `generators:`, `transformers:` or `validators:`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Resource {
    /// A manifest file: its documents, in order (null documents dropped).
    Objects { path: String, objects: Documents },
    /// A directory with a kustomization.
    Tree(Box<Tree>),
    /// Inline YAML in a `generators:`, `transformers:` or `validators:` entry; kustomize
    /// reads these before the entries that are paths.
    Inline(Vec<Value>),
}

/// A manifest file's documents: the values, or their JSON text. The host reads every
/// manifest file into JSON text and keeps it for the next render that reads the same file
/// text (see its `yaml::remember`), so a tree it sends holds the text, shared, and never
/// copies or parses it again; the module receives values.
#[derive(Debug, Clone)]
pub enum Documents {
    Values(Vec<Value>),
    /// A JSON array of the documents.
    Json(Arc<RawValue>),
}

impl Documents {
    /// The documents as values: moved out, or parsed from their JSON text.
    pub fn into_values(self) -> Result<Vec<Value>, String> {
        match self {
            Documents::Values(values) => Ok(values),
            Documents::Json(json) => Self::parse(&json),
        }
    }

    /// A copy of the documents as values.
    pub fn to_values(&self) -> Result<Vec<Value>, String> {
        match self {
            Documents::Values(values) => Ok(values.clone()),
            Documents::Json(json) => Self::parse(json),
        }
    }

    fn parse(json: &RawValue) -> Result<Vec<Value>, String> {
        serde_json::from_str(json.get()).map_err(|error| format!("invalid documents: {error}"))
    }
}

impl Default for Documents {
    fn default() -> Self {
        Documents::Values(Vec::new())
    }
}

impl From<Vec<Value>> for Documents {
    fn from(values: Vec<Value>) -> Self {
        Documents::Values(values)
    }
}

/// Either form is written as the same JSON array.
impl Serialize for Documents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Documents::Values(values) => values.serialize(serializer),
            Documents::Json(json) => json.serialize(serializer),
        }
    }
}

/// Always read as values: the text form only ever leaves the host.
impl<'de> Deserialize<'de> for Documents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::deserialize(deserializer).map(Documents::Values)
    }
}

/// A file's content as the module needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FileData {
    /// YAML or JSON documents, parsed by the host's manifest reader (null documents dropped).
    Documents(Vec<Value>),
    /// Text (generator files and env files).
    Text(String),
    /// Bytes that are not UTF-8, base64-encoded (a binary file in a generator).
    Base64(String),
}

impl FileData {
    /// A file read as bytes: text when it is UTF-8, else base64.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => FileData::Text(text),
            Err(binary) => FileData::Base64(crate::base64::encode(binary.as_bytes())),
        }
    }
}

impl Tree {
    /// The file (or inline text) the kustomization names as `key`.
    pub fn file(&self, key: &str) -> Option<&FileData> {
        self.files.get(key)
    }

    /// The parsed documents of the file or inline YAML named `key`.
    pub fn documents(&self, key: &str) -> Result<&[Value], String> {
        match self.files.get(key) {
            Some(FileData::Documents(documents)) => Ok(documents),
            Some(_) => Err(format!("`{key}` was not loaded as YAML")),
            None => Err(format!("`{key}` was not loaded")),
        }
    }

    /// The directory of the kustomization file, relative to the repository root.
    pub fn dir(&self) -> &str {
        self.file.rsplit_once('/').map_or("", |(dir, _)| dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn files_are_found_by_the_string_written() {
        let mut tree = Tree {
            file: "apps/web/kustomization.yaml".into(),
            ..Tree::default()
        };
        tree.files.insert(
            "patch.yaml".into(),
            FileData::Documents(vec![json!({"kind": "Deployment"})]),
        );
        tree.files
            .insert("app.env".into(), FileData::Text("A=1\n".into()));
        assert_eq!(tree.documents("patch.yaml").unwrap().len(), 1);
        assert!(
            tree.documents("app.env")
                .unwrap_err()
                .contains("not loaded as YAML")
        );
        assert!(tree.documents("other").unwrap_err().contains("not loaded"));
        assert_eq!(tree.file("app.env"), Some(&FileData::Text("A=1\n".into())));
        assert_eq!(tree.dir(), "apps/web");
    }

    #[test]
    fn a_tree_round_trips_through_json() {
        let tree = Tree {
            file: "kustomization.yaml".into(),
            resources: vec![Resource::Objects {
                path: "a.yaml".into(),
                objects: vec![json!({"kind": "ConfigMap"})].into(),
            }],
            transformers: vec![Resource::Inline(vec![json!({"kind": "X"})])],
            ..Tree::default()
        };
        let text = serde_json::to_string(&tree).unwrap();
        // The host's form, JSON text, is written the same and read back as values.
        let mut as_json = tree.clone();
        as_json.resources[0] = Resource::Objects {
            path: "a.yaml".into(),
            objects: Documents::Json(serde_json::from_str(r#"[{"kind":"ConfigMap"}]"#).unwrap()),
        };
        assert_eq!(serde_json::to_string(&as_json).unwrap(), text);
        let back: Tree = serde_json::from_str(&text).unwrap();
        assert!(matches!(&back.resources[0], Resource::Objects { path, .. } if path == "a.yaml"));
        assert!(matches!(&back.transformers[0], Resource::Inline(docs) if docs.len() == 1));
    }
}
