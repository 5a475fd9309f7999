//! Kustomization trees, built like `kustomize build`: the host reads the files (the
//! `resources:` of each level, recursively, and its patch files) and the built-in `overlay`
//! module applies each level's transforms to the objects of that level.
//!
//! The host hands the module a normalized kustomization: patches already parsed from their
//! files or inline YAML into JSON, so the module never touches a file or parses YAML.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value};

use super::Step;
use super::file::{Allow, StepSpec};
use crate::invocation::Invocation;
use crate::manifests;
use crate::paths::resolve_inside;
use crate::runtime::Runtime;

/// The file names kustomize accepts, in its order of preference.
const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Fields handed to the overlay module as they are.
const TRANSFORM_FIELDS: &[&str] = &[
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "replicas",
    "images",
];

/// Fields the host reads itself.
const HOST_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "resources",
    "bases",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
];

/// The kustomization file in `dir`, if it has one.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// Annotations the overlay module keeps between levels (an object's earlier names, kinds
/// and namespaces, under kustomize's own keys), so a patch or reference in an overlay can
/// use a base's original name. kustomize strips them when a build is done; so do we.
const INTERNAL_ANNOTATIONS: &str = "internal.config.kubernetes.io/";

/// Builds the kustomization tree rooted at `dir`.
pub fn build(
    runtime: &Runtime,
    root: &Path,
    dir: &Path,
    invocation: &Invocation,
) -> Result<Vec<Value>> {
    let mut objects = Builder {
        runtime,
        root,
        invocation,
        stack: Vec::new(),
    }
    .level(dir)?;
    objects.iter_mut().for_each(strip_internal_annotations);
    Ok(objects)
}

fn strip_internal_annotations(object: &mut Value) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    annotations.retain(|key, _| !key.starts_with(INTERNAL_ANNOTATIONS));
    if annotations.is_empty() {
        metadata.remove("annotations");
    }
}

struct Builder<'a> {
    runtime: &'a Runtime,
    root: &'a Path,
    invocation: &'a Invocation,
    /// The directories being built, outermost first, to detect cycles.
    stack: Vec<PathBuf>,
}

