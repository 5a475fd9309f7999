//! Strategic merge patches as kustomize v5.5.0 (kyaml's merge2) applies them, checked against
//! `kubectl kustomize`:
//! - maps merge key by key; `null` deletes a key; `$patch: delete` removes the map,
//!   `$patch: replace` replaces it;
//! - lists of built-in kinds merge by the schema's keys (containers by name, container ports by
//!   containerPort + protocol, …): the patch's items come first, in patch order, merged with
//!   the matching items of the object, then the object's other items; `$patch: delete` in an
//!   item removes it, a `{$patch: replace}` item replaces the whole list;
//! - every other list, and every list of a custom resource, is replaced;
//! - `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…` are not directives
//!   to kustomize: they stay in the output as ordinary keys.

use serde_json::{Map, Value};

const DIRECTIVE: &str = "$patch";

/// How the lists of one object merge.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// Built-in kinds have merge keys; custom resources have none.
    built_in: bool,
    service: bool,
}

impl Schema {
    pub fn new(built_in: bool, kind: &str) -> Self {
        Self {
            built_in,
            service: kind == "Service",
        }
    }

    /// How the list at `path` (field names, no indexes) merges.
    fn list(&self, path: &[&str]) -> ListMerge {
        if !self.built_in {
            return ListMerge::Replace;
        }
        let parent = path.len().checked_sub(2).map(|i| path[i]);
        match *path.last().unwrap_or(&"") {
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "env"
            | "volumes"
            | "imagePullSecrets"
            | "webhooks" => ListMerge::Keys(&["name"]),
            "volumeMounts" => ListMerge::Keys(&["mountPath"]),
            "volumeDevices" => ListMerge::Keys(&["devicePath"]),
            "hostAliases" => ListMerge::Keys(&["ip"]),
            "topologySpreadConstraints" => ListMerge::Keys(&["topologyKey", "whenUnsatisfiable"]),
            "ownerReferences" => ListMerge::Keys(&["uid"]),
            "conditions" => ListMerge::Keys(&["type"]),
            "finalizers" => ListMerge::Set,
            "ports" if self.service && path == ["spec", "ports"] => {
                ListMerge::Keys(&["port", "protocol"])
            }
            "ports"
                if matches!(
                    parent,
                    Some("containers" | "initContainers" | "ephemeralContainers")
                ) =>
            {
                ListMerge::Keys(&["containerPort", "protocol"])
            }
            _ => ListMerge::Replace,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ListMerge {
    /// Items are maps identified by these keys.
    Keys(&'static [&'static str]),
    /// Items are scalars; the result is the union.
    Set,
    Replace,
}

/// Merges `patch` into `dest`. `None` means the patch removed the whole value.
pub fn merge(dest: Value, patch: &Value, schema: Schema) -> Option<Value> {
    merge_at(Some(dest), patch, schema, &mut Vec::new())
}

fn merge_at<'p>(
    dest: Option<Value>,
    patch: &'p Value,
    schema: Schema,
    path: &mut Vec<&'p str>,
) -> Option<Value> {
    match (dest, patch) {
        (_, Value::Null) => None,
        (Some(Value::Object(dest)), Value::Object(patch)) => merge_maps(dest, patch, schema, path),
        (Some(Value::Array(dest)), Value::Array(patch)) => {
            Some(Value::Array(merge_lists(dest, patch, schema, path)))
        }
        (_, patch) => fresh(patch, schema, path),
    }
}

fn directive(map: &Map<String, Value>) -> Option<&str> {
    map.get(DIRECTIVE).and_then(Value::as_str)
}

fn merge_maps<'p>(
    mut dest: Map<String, Value>,
    patch: &'p Map<String, Value>,
    schema: Schema,
    path: &mut Vec<&'p str>,
) -> Option<Value> {
    match directive(patch) {
        Some("delete") => return None,
        Some("replace") => return fresh_map(patch, schema, path),
        _ => {}
    }
    for (key, value) in patch.iter().filter(|(key, _)| *key != DIRECTIVE) {
        path.push(key);
        // Take the value out but leave its slot, so the object's keys keep their order.
        let merged = merge_at(dest.get_mut(key).map(Value::take), value, schema, path);
        match merged {
            Some(merged) => {
                dest.insert(key.clone(), merged);
            }
            None => {
                dest.shift_remove(key);
            }
        }
        path.pop();
    }
    Some(Value::Object(dest))
}

/// A patch value where the object has nothing to merge with: the patch itself, without its
/// nulls and directives, its lists merged as if into an empty list.
fn fresh<'p>(patch: &'p Value, schema: Schema, path: &mut Vec<&'p str>) -> Option<Value> {
    match patch {
        Value::Null => None,
        Value::Object(map) => fresh_map(map, schema, path),
        Value::Array(items) => Some(Value::Array(merge_lists(Vec::new(), items, schema, path))),
        scalar => Some(scalar.clone()),
    }
}

