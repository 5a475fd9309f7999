//! The `openapi:` field: which OpenAPI schema gives strategic-merge patches their list merge
//! keys, as kustomize v5.5.0 (kyaml/openapi `SetSchema`) chooses it:
//! - the schema is one setting for the whole build: the top kustomization's `openapi` if it
//!   has one, else the first kustomization or component that has one, in the order kustomize
//!   loads them (resources depth-first, then components);
//! - `version:` names a built-in Kubernetes schema; kustomize v5.5.0 has only v1.21.2, its
//!   default, so the built-in merge keys apply;
//! - `path:` names an OpenAPI v2 document (JSON or YAML) that REPLACES the built-in schema:
//!   lists merge by the keys the document declares (`x-kubernetes-patch-strategy: merge` with
//!   `x-kubernetes-list-map-keys` or `x-kubernetes-patch-merge-key`), for custom resources and
//!   built-in kinds alike; a kind or field it does not describe has its lists replaced.
//!
//! Divergence kept: kustomize sets the schema when it loads the declaring kustomization, so
//! patches applied earlier in a sibling base still use the built-in schema; here the chosen
//! schema applies to the whole build.

use std::collections::HashMap;

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use kustomization::{Resource as Entry, Tree};
use serde_json::Value;

use crate::build::at;
use crate::smp::ListMerge;

/// kyaml v0.18.1 (kustomize v5.5.0) builds in this one Kubernetes schema version.
const BUILT_IN_VERSIONS: &[&str] = &["v1.21.2"];

/// The schema strategic-merge patches use.
#[derive(Debug, Default)]
pub enum OpenApi {
    /// kustomize's built-in Kubernetes schema.
    #[default]
    BuiltIn,
    Custom(CustomSchema),
}

/// The schema the build uses: see the module comment.
pub fn choose(tree: &Tree) -> Result<OpenApi> {
    match declaring(tree) {
        Some(tree) => from_field(tree),
        None => Ok(OpenApi::BuiltIn),
    }
}

/// The first kustomization, in kustomize's load order, whose `openapi` sets a schema.
fn declaring(tree: &Tree) -> Option<&Tree> {
    let field = &tree.kustomization.openapi;
    let sets = field.contains_key("path") || field.get("version").is_some_and(|v| !v.is_empty());
    if sets {
        return Some(tree);
    }
    let bases = tree.resources.iter().filter_map(|entry| match entry {
        Entry::Tree(base) => Some(base.as_ref()),
        _ => None,
    });
    bases.chain(&tree.components).find_map(declaring)
}

fn from_field(tree: &Tree) -> Result<OpenApi> {
    let field = &tree.kustomization.openapi;
    let error = |problem: String| Diagnostic::error(problem).at(at(tree, "openapi"));
    match (field.get("path"), field.get("version")) {
        (Some(_), Some(_)) => Err(error(
            "builtin version and custom schema provided, cannot use both".to_owned(),
        )),
        (Some(path), None) => {
            let documents = tree.documents(path).map_err(error)?;
            match documents {
                [document] => Ok(OpenApi::Custom(CustomSchema::new(document))),
                _ => Err(error(format!(
                    "the OpenAPI schema `{path}` must be one JSON or YAML document, not {}",
                    documents.len()
                ))),
            }
        }
        (None, Some(version)) if BUILT_IN_VERSIONS.contains(&version.as_str()) => {
            Ok(OpenApi::BuiltIn)
        }
        (None, version) => Err(error(format!(
            "the specified OpenAPI version `{}` is not built in (kustomize v5.5.0 has {})",
            version.map(String::as_str).unwrap_or_default(),
            BUILT_IN_VERSIONS.join(", ")
        ))),
    }
}

/// The `definitions` of a custom OpenAPI v2 document, indexed by the kinds they describe.
#[derive(Debug, Default)]
pub struct CustomSchema {
    definitions: serde_json::Map<String, Value>,
    /// (apiVersion, kind) → definition name, from `x-kubernetes-group-version-kind`.
    kinds: HashMap<(String, String), String>,
}