impl Builder<'_> {
    /// One kustomization level: its resources, then its transforms.
    fn level(&mut self, dir: &Path) -> Result<Vec<Value>> {
        let file = kustomization_file(dir)
            .with_context(|| format!("{} has no kustomization.yaml", self.display(dir)))?;
        if self.stack.iter().any(|building| building == dir) {
            let cycle: Vec<String> = self
                .stack
                .iter()
                .chain([&dir.to_path_buf()])
                .map(|d| self.display(d))
                .collect();
            bail!("the resources form a cycle: {}", cycle.join(" -> "));
        }
        let shown = self.display(&file);
        crate::paths::inside(self.root, &file)?;
        let kustomization = read_kustomization(&file).with_context(|| shown.clone())?;
        self.stack.push(dir.to_path_buf());
        let objects = self
            .resources(dir, &kustomization)
            .with_context(|| shown.clone())?;
        self.stack.pop();
        let config = self
            .overlay_config(dir, &kustomization)
            .with_context(|| shown.clone())?;
        self.transform(&shown, config, objects)
    }

    /// The objects of `resources:` (and the deprecated `bases:`), in order.
    fn resources(&mut self, dir: &Path, kustomization: &Map<String, Value>) -> Result<Vec<Value>> {
        let mut objects = Vec::new();
        for field in ["resources", "bases"] {
            for (index, entry) in string_list(kustomization, field)?.into_iter().enumerate() {
                let loaded = self
                    .resource(dir, &entry)
                    .with_context(|| format!("{field}[{index}] `{entry}`"))?;
                objects.extend(loaded);
            }
        }
        Ok(objects)
    }

    fn resource(&mut self, dir: &Path, entry: &str) -> Result<Vec<Value>> {
        if entry.contains("://") || entry.starts_with("github.com/") || entry.starts_with("git@") {
            bail!("remote resources are not supported: vendor them into the repository");
        }
        let path = resolve_inside(self.root, dir, entry)?;
        if path.is_dir() {
            return self.level(&path);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        manifests::parse_stream(&text, &self.display(&path))
    }

    /// The level's transform fields, with patches read and parsed.
    fn overlay_config(&self, dir: &Path, kustomization: &Map<String, Value>) -> Result<Value> {
        let mut config = Map::new();
        for field in TRANSFORM_FIELDS {
            if let Some(value) = kustomization.get(*field) {
                config.insert(field.to_string(), value.clone());
            }
        }
        let strategic = self.strategic_merge_patches(dir, kustomization)?;
        let patches = self.patches(dir, kustomization, "patches")?;
        let json6902 = self.patches(dir, kustomization, "patchesJson6902")?;
        for (field, list) in [
            ("patchesStrategicMerge", strategic),
            ("patches", patches),
            ("patchesJson6902", json6902),
        ] {
            if !list.is_empty() {
                config.insert(field.into(), Value::Array(list));
            }
        }
        Ok(Value::Object(config))
    }

    /// `patchesStrategicMerge:` entries are file paths or inline YAML; each document of
    /// either becomes one patch.
    fn strategic_merge_patches(
        &self,
        dir: &Path,
        kustomization: &Map<String, Value>,
    ) -> Result<Vec<Value>> {
        let mut patches = Vec::new();
        for (index, entry) in string_list(kustomization, "patchesStrategicMerge")?
            .into_iter()
            .enumerate()
        {
            let documents = self
                .patch_documents(dir, &entry)
                .with_context(|| format!("patchesStrategicMerge[{index}]"))?;
            patches.extend(documents);
        }
        Ok(patches)
    }

    /// `patches:` and `patchesJson6902:` entries: `path:` or `patch:` plus `target:` and
    /// `options:`. A mapping document is a strategic merge patch, a list is JSON 6902.
    fn patches(
        &self,
        dir: &Path,
        kustomization: &Map<String, Value>,
        field: &str,
    ) -> Result<Vec<Value>> {
        let Some(entries) = kustomization.get(field) else {
            return Ok(Vec::new());
        };
        let entries = entries
            .as_array()
            .with_context(|| format!("`{field}` must be a list"))?;
        let mut normalized = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let documents = self
                .patch_entry(dir, entry)
                .with_context(|| format!("{field}[{index}]"))?;
            for document in documents {
                let mut patch = entry.as_object().cloned().unwrap_or_default();
                patch.remove("path");
                patch.insert("patch".into(), document);
                normalized.push(Value::Object(patch));
            }
        }
        Ok(normalized)
    }

    fn patch_entry(&self, dir: &Path, entry: &Value) -> Result<Vec<Value>> {
        match (
            entry.get("path").and_then(Value::as_str),
            entry.get("patch").and_then(Value::as_str),
        ) {
            (Some(path), None) => self.patch_file(dir, path),
            (None, Some(inline)) => parse_patch(inline),
            _ => bail!("needs exactly one of `path` or `patch`"),
        }
    }

    /// A strategic-merge entry is a file if one exists at that path, else inline YAML, as
    /// kustomize decides.
    fn patch_documents(&self, dir: &Path, entry: &str) -> Result<Vec<Value>> {
        if !entry.contains('\n') && dir.join(entry).exists() {
            return self.patch_file(dir, entry);
        }
        parse_patch(entry)
    }

    fn patch_file(&self, dir: &Path, relative: &str) -> Result<Vec<Value>> {
        let path = resolve_inside(self.root, dir, relative)?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        parse_patch(&text).with_context(|| format!("patch file `{relative}`"))
    }

    /// Runs the overlay module on one level's objects.
    fn transform(&self, file: &str, config: Value, objects: Vec<Value>) -> Result<Vec<Value>> {
        let spec = StepSpec {
            name: Some(format!("kustomize {file}")),
            module: "builtin:overlay".into(),
            sha256: None,
            with: Some(config),
            selector: Default::default(),
            allow: Allow::everything(),
        };
        let step = Step::prepare(
            self.runtime,
            self.root,
            self.root,
            0,
            &spec,
            self.invocation,
        )?;
        step.run(self.runtime, self.invocation, objects)
            .with_context(|| step.label())
    }

    /// A path as messages show it: relative to the repository.
    fn display(&self, path: &Path) -> String {
        path.strip_prefix(self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// Reads a kustomization file and refuses any field argocd-wasm-plugin does not implement,
/// rather than silently ignoring it.
fn read_kustomization(path: &Path) -> Result<Map<String, Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let value: Value = crate::yaml::from_str(&text, &name)?;
    let Value::Object(fields) = value else {
        bail!("a kustomization must be a mapping");
    };
    for field in fields.keys() {
        if !TRANSFORM_FIELDS.contains(&field.as_str()) && !HOST_FIELDS.contains(&field.as_str()) {
            let mut supported: Vec<&str> = TRANSFORM_FIELDS
                .iter()
                .chain(HOST_FIELDS)
                .copied()
                .collect();
            supported.sort_unstable();
            bail!(
                "the field `{field}` is not supported by argocd-wasm-plugin; supported fields: {}",
                supported.join(", ")
            );
        }
    }
    Ok(fields)
}

/// A list of strings, or an empty list when the field is absent.
fn string_list(fields: &Map<String, Value>, field: &str) -> Result<Vec<String>> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("`{field}` must list strings"))
            })
            .collect(),
        Some(_) => bail!("`{field}` must be a list"),
    }
}