fn fresh_map<'p>(
    patch: &'p Map<String, Value>,
    schema: Schema,
    path: &mut Vec<&'p str>,
) -> Option<Value> {
    if directive(patch) == Some("delete") {
        return None;
    }
    let mut map = Map::new();
    for (key, value) in patch.iter().filter(|(key, _)| *key != DIRECTIVE) {
        path.push(key);
        if let Some(value) = fresh(value, schema, path) {
            map.insert(key.clone(), value);
        }
        path.pop();
    }
    Some(Value::Object(map))
}

fn merge_lists<'p>(
    dest: Vec<Value>,
    patch: &'p [Value],
    schema: Schema,
    path: &mut Vec<&'p str>,
) -> Vec<Value> {
    match schema.list(path) {
        ListMerge::Keys(_) if is_replace_list(patch) => patch
            .iter()
            .filter(|item| !is_replace_item(item))
            .filter_map(|item| fresh(item, schema, path))
            .collect(),
        ListMerge::Keys(keys) => merge_keyed(dest, patch, keys, schema, path),
        ListMerge::Set => {
            let mut union: Vec<Value> = Vec::new();
            for item in patch.iter().chain(&dest) {
                if !union.contains(item) {
                    union.push(item.clone());
                }
            }
            union
        }
        ListMerge::Replace => patch.to_vec(),
    }
}

fn is_replace_item(item: &Value) -> bool {
    item.as_object()
        .is_some_and(|map| directive(map) == Some("replace"))
}

fn is_replace_list(patch: &[Value]) -> bool {
    patch.iter().any(is_replace_item)
}

/// One item's values of the merge keys; a missing key reads as empty.
fn key_values(item: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|key| match item.get(*key) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        })
        .collect()
}

/// The keys and values to match items by: the non-empty ones, or all when every value is
/// empty (kyaml matches a port without protocol by its number alone).
fn match_pairs<'k>(keys: &[&'k str], values: &[String]) -> Vec<(&'k str, String)> {
    let pairs: Vec<(&str, String)> = keys
        .iter()
        .zip(values)
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (*key, value.clone()))
        .collect();
    match pairs.is_empty() {
        true => keys.iter().map(|key| (*key, String::new())).collect(),
        false => pairs,
    }
}

fn item_matches(item: &Value, pairs: &[(&str, String)]) -> bool {
    pairs
        .iter()
        .all(|(key, value)| key_values(item, &[key])[0] == *value)
}

