//! kustomize's field specs: "this kind has a field at this path", the data that drives its
//! label, annotation, namespace, name, image, replica, variable and name-reference
//! transformers. The defaults and the custom ones of `configurations` live in
//! [`crate::tconfig::Config`]; this module walks one spec through an object.

use std::borrow::Cow;

use argocd_wasm_sdk::{Object, json};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::kinds::{Gvk, version_of};

/// One field spec, as kustomize writes it (`group`, `version`, `kind`, `path`, `create`).
/// Paths separate fields with `/` (`\/` for a slash inside a key, as in annotation names) and
/// walk into every item of a list they meet; `create` adds missing fields on the way, except
/// a field written `name[]`, which kustomize only ever looks up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(default)]
    pub group: Cow<'static, str>,
    #[serde(default)]
    pub version: Cow<'static, str>,
    #[serde(default)]
    pub kind: Cow<'static, str>,
    #[serde(default)]
    pub path: Cow<'static, str>,
    #[serde(default)]
    pub create: bool,
}

impl FieldSpec {
    pub const fn new(gvk: Gvk, path: &'static str, create: bool) -> Self {
        Self {
            group: Cow::Borrowed(gvk.group),
            version: Cow::Borrowed(gvk.version),
            kind: Cow::Borrowed(gvk.kind),
            path: Cow::Borrowed(path),
            create,
        }
    }

    /// Whether the spec applies to objects of this group, version and kind: an empty part
    /// matches anything, as in kustomize's `Gvk.IsSelected`.
    pub fn selects(&self, group: &str, version: &str, kind: &str) -> bool {
        gvk_selects(
            (&self.group, &self.version, &self.kind),
            group,
            version,
            kind,
        )
    }

    pub fn selects_type(&self, object: &ObjectType) -> bool {
        self.selects(&object.group, &object.version, &object.kind)
    }

    /// kustomize merges a spec into a list holding one at the same path whose kinds select
    /// it (`effectivelyEquals`), as one.
    pub fn same_field(&self, other: &FieldSpec) -> bool {
        let wanted = (&*other.group, &*other.version, &*other.kind);
        gvk_selects(wanted, &self.group, &self.version, &self.kind) && self.path == other.path
    }

    /// Calls `set` on each node the path reaches in `root`. With `create`, a missing last
    /// field is passed as `null` for `set` to fill.
    pub fn visit(&self, root: &mut Map<String, Value>, set: &mut dyn FnMut(&mut Value)) {
        visit_map(root, &segments(&self.path), self.create, set);
    }
}

/// An object's group, version and kind, read once to check many specs against it: the
/// transformers check dozens of specs per object, and reading JSON fields for each was most
/// of their time. One value serves a whole loop ([`ObjectType::read`] reuses its buffers).
#[derive(Default)]
pub struct ObjectType {
    group: String,
    version: String,
    kind: String,
}

impl ObjectType {
    /// Holds `object`'s type from now on.
    pub fn read(&mut self, object: &Object) -> &Self {
        for (buffer, text) in [
            (&mut self.group, object.group()),
            (&mut self.version, version_of(object.api_version())),
            (&mut self.kind, object.kind()),
        ] {
            buffer.clear();
            buffer.push_str(text);
        }
        self
    }
}

/// Each spec with its path split, for a transformer to split once per call rather than once
/// per object.
pub fn with_paths(specs: &[FieldSpec]) -> Vec<(&FieldSpec, Vec<Segment<'_>>)> {
    specs
        .iter()
        .map(|spec| (spec, segments(&spec.path)))
        .collect()
}

/// `wanted` (group, version, kind) selects `group`, `version`, `kind`; empty parts match all.
pub fn gvk_selects(wanted: (&str, &str, &str), group: &str, version: &str, kind: &str) -> bool {
    let part = |wanted: &str, actual: &str| wanted.is_empty() || wanted == actual;
    part(wanted.0, group) && part(wanted.1, version) && part(wanted.2, kind)
}

/// One step of a split path: a field name, and whether it was written `name[]`. The name
/// borrows the path unless the path escapes a slash: every build splits the paths of dozens
/// of specs, and of the name references of each kind it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<'p> {
    pub name: Cow<'p, str>,
    pub list: bool,
}

/// Splits a field spec path at unescaped slashes.
pub fn segments(path: &str) -> Vec<Segment<'_>> {
    if !path.contains('\\') {
        // Nearly every path: no escapes, so each name is a slice of it.
        return path
            .split('/')
            .map(|name| segment(Cow::Borrowed(name)))
            .collect();
    }
    let mut names = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => names.last_mut().unwrap().extend(chars.next()),
            '/' => names.push(String::new()),
            c => names.last_mut().unwrap().push(c),
        }
    }
    names
        .into_iter()
        .map(|name| segment(Cow::Owned(name)))
        .collect()
}