/// Parses patch text (YAML or JSON): each mapping document is a strategic merge patch; a
/// list document is one JSON 6902 operation list.
fn parse_patch(text: &str) -> Result<Vec<Value>> {
    let mut documents = Vec::new();
    for document in crate::yaml::parse_documents(text, "patch")? {
        match document {
            Value::Null => {}
            value @ (Value::Object(_) | Value::Array(_)) => documents.push(value),
            _ => bail!("a patch must be a mapping (strategic merge) or a list (JSON 6902)"),
        }
    }
    if documents.is_empty() {
        bail!("the patch is empty");
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_parse_as_strategic_merge_or_json6902() {
        let docs = parse_patch(
            "kind: Deployment\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {name: b}\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        let ops = parse_patch("- op: replace\n  path: /spec/replicas\n  value: 3\n").unwrap();
        assert_eq!(
            ops,
            vec![json!([{"op": "replace", "path": "/spec/replicas", "value": 3}])]
        );
        assert!(parse_patch("").is_err());
        assert!(parse_patch("just a string").is_err());
    }

    #[test]
    fn internal_annotations_are_stripped_and_empty_maps_removed() {
        let mut renamed = json!({"metadata": {"name": "p-a", "annotations": {
            "internal.config.kubernetes.io/previousNames": "a", "keep": "me"}}});
        strip_internal_annotations(&mut renamed);
        assert_eq!(
            renamed,
            json!({"metadata": {"name": "p-a", "annotations": {"keep": "me"}}})
        );
        let mut only_internal = json!({"metadata": {"name": "p-a", "annotations": {
            "internal.config.kubernetes.io/previousNames": "a"}}});
        strip_internal_annotations(&mut only_internal);
        assert_eq!(only_internal, json!({"metadata": {"name": "p-a"}}));
    }

    #[test]
    fn unsupported_fields_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kustomization.yaml");
        std::fs::write(&path, "resources: []\nconfigMapGenerator: []\n").unwrap();
        let error = read_kustomization(&path).unwrap_err().to_string();
        assert!(
            error.starts_with("the field `configMapGenerator` is not supported"),
            "{error}"
        );
    }
}
