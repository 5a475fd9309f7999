//! Reading manifests from a directory and writing the rendered stream.
//!
//! YAML is parsed once, by [`crate::yaml`]; from then on objects are JSON values, and modules
//! get JSON text. Field order is kept as written, so output diffs stay readable.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::yaml;

/// The pipeline file's name; never read as a manifest.
pub const PIPELINE_FILE: &str = "wasm-pipeline.yaml";

/// Loads every `*.yaml`, `*.yml` and `*.json` file directly in `dir` as a multi-document
/// stream, in byte order of file names. Empty documents are skipped and `*List` kinds
/// flattened, as Argo CD does. A file that resolves (through symlinks) outside `root` is
/// refused.
pub fn load_dir(root: &Path, dir: &Path) -> Result<Vec<Value>> {
    let mut objects = Vec::new();
    for path in manifest_files(root, dir)? {
        objects.extend(load_file(&path)?);
    }
    Ok(objects)
}

/// Loads a manifest file, or every manifest file directly in a directory (see [`load_dir`]),
/// wherever symlinks lead: a local path given on the command line.
pub fn load_path(path: &Path) -> Result<Vec<Value>> {
    if path.is_dir() {
        load_dir(Path::new("/"), path)
    } else {
        load_file(path)
    }
}

/// Loads one file as a multi-document stream.
pub fn load_file(path: &Path) -> Result<Vec<Value>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_stream(&text, &path.display().to_string())
}

fn manifest_files(root: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let entries =
        fs::read_dir(dir).with_context(|| format!("cannot read directory {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let is_manifest = [".yaml", ".yml", ".json"]
            .iter()
            .any(|extension| name.ends_with(extension));
        if is_manifest && !name.starts_with('.') && name != PIPELINE_FILE && path.is_file() {
            crate::paths::inside(root, &path)?;
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Parses a YAML (or JSON) stream into objects; `origin` (a file name) starts every error.
pub fn parse_stream(text: &str, origin: &str) -> Result<Vec<Value>> {
    let mut objects = Vec::new();
    for (index, value) in yaml::parse_documents(text, origin)?.into_iter().enumerate() {
        flatten_into(value, &mut objects)
            .with_context(|| format!("{origin}: document {}", index + 1))?;
    }
    Ok(objects)
}

fn flatten_into(value: Value, objects: &mut Vec<Value>) -> Result<()> {
    match value {
        Value::Null => Ok(()),
        Value::Object(ref map) => {
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
            if kind.is_empty() {
                bail!("not a Kubernetes object: it has no `kind`");
            }
            if kind.ends_with("List")
                && let Some(Value::Array(items)) = map.get("items")
            {
                for item in items.clone() {
                    flatten_into(item, objects)?;
                }
                return Ok(());
            }
            objects.push(value);
            Ok(())
        }
        _ => bail!("not a Kubernetes object: expected a mapping"),
    }
}

/// How the rendered stream is written.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A YAML stream, documents separated by `---`.
    Yaml,
    /// One JSON object per line.
    Json,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        })
    }
}

/// Serializes objects as a stream. The whole text is built before anything is written, so
/// a failure never leaves half a stream on stdout.
pub fn to_stream(objects: &[Value], format: Format) -> Result<String> {
    if format == Format::Yaml {
        return Ok(yaml::to_stream(objects));
    }
    let mut out = String::new();
    for object in objects {
        out.push_str(&serde_json::to_string(object)?);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn skips_empty_documents_and_flattens_lists() {
        let text = "---\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMapList, items: [{apiVersion: v1, kind: Secret, metadata: {name: b}}]}\n---\n# only a comment\n";
        let objects = parse_stream(text, "a.yaml").unwrap();
        let kinds: Vec<&str> = objects
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["ConfigMap", "Secret"]);
    }

    #[test]
    fn names_the_document_that_is_not_an_object() {
        let error = parse_stream("kind: A\n---\n- 1\n", "a.yaml").unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            "a.yaml: document 2: not a Kubernetes object: expected a mapping"
        );
        let error = parse_stream("metadata: {name: x}\n", "a.yaml").unwrap_err();
        assert!(format!("{error:#}").contains("no `kind`"));
    }

    #[test]
    fn writes_yaml_and_json_streams_keeping_field_order() {
        let objects = vec![json!({"kind": "A", "apiVersion": "v1", "metadata": {"name": "a"}})];
        assert_eq!(
            to_stream(&objects, Format::Yaml).unwrap(),
            "---\nkind: A\napiVersion: v1\nmetadata:\n  name: a\n"
        );
        assert_eq!(
            to_stream(&objects, Format::Json).unwrap(),
            "{\"kind\":\"A\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\"}}\n"
        );
    }
}