/// kyaml's associative merge: one result item per distinct key tuple, tuples taken from the
/// patch's items and then the object's. Each result merges the object's original item with
/// the patch's item for that tuple, and replaces an earlier result with the same keys.
fn merge_keyed<'p>(
    dest: Vec<Value>,
    patch: &'p [Value],
    keys: &[&str],
    schema: Schema,
    path: &mut Vec<&'p str>,
) -> Vec<Value> {
    let mut tuples: Vec<Vec<String>> = Vec::new();
    for item in patch.iter().chain(&dest) {
        let tuple = key_values(item, keys);
        if !tuples.contains(&tuple) {
            tuples.push(tuple);
        }
    }
    let mut result: Vec<Value> = Vec::new();
    for tuple in tuples {
        let pairs = match_pairs(keys, &tuple);
        let original = dest.iter().find(|item| item_matches(item, &pairs));
        let patched = patch.iter().find(|item| item_matches(item, &pairs));
        let merged = match (original, patched) {
            (Some(original), Some(patched)) => {
                merge_at(Some(original.clone()), patched, schema, path)
            }
            (Some(original), None) => Some(original.clone()),
            (None, Some(patched)) => fresh(patched, schema, path),
            (None, None) => None,
        };
        let Some(mut merged) = merged else {
            continue;
        };
        if let Value::Object(map) = &mut merged {
            for (key, value) in &pairs {
                map.entry(key.to_string())
                    .or_insert_with(|| Value::from(value.as_str()));
            }
        }
        match result.iter_mut().find(|item| item_matches(item, &pairs)) {
            Some(slot) => *slot = merged,
            None => result.push(merged),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn built_in(kind: &str) -> Schema {
        Schema::new(true, kind)
    }

    fn pod(containers: Value) -> Value {
        json!({"spec": {"containers": containers}})
    }

    #[test]
    fn merges_maps_and_deletes_nulls() {
        let dest = json!({"a": {"b": 1, "c": 2}, "d": 3});
        let patch = json!({"a": {"b": null, "e": {"f": null, "g": 4}}, "h": null});
        assert_eq!(
            merge(dest, &patch, built_in("ConfigMap")),
            Some(json!({"a": {"c": 2, "e": {"g": 4}}, "d": 3}))
        );
    }

    #[test]
    fn map_directives_delete_and_replace() {
        let dest = json!({"a": {"b": 1}, "c": {"d": 1, "e": 2}});
        let patch = json!({"a": {"$patch": "delete"}, "c": {"$patch": "replace", "f": 3}});
        assert_eq!(
            merge(dest, &patch, built_in("Pod")),
            Some(json!({"c": {"f": 3}}))
        );
        assert_eq!(
            merge(
                json!({"a": 1}),
                &json!({"$patch": "delete"}),
                built_in("Pod")
            ),
            None
        );
    }

    #[test]
    fn keyed_lists_put_patch_items_first() {
        let dest = pod(
            json!([{"name": "app", "image": "a", "args": ["x"]}, {"name": "side", "image": "s"}]),
        );
        let patch = pod(json!([{"name": "new", "image": "n"}, {"name": "app", "args": ["y"]}]));
        let merged = merge(dest, &patch, built_in("Pod")).unwrap();
        assert_eq!(
            merged["spec"]["containers"],
            json!([
                {"name": "new", "image": "n"},
                {"name": "app", "image": "a", "args": ["y"]},
                {"name": "side", "image": "s"}
            ])
        );
    }

    #[test]
    fn list_item_directives() {
        let dest = pod(json!([{"name": "a"}, {"name": "b"}]));
        let deleted = merge(
            dest.clone(),
            &pod(json!([{"name": "a", "$patch": "delete"}])),
            built_in("Pod"),
        );
        assert_eq!(
            deleted.unwrap()["spec"]["containers"],
            json!([{"name": "b"}])
        );
        let replaced = merge(
            dest,
            &pod(json!([{"$patch": "replace"}, {"name": "c"}])),
            built_in("Pod"),
        );
        assert_eq!(
            replaced.unwrap()["spec"]["containers"],
            json!([{"name": "c"}])
        );
    }

    #[test]
    fn custom_resources_and_atomic_lists_are_replaced() {
        let dest =
            json!({"spec": {"items": [{"name": "a"}], "containers": [{"name": "a", "x": 1}]}});
        let patch =
            json!({"spec": {"items": [{"name": "b"}], "containers": [{"name": "a", "y": 2}]}});
        assert_eq!(
            merge(dest.clone(), &patch, Schema::new(false, "Foo")),
            Some(patch.clone())
        );
        let tolerations = merge(
            json!({"spec": {"tolerations": [{"key": "a"}]}}),
            &json!({"spec": {"tolerations": [{"key": "b"}]}}),
            built_in("Pod"),
        );
        assert_eq!(
            tolerations.unwrap()["spec"]["tolerations"],
            json!([{"key": "b"}])
        );
    }

    #[test]
    fn container_ports_match_on_port_and_protocol() {
        let dest = pod(json!([{"name": "c", "ports": [
            {"containerPort": 80, "protocol": "TCP"}, {"containerPort": 53, "protocol": "UDP"}
        ]}]));
        let patch = pod(json!([{"name": "c", "ports": [
            {"containerPort": 53, "protocol": "TCP", "name": "dns"}
        ]}]));
        let merged = merge(dest, &patch, built_in("Deployment")).unwrap();
        assert_eq!(
            merged["spec"]["containers"][0]["ports"],
            json!([
                {"containerPort": 53, "protocol": "TCP", "name": "dns"},
                {"containerPort": 80, "protocol": "TCP"},
                {"containerPort": 53, "protocol": "UDP"}
            ])
        );
    }

    #[test]
    fn a_port_without_protocol_is_lost_against_one_with_protocol_like_kyaml() {
        let dest = pod(
            json!([{"name": "c", "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81}]}]),
        );
        let patch = pod(
            json!([{"name": "c", "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "other"}]}]),
        );
        let merged = merge(dest, &patch, built_in("Pod")).unwrap();
        assert_eq!(
            merged["spec"]["containers"][0]["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81, "name": "other"}])
        );
    }

    #[test]
    fn service_ports_merge_by_port() {
        let dest = json!({"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}});
        let patch = json!({"spec": {"ports": [{"port": 443, "targetPort": 8443}, {"port": 8080, "name": "alt"}]}});
        let merged = merge(dest, &patch, built_in("Service")).unwrap();
        assert_eq!(
            merged["spec"]["ports"],
            json!([
                {"port": 443, "name": "https", "targetPort": 8443},
                {"port": 8080, "name": "alt"},
                {"port": 80, "name": "http"}
            ])
        );
    }

    #[test]
    fn finalizers_union_and_unknown_directives_stay() {
        let dest = json!({"metadata": {"finalizers": ["f1"]}, "spec": {"s": {"a": 1}}});
        let patch = json!({"metadata": {"finalizers": ["f2", "f1"]}, "spec": {"s": {"$retainKeys": ["a"]}}});
        let merged = merge(dest, &patch, built_in("Pod")).unwrap();
        assert_eq!(merged["metadata"]["finalizers"], json!(["f2", "f1"]));
        assert_eq!(merged["spec"]["s"], json!({"a": 1, "$retainKeys": ["a"]}));
    }

    #[test]
    fn new_subtrees_drop_nulls_but_keep_empty_collections() {
        let merged = merge(
            json!({}),
            &json!({"spec": {"foo": null, "bar": {}, "baz": [], "qux": {"a": {"b": null}}}}),
            built_in("Deployment"),
        );
        assert_eq!(
            merged,
            Some(json!({"spec": {"bar": {}, "baz": [], "qux": {"a": {}}}}))
        );
    }
}
