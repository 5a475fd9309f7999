//! An object with the names it had before: kustomize finds patch targets, replica targets and
//! name references by any earlier name, kind and namespace of an object, across all levels of
//! a kustomization tree. Between levels the history travels in kustomize's own internal
//! annotations, which the host strips from the final output as `kustomize build` does.

use argocd_wasm_sdk::Object;
use serde_json::{Map, Value};

use crate::kinds::{is_cluster_scoped, version_of};

pub const PREVIOUS_NAMES: &str = "internal.config.kubernetes.io/previousNames";
pub const PREVIOUS_KINDS: &str = "internal.config.kubernetes.io/previousKinds";
pub const PREVIOUS_NAMESPACES: &str = "internal.config.kubernetes.io/previousNamespaces";

/// The namespace kustomize compares: `default` for a namespaced object without one, empty
/// for cluster-scoped kinds.
pub fn effective_namespace(api_version: &str, kind: &str, namespace: Option<&str>) -> String {
    match namespace {
        _ if is_cluster_scoped(api_version, kind) => String::new(),
        None | Some("") => "default".to_owned(),
        Some(namespace) => namespace.to_owned(),
    }
}

/// One identity an object had: kind, name and effective namespace. The group and version are
/// always the object's current ones, as in kustomize.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Id {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub object: Object,
    /// Earlier identities, oldest first.
    pub previous: Vec<Id>,
}

impl Resource {
    /// Wraps an input object, taking its history out of the annotations.
    pub fn new(mut object: Object) -> Self {
        let previous = take_history(&mut object);
        Self { object, previous }
    }

    /// The object with its history written back into the annotations.
    pub fn into_object(mut self) -> Object {
        if !self.previous.is_empty() {
            let column = |field: fn(&Id) -> &str| {
                let values: Vec<&str> = self.previous.iter().map(field).collect();
                Value::from(values.join(","))
            };
            let history = [
                (PREVIOUS_NAMES, column(|id| &id.name)),
                (PREVIOUS_KINDS, column(|id| &id.kind)),
                (PREVIOUS_NAMESPACES, column(|id| &id.namespace)),
            ];
            if let Some(annotations) = annotations_mut(&mut self.object) {
                for (key, value) in history {
                    annotations.insert(key.to_owned(), value);
                }
            }
        }
        self.object
    }

    pub fn current(&self) -> Id {
        let object = &self.object;
        Id {
            kind: object.kind().to_owned(),
            name: object.name().to_owned(),
            namespace: self.effective_namespace(),
        }
    }

    /// The identity the object had when it entered the tree.
    pub fn original(&self) -> Id {
        self.previous
            .first()
            .cloned()
            .unwrap_or_else(|| self.current())
    }

    /// The current identity, then the earlier ones.
    pub fn ids(&self) -> impl Iterator<Item = Id> + '_ {
        std::iter::once(self.current()).chain(self.previous.iter().cloned())
    }

    pub fn effective_namespace(&self) -> String {
        let object = &self.object;
        effective_namespace(object.api_version(), object.kind(), object.namespace())
    }

    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped(self.object.api_version(), self.object.kind())
    }

    pub fn version(&self) -> &str {
        version_of(self.object.api_version())
    }

    /// Records the current identity before a transform changes it.
    pub fn store_previous_id(&mut self) {
        let id = self.current();
        self.previous.push(id);
    }

    pub fn set_name(&mut self, name: &str) {
        set_meta(&mut self.object, "name", Value::from(name));
    }

    pub fn set_namespace(&mut self, namespace: Option<&str>) {
        match namespace {
            Some(namespace) => set_meta(&mut self.object, "namespace", Value::from(namespace)),
            None => {
                if let Some(Value::Object(metadata)) = self.object.as_map_mut().get_mut("metadata")
                {
                    metadata.remove("namespace");
                }
            }
        }
    }
}

fn set_meta(object: &mut Object, key: &str, value: Value) {
    let metadata = object
        .as_map_mut()
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(metadata) = metadata {
        metadata.insert(key.to_owned(), value);
    }
}

fn annotations_mut(object: &mut Object) -> Option<&mut Map<String, Value>> {
    let metadata = object
        .as_map_mut()
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let annotations = metadata
        .as_object_mut()?
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    annotations.as_object_mut()
}

/// Removes the history annotations (and the annotations map, when they were all it held) and
/// returns the identities they record.
fn take_history(object: &mut Object) -> Vec<Id> {
    let Some(Value::Object(metadata)) = object.as_map_mut().get_mut("metadata") else {
        return Vec::new();
    };
    let Some(Value::Object(annotations)) = metadata.get_mut("annotations") else {
        return Vec::new();
    };
    let mut column = |key: &str| match annotations.remove(key) {
        Some(Value::String(text)) => text.split(',').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let names: Vec<String> = column(PREVIOUS_NAMES);
    let kinds: Vec<String> = column(PREVIOUS_KINDS);
    let namespaces: Vec<String> = column(PREVIOUS_NAMESPACES);
    if names.is_empty() {
        return Vec::new();
    }
    if annotations.is_empty() {
        metadata.remove("annotations");
    }
    names
        .into_iter()
        .zip(kinds)
        .zip(namespaces)
        .map(|((name, kind), namespace)| Id {
            kind,
            name,
            namespace,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn history_round_trips_through_annotations() {
        let object = Object::from_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p-cm"}
        }))
        .unwrap();
        let mut resource = Resource::new(object.clone());
        assert_eq!(resource.original().name, "p-cm");
        resource.store_previous_id();
        resource.set_name("q-p-cm");
        let written = resource.into_object();
        assert_eq!(written.annotation(PREVIOUS_NAMES), Some("p-cm"));
        assert_eq!(written.annotation(PREVIOUS_NAMESPACES), Some("default"));

        let read = Resource::new(written);
        assert_eq!(read.object.name(), "q-p-cm");
        assert!(read.object.get("metadata.annotations").unwrap().is_none());
        assert_eq!(read.original().name, "p-cm");
        assert_eq!(read.ids().count(), 2);
    }
}