impl CustomSchema {
    pub fn new(document: &Value) -> Self {
        let definitions = document
            .get("definitions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut kinds = HashMap::new();
        for (name, definition) in &definitions {
            let gvks = definition.get("x-kubernetes-group-version-kind");
            for gvk in gvks.and_then(Value::as_array).into_iter().flatten() {
                let text = |key: &str| gvk.get(key).and_then(Value::as_str).unwrap_or_default();
                let api_version = match text("group") {
                    "" => text("version").to_owned(),
                    group => format!("{group}/{}", text("version")),
                };
                kinds.insert((api_version, text("kind").to_owned()), name.clone());
            }
        }
        Self { definitions, kinds }
    }

    /// The definition of objects of this apiVersion and kind, if the document has one.
    pub fn definition(&self, api_version: &str, kind: &str) -> Option<&Value> {
        let name = self.kinds.get(&(api_version.to_owned(), kind.to_owned()))?;
        self.definitions.get(name)
    }

    /// How the list at `path` (field names, no indexes) of an object described by `root`
    /// merges: kyaml's `Lookup` then `PatchStrategyAndKeyList`.
    pub fn list<'s>(&'s self, root: &'s Value, path: &[&str]) -> ListMerge<'s> {
        let mut node = self.resolve(root);
        for name in path {
            let Some(field) = self.field(node, name) else {
                return ListMerge::Replace;
            };
            node = field;
        }
        let extension = |key: &str| node.get(key);
        let strategy = extension("x-kubernetes-patch-strategy").and_then(Value::as_str);
        if !strategy.is_some_and(|s| s.split(',').any(|s| s == "merge")) {
            return ListMerge::Replace;
        }
        let keys: Vec<&str> = match extension("x-kubernetes-list-map-keys") {
            Some(Value::Array(keys)) => keys.iter().filter_map(Value::as_str).collect(),
            _ => extension("x-kubernetes-patch-merge-key")
                .and_then(Value::as_str)
                .into_iter()
                .collect(),
        };
        match keys.is_empty() {
            true => ListMerge::Set,
            false => ListMerge::Keys(keys),
        }
    }

    /// kyaml's `Field`, stepping through a list's items first as its walker does: a
    /// property, else the schema of a map's values; references resolved.
    fn field<'s>(&'s self, node: &'s Value, name: &str) -> Option<&'s Value> {
        let node = match node.get("type").and_then(Value::as_str) {
            Some("array") => self.resolve(node.get("items")?),
            _ => node,
        };
        let field = node
            .get("properties")
            .and_then(|properties| properties.get(name))
            .or_else(|| node.get("additionalProperties").filter(|v| v.is_object()))?;
        Some(self.resolve(field))
    }

    /// Follows `$ref: #/definitions/…` (a reference it cannot follow stays as it is).
    fn resolve<'s>(&'s self, mut node: &'s Value) -> &'s Value {
        for _ in 0..self.definitions.len() + 1 {
            let target = node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/definitions/"))
                .and_then(|name| self.definitions.get(name));
            match target {
                Some(target) => node = target,
                None => break,
            }
        }
        node
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> CustomSchema {
        CustomSchema::new(&json!({"definitions": {
            "com.example.v1.Thing": {
                "x-kubernetes-group-version-kind": [
                    {"group": "example.com", "version": "v1", "kind": "Thing"}
                ],
                "properties": {"spec": {"$ref": "#/definitions/com.example.v1.Spec"}}
            },
            "com.example.v1.Spec": {"properties": {
                "items": {
                    "type": "array",
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-patch-merge-key": "id",
                    "items": {"$ref": "#/definitions/com.example.v1.Item"}
                },
                "pairs": {
                    "type": "array",
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-list-map-keys": ["a", "b"],
                    "items": {"type": "object"}
                },
                "tags": {"type": "array", "x-kubernetes-patch-strategy": "merge"},
                "fixed": {
                    "type": "array",
                    "x-kubernetes-patch-strategy": "replace",
                    "x-kubernetes-patch-merge-key": "id"
                }
            }},
            "com.example.v1.Item": {"properties": {
                "ports": {
                    "type": "array",
                    "x-kubernetes-patch-strategy": "merge,retainKeys",
                    "x-kubernetes-patch-merge-key": "port"
                }
            }}
        }}))
    }

    fn list<'s>(schema: &'s CustomSchema, path: &[&str]) -> ListMerge<'s> {
        let root = schema.definition("example.com/v1", "Thing").unwrap();
        schema.list(root, path)
    }

    #[test]
    fn lists_merge_by_the_keys_the_schema_declares() {
        let schema = schema();
        assert_eq!(
            list(&schema, &["spec", "items"]),
            ListMerge::Keys(vec!["id"])
        );
        assert_eq!(
            list(&schema, &["spec", "pairs"]),
            ListMerge::Keys(vec!["a", "b"])
        );
        assert_eq!(
            list(&schema, &["spec", "items", "ports"]),
            ListMerge::Keys(vec!["port"])
        );
        assert_eq!(list(&schema, &["spec", "tags"]), ListMerge::Set);
    }

    #[test]
    fn other_lists_are_replaced() {
        let schema = schema();
        assert_eq!(list(&schema, &["spec", "fixed"]), ListMerge::Replace);
        assert_eq!(list(&schema, &["spec", "unknown"]), ListMerge::Replace);
        assert!(schema.definition("example.com/v2", "Thing").is_none());
    }

    fn tree(openapi: &[(&str, &str)]) -> Tree {
        let mut tree = Tree {
            file: "kustomization.yaml".to_owned(),
            ..Tree::default()
        };
        tree.kustomization.openapi = openapi
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        tree
    }

    #[test]
    fn the_top_kustomization_wins_then_the_first_base() {
        let mut base = tree(&[("path", "schema.json")]);
        base.files.insert(
            "schema.json".to_owned(),
            kustomization::FileData::Documents(vec![json!({"definitions": {}})]),
        );
        let mut top = tree(&[]);
        top.resources.push(Entry::Tree(Box::new(base)));
        assert!(matches!(choose(&top).unwrap(), OpenApi::Custom(_)));
        top.kustomization
            .openapi
            .insert("version".to_owned(), "v1.21.2".to_owned());
        assert!(matches!(choose(&top).unwrap(), OpenApi::BuiltIn));
    }

    #[test]
    fn unknown_versions_and_both_fields_are_errors() {
        let message = |t: Tree| format!("{:?}", choose(&t).unwrap_err());
        assert!(message(tree(&[("version", "v1.14.1")])).contains("not built in"));
        let both = tree(&[("version", "v1.21.2"), ("path", "s.json")]);
        assert!(message(both).contains("cannot use both"));
    }
}
