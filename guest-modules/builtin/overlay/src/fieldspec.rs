//! kustomize's field specs: "this kind has a field at this path", the data that drives its
//! label, annotation, namespace, replica and name-reference transformers.

use serde_json::{Map, Value};

use crate::kinds::Gvk;

/// One field spec. Paths separate fields with `/` (`\/` for a slash inside a key, as in
/// annotation names) and walk into every item of a list they meet; `create` adds missing
/// fields on the way.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub gvk: Gvk,
    pub path: &'static str,
    pub create: bool,
}

impl FieldSpec {
    pub const fn new(gvk: Gvk, path: &'static str, create: bool) -> Self {
        Self { gvk, path, create }
    }

    /// Calls `set` on each node the path reaches in `root`. With `create`, a missing last
    /// field is passed as `null` for `set` to fill.
    pub fn visit(&self, root: &mut Map<String, Value>, set: &mut dyn FnMut(&mut Value)) {
        visit_map(root, &segments(self.path), self.create, set);
    }
}

/// Splits a field spec path at unescaped slashes; a `[]` suffix only says "a list", which the
/// walk handles anyway.
pub fn segments(path: &str) -> Vec<String> {
    let mut segments = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => segments.last_mut().unwrap().extend(chars.next()),
            '/' => segments.push(String::new()),
            c => segments.last_mut().unwrap().push(c),
        }
    }
    for segment in &mut segments {
        if let Some(stripped) = segment.strip_suffix("[]") {
            *segment = stripped.to_owned();
        }
    }
    segments
}

/// Walks `segments` from an object's top-level map; see [`FieldSpec::visit`].
pub fn visit_map(
    map: &mut Map<String, Value>,
    segments: &[String],
    create: bool,
    set: &mut dyn FnMut(&mut Value),
) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let present = map.get(first).is_some_and(|value| !value.is_null());
    if !present {
        if !create {
            return;
        }
        let placeholder = match rest {
            [] => Value::Null,
            _ => Value::Object(Map::new()),
        };
        map.insert(first.clone(), placeholder);
    }
    if let Some(child) = map.get_mut(first) {
        walk(child, rest, create, set);
    }
}

fn walk(node: &mut Value, segments: &[String], create: bool, set: &mut dyn FnMut(&mut Value)) {
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

    #[test]
    fn splits_paths_with_escapes_and_list_markers() {
        assert_eq!(
            segments(r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret"),
            [
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]
        );
        assert_eq!(segments("subjects[]/namespace"), ["subjects", "namespace"]);
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
}
