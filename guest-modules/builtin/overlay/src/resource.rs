//! An object with the identities it had before: kustomize finds patch targets, replica
//! targets and name references by any earlier name, kind and namespace of an object, across
//! all levels of a kustomization tree. The whole tree is built in one call, so the history
//! stays in memory.

use argocd_wasm_sdk::Object;
use serde_json::{Map, Value};

use crate::kinds::{is_cluster_scoped, version_of};

/// The namespace kustomize compares: `default` for a namespaced object without one, empty
/// for cluster-scoped kinds.
pub fn effective_namespace<'a>(
    api_version: &str,
    kind: &str,
    namespace: Option<&'a str>,
) -> &'a str {
    match namespace {
        _ if is_cluster_scoped(api_version, kind) => "",
        None | Some("") => "default",
        Some(namespace) => namespace,
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
    /// A generated ConfigMap or Secret whose name gets kustomize's content hash suffix when
    /// the build is done (kustomize's `needs-hash` build annotation).
    pub needs_hash: bool,
    /// The `vars` whose `objref` names this object (kustomize's refVarNames).
    pub var_names: Vec<String>,
    /// Where the object came from, for `buildMetadata: [originAnnotations]`.
    pub origin: Option<Origin>,
    /// The name prefixes and suffixes added to it: name references prefer a candidate
    /// renamed like the referrer.
    pub renames: Renames,
}

/// The name prefixes and suffixes added to an object, innermost first (kustomize's
/// prefixes/suffixes build annotations).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Renames {
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
}

impl Renames {
    /// kustomize's `PrefixesSuffixesEquals`: the shorter list of prefixes ends the longer
    /// one, likewise suffixes; with `allow_empty`, an empty list matches anything.
    pub fn alike(&self, other: &Renames, allow_empty: bool) -> bool {
        let matches = |a: &[String], b: &[String]| {
            (allow_empty && (a.is_empty() || b.is_empty())) || same_ending(a, b)
        };
        matches(&self.prefixes, &other.prefixes) && matches(&self.suffixes, &other.suffixes)
    }
}

/// Where an object came from (kustomize's `resource.Origin`); paths relative to the
/// repository.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Read from this file.
    File(String),
    /// Made by a generator configured in this kustomization file.
    Generated { kustomization: String, kind: String },
}

impl Resource {
    /// An object as loaded, with no history.
    pub fn new(object: Object) -> Self {
        Self {
            object,
            previous: Vec::new(),
            needs_hash: false,
            var_names: Vec::new(),
            origin: None,
            renames: Renames::default(),
        }
    }

    /// The object, as the build outputs it.
    pub fn into_object(self) -> Object {
        self.object
    }

    pub fn current(&self) -> Id {
        let object = &self.object;
        Id {
            kind: object.kind().to_owned(),
            name: object.name().to_owned(),
            namespace: self.effective_namespace().to_owned(),
        }
    }

    /// The identity the object had when it entered the tree.
    pub fn original(&self) -> Id {
        self.previous
            .first()
            .cloned()
            .unwrap_or_else(|| self.current())
    }

    /// The current identity with the apiVersion, borrowed: what two objects in one build may
    /// not share.
    pub fn current_key(&self) -> (&str, &str, &str, &str) {
        let object = &self.object;
        (
            object.api_version(),
            object.kind(),
            object.name(),
            self.effective_namespace(),
        )
    }

    /// Whether the object has or had identity `id`; copies nothing, unlike [`Self::ids`].
    pub fn has_id(&self, id: &Id) -> bool {
        let object = &self.object;
        (object.kind() == id.kind
            && object.name() == id.name
            && self.effective_namespace() == id.namespace)
            || self.previous.contains(id)
    }

    /// The current identity, then the earlier ones.
    pub fn ids(&self) -> impl Iterator<Item = Id> + '_ {
        std::iter::once(self.current()).chain(self.previous.iter().cloned())
    }

    pub fn effective_namespace(&self) -> &str {
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

/// Whether the shorter list is the end of the longer (kustomize's `SameEndingSubSlice`).
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn renamed(prefixes: &[&str]) -> Renames {
        Renames {
            prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
            suffixes: Vec::new(),
        }
    }

    #[test]
    fn renames_alike_compare_the_ends_of_the_prefix_lists() {
        let (a, ba, b, none) = (
            renamed(&["a"]),
            renamed(&["b", "a"]),
            renamed(&["b"]),
            renamed(&[]),
        );
        assert!(a.alike(&ba, false));
        assert!(!b.alike(&ba, false));
        assert!(!none.alike(&a, false));
        assert!(none.alike(&a, true));
        assert!(none.alike(&none, false));
    }
}