fn segment(name: Cow<'_, str>) -> Segment<'_> {
    let list = name.ends_with("[]");
    let name = match name {
        Cow::Borrowed(name) if list => Cow::Borrowed(&name[..name.len() - 2]),
        Cow::Owned(mut name) if list => {
            name.truncate(name.len() - 2);
            Cow::Owned(name)
        }
        name => name,
    };
    Segment { name, list }
}

/// Walks `segments` from an object's top-level map; see [`FieldSpec::visit`].
pub fn visit_map(
    map: &mut Map<String, Value>,
    segments: &[Segment],
    create: bool,
    set: &mut dyn FnMut(&mut Value),
) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    if let Some(child) = json::get_mut(map, &first.name).filter(|child| !child.is_null()) {
        return walk(child, rest, create, set);
    }
    // kustomize looks a `name[]` field up without creating it, so a StatefulSet without
    // `volumeClaimTemplates` gets none from the label specs.
    if !create || first.list {
        return;
    }
    let placeholder = match rest {
        [] => Value::Null,
        _ => Value::Object(Map::new()),
    };
    let child = map.entry(&*first.name).or_insert(Value::Null);
    *child = placeholder;
    walk(child, rest, create, set);
}

fn walk(node: &mut Value, segments: &[Segment], create: bool, set: &mut dyn FnMut(&mut Value)) {
    match node {
        Value::Array(items) => {
            for item in items {
                walk(item, segments, create, set);
            }
        }
        _ if segments.is_empty() => set(node),
        Value::Object(map) => visit_map(map, segments, create, set),
        _ => {}
    }
}

/// Sets `key: value` in the map at a node, making the node a map if it is missing.
pub fn set_entry(node: &mut Value, key: &str, value: &str) {
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    if let Value::Object(map) = node {
        map.insert(key.to_owned(), Value::from(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(path: &str) -> Vec<String> {
        segments(path)
            .into_iter()
            .map(|s| s.name.into_owned())
            .collect()
    }

    #[test]
    fn splits_paths_with_escapes_and_list_markers() {
        assert_eq!(
            names(r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret"),
            [
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]
        );
        assert_eq!(names("subjects[]/namespace"), ["subjects", "namespace"]);
        assert!(segments("subjects[]/namespace")[0].list);
    }

    #[test]
    fn walks_lists_and_creates_only_when_asked() {
        let Value::Object(mut value) =
            json!({"spec": {"containers": [{"env": [{"name": "a"}]}, {}]}})
        else {
            unreachable!()
        };
        let mut seen = Vec::new();
        FieldSpec::new(Gvk::ANY, "spec/containers/env/name", false)
            .visit(&mut value, &mut |node| seen.push(node.clone()));
        assert_eq!(seen, [json!("a")]);

        FieldSpec::new(Gvk::ANY, "spec/selector/matchLabels", true)
            .visit(&mut value, &mut |node| set_entry(node, "k", "v"));
        assert_eq!(value["spec"]["selector"]["matchLabels"], json!({"k": "v"}));

        FieldSpec::new(Gvk::ANY, "spec/template/metadata/labels", false)
            .visit(&mut value, &mut |node| set_entry(node, "k", "v"));
        assert!(value["spec"].get("template").is_none());
    }

    #[test]
    fn never_creates_a_list_field() {
        let spec = FieldSpec::new(
            Gvk::ANY,
            "spec/volumeClaimTemplates[]/metadata/labels",
            true,
        );
        let Value::Object(mut without) = json!({"spec": {}}) else {
            unreachable!()
        };
        spec.visit(&mut without, &mut |node| set_entry(node, "k", "v"));
        assert_eq!(Value::Object(without), json!({"spec": {}}));

        let Value::Object(mut with) = json!({"spec": {"volumeClaimTemplates": [{"spec": {}}]}})
        else {
            unreachable!()
        };
        spec.visit(&mut with, &mut |node| set_entry(node, "k", "v"));
        assert_eq!(
            with["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"],
            json!({"k": "v"})
        );
    }

    #[test]
    fn reads_kustomize_field_specs() {
        let spec: FieldSpec = serde_json::from_value(
            json!({"group": "apps", "kind": "Deployment", "path": "spec/x", "create": true}),
        )
        .unwrap();
        assert!(spec.selects("apps", "v1", "Deployment"));
        assert!(!spec.selects("", "v1", "Deployment"));
        assert!(spec.same_field(&FieldSpec::new(Gvk::kind("Deployment"), "spec/x", false)));
        let unknown = serde_json::from_value::<FieldSpec>(json!({"paths": "x"}));
        assert!(unknown.is_err());
    }
}
