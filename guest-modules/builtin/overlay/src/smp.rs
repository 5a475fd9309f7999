//! Strategic merge patches as kustomize v5.5.0 (kyaml's merge2) applies them, checked against
//! `kubectl kustomize`:
//! - maps merge key by key; `null` deletes a key; `$patch: delete` removes the map,
//!   `$patch: replace` replaces it;
//! - lists of built-in kinds merge by the schema's keys (containers by name, container ports by
//!   containerPort + protocol, …): the patch's items come first, in patch order, merged with
//!   the matching items of the object, then the object's other items;
//! - list directives are kyaml's: the first item holding `$patch` is a directive for the whole
//!   list only when `$patch` is its one key (`delete` removes the list, `replace` replaces it,
//!   `merge` merges as usual); an item with its keys and `$patch: delete` removes the matching
//!   item; an item with `$patch: replace` adds itself when the object has no matching item and
//!   leaves a matching item as it was (kyaml merges into a copy it then drops);
//! - every other list, and every list of a custom resource, is replaced by the patch's list as
//!   written, directives included; a custom `openapi:` schema replaces these rules with the
//!   keys it declares ([`crate::openapi`]);
//! - `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…` are not directives
//!   to kustomize: they stay in the output as ordinary keys.

use std::borrow::Cow;

use argocd_wasm_sdk::json;
use serde_json::{Map, Value};

use crate::openapi::{CustomSchema, OpenApi};

const DIRECTIVE: &str = "$patch";

/// How the lists of one object merge: by the built-in schema, or by a custom `openapi:`
/// schema, which replaces the built-in one for every kind (see [`crate::openapi`]).
#[derive(Debug, Clone, Copy)]
pub enum Schema<'s> {
    BuiltIn {
        /// Built-in kinds have merge keys; custom resources have none.
        built_in: bool,
        service: bool,
    },
    /// The custom schema's definition of the object's kind; none: every list is replaced.
    Custom(Option<(&'s CustomSchema, &'s Value)>),
}

impl<'s> Schema<'s> {
    pub fn new(built_in: bool, kind: &str) -> Self {
        Self::BuiltIn {
            built_in,
            service: kind == "Service",
        }
    }

    /// The schema of an object of this apiVersion and kind under the build's `openapi`.
    pub fn of(openapi: &'s OpenApi, built_in: bool, api_version: &str, kind: &str) -> Self {
        match openapi {
            OpenApi::BuiltIn => Self::new(built_in, kind),
            OpenApi::Custom(custom) => Self::Custom(
                custom
                    .definition(api_version, kind)
                    .map(|definition| (custom, definition)),
            ),
        }
    }

    /// How the list at `path` (field names, no indexes) merges.
    fn list(&self, path: &[&str]) -> ListMerge<'s> {
        match *self {
            Self::BuiltIn {
                built_in: true,
                service,
            } => built_in_list(service, path),
            Self::BuiltIn {
                built_in: false, ..
            }
            | Self::Custom(None) => ListMerge::Replace,
            Self::Custom(Some((custom, definition))) => custom.list(definition, path),
        }
    }
}

/// The merge keys of kustomize's built-in Kubernetes schema, by field name.
fn built_in_list(service: bool, path: &[&str]) -> ListMerge<'static> {
    let parent = path.len().checked_sub(2).map(|i| path[i]);
    let keys = |keys: &[&'static str]| ListMerge::Keys(keys.to_vec());
    match *path.last().unwrap_or(&"") {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "webhooks" => keys(&["name"]),
        "volumeMounts" => keys(&["mountPath"]),
        "volumeDevices" => keys(&["devicePath"]),
        "hostAliases" => keys(&["ip"]),
        "topologySpreadConstraints" => keys(&["topologyKey", "whenUnsatisfiable"]),
        "ownerReferences" => keys(&["uid"]),
        "conditions" => keys(&["type"]),
        "finalizers" => ListMerge::Set,
        "ports" if service && path == ["spec", "ports"] => keys(&["port", "protocol"]),
        "ports"
            if matches!(
                parent,
                Some("containers" | "initContainers" | "ephemeralContainers")
            ) =>
        {
            keys(&["containerPort", "protocol"])
        }
        _ => ListMerge::Replace,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListMerge<'s> {
    /// Items are maps identified by these keys.
    Keys(Vec<&'s str>),
    /// Items are scalars; the result is the union.
    Set,
    Replace,
}

/// What a merge gives: `None` when the patch removed the value; an error names the field
/// where kyaml fails (a map patched with a list, an unknown `$patch`).
pub type Merged = Result<Option<Value>, String>;

/// Merges `patch` into `dest`. `None` means the patch removed the whole value.
pub fn merge(dest: Value, patch: &Value, schema: Schema) -> Merged {
    merge_at(Some(dest), patch, schema, &mut Vec::new())
}

fn merge_at<'p>(
    dest: Option<Value>,
    patch: &'p Value,
    schema: Schema,
    path: &mut Vec<&'p str>,
) -> Merged {
    match (dest, patch) {
        (_, Value::Null) => Ok(None),
        (Some(Value::Object(dest)), Value::Object(patch)) => merge_maps(dest, patch, schema, path),
        (Some(Value::Array(dest)), Value::Array(patch)) => {
            Ok(merge_lists(dest, patch, schema, path)?.map(Value::Array))
        }
        (Some(dest), patch) if !dest.is_null() && node_kind(&dest) != node_kind(patch) => {
            Err(format!(
                "the patch has {} at `{}` where the object has {}",
                node_kind(patch),
                path.join("."),
                node_kind(&dest)
            ))
        }
        (_, patch) => fresh(patch, schema, path),
    }
}

/// kyaml refuses to merge values of different YAML node kinds.
fn node_kind(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "a map",
        Value::Array(_) => "a list",
        _ => "a scalar",
    }
}

fn unknown_directive(directive: &str, path: &[&str]) -> String {
    format!(
        "unknown strategic merge directive `$patch: {directive}` at `{}`",
        path.join(".")
    )
}

fn directive(map: &Map<String, Value>) -> Option<&str> {
    json::get(map, DIRECTIVE).and_then(Value::as_str)
}

fn merge_maps<'p>(
    mut dest: Map<String, Value>,
    patch: &'p Map<String, Value>,
    schema: Schema,
    path: &mut Vec<&'p str>,
) -> Merged {
    match directive(patch) {
        Some("delete") => return Ok(None),
        Some("replace") => return fresh_map(patch, schema, path),
        None | Some("merge") => {}
        Some(other) => return Err(unknown_directive(other, path)),
    }
    for (key, value) in patch.iter().filter(|(key, _)| *key != DIRECTIVE) {
        path.push(key);
        match json::get_mut(&mut dest, key) {
            // Merged in its slot, so the object's keys keep their order.
            Some(slot) => match merge_at(Some(slot.take()), value, schema, path)? {
                Some(merged) => *slot = merged,
                None => {
                    dest.shift_remove(key);
                }
            },
            None => {
                if let Some(merged) = merge_at(None, value, schema, path)? {
                    dest.insert(key.clone(), merged);
                }
            }
        }
        path.pop();
    }
    Ok(Some(Value::Object(dest)))
}

/// A patch value where the object has nothing to merge with: the patch itself, without its
/// nulls and directives, its lists merged as if into an empty list.
fn fresh<'p>(patch: &'p Value, schema: Schema, path: &mut Vec<&'p str>) -> Merged {
    match patch {
        Value::Null => Ok(None),
        Value::Object(map) => fresh_map(map, schema, path),
        Value::Array(items) => Ok(merge_lists(Vec::new(), items, schema, path)?.map(Value::Array)),
        scalar => Ok(Some(scalar.clone())),
    }
}

fn fresh_map<'p>(patch: &'p Map<String, Value>, schema: Schema, path: &mut Vec<&'p str>) -> Merged {
    // kyaml ignores an unknown directive on a map the object lacks: it stays as a key.
    let known = matches!(directive(patch), Some("delete" | "replace" | "merge"));
    if directive(patch) == Some("delete") {
        return Ok(None);
    }
    let mut map = Map::new();
    for (key, value) in patch.iter().filter(|(key, _)| !known || *key != DIRECTIVE) {
        path.push(key);
        if let Some(value) = fresh(value, schema, path)? {
            map.insert(key.clone(), value);
        }
        path.pop();
    }
    Ok(Some(Value::Object(map)))
}

/// The directive of an item whose only key is `$patch`.
fn lone_directive(item: &Value) -> Option<&str> {
    item.as_object()
        .filter(|map| map.len() == 1)
        .and_then(directive)
}

fn item_directive(item: &Value) -> Option<&str> {
    item.as_object().and_then(directive)
}

/// Merges the patch's list into the object's. `None` means the patch removed the list.
fn merge_lists<'p>(
    dest: Vec<Value>,
    patch: &'p [Value],
    schema: Schema,
    path: &mut Vec<&'p str>,
) -> Result<Option<Vec<Value>>, String> {
    match schema.list(path) {
        ListMerge::Keys(keys) => {
            let (directive, patch) = list_directive(patch);
            match directive {
                Some("delete") => Ok(None),
                Some("replace") => Ok(Some(merge_keyed(Vec::new(), &patch, &keys, schema, path)?)),
                None | Some("merge") => Ok(Some(merge_keyed(dest, &patch, &keys, schema, path)?)),
                Some(other) => Err(unknown_directive(other, path)),
            }
        }
        ListMerge::Set => {
            let mut union: Vec<Value> = Vec::new();
            for item in patch.iter().chain(&dest) {
                if !union.contains(item) {
                    union.push(item.clone());
                }
            }
            Ok(Some(union))
        }
        ListMerge::Replace => Ok(Some(patch.to_vec())),
    }
}

/// kyaml's list directive: the first item holding `$patch` directs the whole list when
/// `$patch` is its only key; such directive items are then dropped from the patch.
fn list_directive(patch: &[Value]) -> (Option<&str>, Vec<&Value>) {
    let whole = patch
        .iter()
        .find(|item| json::member(item, DIRECTIVE).is_some())
        .and_then(lone_directive);
    let items = patch
        .iter()
        .filter(|item| whole.is_none() || lone_directive(item) != whole)
        .collect();
    (whole, items)
}
/// A field's scalar text as kyaml compares it; `None` when the field is missing. Borrowed
/// for strings, which nearly every merge key is: items are looked up by it many times.
fn field_text<'v>(item: &'v Value, key: &str) -> Option<Cow<'v, str>> {
    match json::member(item, key)? {
        Value::String(text) => Some(Cow::Borrowed(text)),
        Value::Null => Some(Cow::Borrowed("")),
        other => Some(Cow::Owned(other.to_string())),
    }
}

/// One item's values of the merge keys; a missing key reads as empty.
fn key_values(item: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|key| field_text(item, key).unwrap_or_default().into_owned())
        .collect()
}

/// kyaml's `mergeValues`: two tuples that share a value and differ only where one is empty
/// (a port with and one without protocol) become the same, filled-in tuple.
fn merge_values(tuples: &mut [Vec<String>]) {
    for i in 0..tuples.len() {
        let first = tuples[i].clone();
        for j in 0..tuples.len() {
            if let Some(merged) = matching_tuple(&first, &tuples[j]) {
                tuples[i] = merged.clone();
                tuples[j] = merged;
            }
        }
    }
}

fn matching_tuple(a: &[String], b: &[String]) -> Option<Vec<String>> {
    let mut common = false;
    let mut merged = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            merged.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else {
            merged.push(if x.is_empty() { y.clone() } else { x.clone() });
        }
    }
    common.then_some(merged)
}

/// kyaml's `validateKeys`: the keys some tuple has a value for (all keys when none has), and
/// this tuple's values of them.
fn valid_pairs<'k>(
    tuples: &[Vec<String>],
    tuple: &[String],
    keys: &[&'k str],
) -> (Vec<&'k str>, Vec<String>) {
    let used: Vec<bool> = (0..keys.len())
        .map(|i| tuples.iter().any(|t| !t[i].is_empty()))
        .collect();
    if !used.contains(&true) {
        return (keys.to_vec(), tuple.to_vec());
    }
    let pick = |i: usize| used[i];
    let valid_keys = (0..keys.len())
        .filter(|i| pick(*i))
        .map(|i| keys[i])
        .collect();
    let valid_values = (0..keys.len())
        .filter(|i| pick(*i))
        .map(|i| tuple[i].clone())
        .collect();
    (valid_keys, valid_values)
}

/// kyaml's element lookup: the first map item whose key fields all exist with these values.
fn find_item<'v>(
    items: impl IntoIterator<Item = &'v Value>,
    keys: &[&str],
    values: &[String],
) -> Option<usize> {
    items.into_iter().position(|item| {
        item.is_object()
            && keys
                .iter()
                .zip(values)
                .all(|(key, value)| field_text(item, key).is_some_and(|text| text == **value))
    })
}

/// kyaml's `ElementSetter`: drops null and empty-map items, then replaces the items whose
/// first `values.len()` key fields match (an empty value matches any) with `element`, or
/// removes them when there is no element; appends the element when nothing matched.
/// The element is moved into its last place and copied only into earlier ones.
fn set_element(items: &mut Vec<Value>, element: Option<Value>, keys: &[&str], values: &[String]) {
    let mapping_setter = keys.first().is_some_and(|k| !k.is_empty())
        && values.first().is_some_and(|v| !v.is_empty());
    // Where the element goes: the places of the matching items, in `kept`.
    let mut places = Vec::new();
    let mut kept = Vec::with_capacity(items.len() + 1);
    for item in items.drain(..) {
        if item.is_null() || item.as_object().is_some_and(Map::is_empty) {
            continue;
        }
        if !item.is_object() && mapping_setter {
            kept.push(item);
            continue;
        }
        let matches = !values.is_empty()
            && keys
                .iter()
                .zip(values)
                .all(|(key, value)| match field_text(&item, key) {
                    Some(text) => value.is_empty() || text == *value,
                    None => false,
                });
        if !matches {
            if !values.is_empty() {
                kept.push(item);
            }
            continue;
        }
        places.push(kept.len());
        if element.is_some() {
            kept.push(Value::Null);
        }
    }
    if let Some(element) = element {
        match places.split_last() {
            None => kept.push(element),
            Some((&last, earlier)) => {
                for &place in earlier {
                    kept[place] = element.clone();
                }
                kept[last] = element;
            }
        }
    }
    *items = kept;
}

/// kyaml's associative merge with patch items prepended (`walkAssociativeSequence`): one
/// pass over the distinct key tuples of the patch's and then the object's items merges or
/// deletes items; then the object's items (merged in place) are set into the result, which
/// moves them behind the patch's new items when the list has several merge keys.
fn merge_keyed<'p>(
    dest: Vec<Value>,
    patch: &[&'p Value],
    keys: &[&str],
    schema: Schema,
    path: &mut Vec<&'p str>,
) -> Result<Vec<Value>, String> {
    let mut tuples: Vec<Vec<String>> = Vec::new();
    for item in patch.iter().copied().chain(&dest) {
        let tuple = key_values(item, keys);
        if !tuples.contains(&tuple) {
            tuples.push(tuple);
        }
    }
    if keys.len() > 1 {
        merge_values(&mut tuples);
    }
    let mut dest = dest;
    let mut added: Vec<Value> = Vec::new();
    for tuple in &tuples {
        let (valid_keys, valid_values) = valid_pairs(&tuples, tuple, keys);
        let (lookup_keys, lookup_values) = valid_pairs(std::slice::from_ref(tuple), tuple, keys);
        let original = find_item(&dest, &lookup_keys, &lookup_values);
        let patched =
            find_item(patch.iter().copied(), &lookup_keys, &lookup_values).map(|i| patch[i]);
        // kyaml merges into the object's item in place, except for a replacing item, which
        // it merges into a copy.
        let in_place = original.filter(|_| patched.and_then(item_directive) != Some("replace"));
        let mut merged = match (original, patched) {
            // Merged in place: the item is replaced by the result below anyway.
            (Some(i), Some(patched)) if in_place.is_some() => {
                merge_at(Some(dest[i].take()), patched, schema, path)?
            }
            (Some(i), Some(patched)) => merge_at(Some(dest[i].clone()), patched, schema, path)?,
            (Some(i), None) => Some(dest[i].clone()),
            (None, Some(patched)) => fresh(patched, schema, path)?,
            (None, None) => None,
        };
        // Whether `merged` differs from the object's item: copied back below only then.
        let mut changed = patched.is_some();
        if let Some(Value::Object(map)) = &mut merged {
            for (key, value) in valid_keys.iter().zip(&valid_values) {
                if json::get(map, key).is_none() && !value.is_empty() {
                    map.insert(key.to_string(), Value::from(value.as_str()));
                    changed = true;
                }
            }
        }
        if let (Some(i), Some(merged), true) = (in_place, &merged, changed) {
            dest[i] = merged.clone();
        }
        match merged {
            Some(merged) if !merged.as_object().is_some_and(Map::is_empty) => {
                set_element(&mut added, Some(merged), &valid_keys, &valid_values)
            }
            _ => set_element(&mut dest, None, &valid_keys, &valid_values),
        }
    }
    // Every tuple has a value for the same keys, so any tuple gives them.
    let final_keys = match tuples.first() {
        Some(tuple) => valid_pairs(&tuples, tuple, keys).0,
        None => return Ok(dest),
    };
    for item in dest {
        let mut values = Vec::new();
        for key in &final_keys {
            match field_text(&item, key) {
                Some(text) => values.push(text.into_owned()),
                None => added.push(item.clone()),
            }
        }
        if final_keys.len() > 1 {
            set_element(&mut added, None, &final_keys, &values);
        }
        set_element(&mut added, Some(item), &final_keys, &values);
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The merge of a patch kyaml accepts.
    fn merge(dest: Value, patch: &Value, schema: Schema) -> Option<Value> {
        super::merge(dest, patch, schema).unwrap()
    }

    #[test]
    fn kyaml_errors_name_the_field() {
        let error = super::merge(
            json!({"spec": {"m": {"k": "v"}}}),
            &json!({"spec": {"m": "x"}}),
            built_in("Pod"),
        );
        assert_eq!(
            error.unwrap_err(),
            "the patch has a scalar at `spec.m` where the object has a map"
        );
        let unknown = super::merge(
            json!({"spec": {"m": {}}}),
            &json!({"spec": {"m": {"$patch": "drop"}}}),
            built_in("Pod"),
        );
        assert_eq!(
            unknown.unwrap_err(),
            "unknown strategic merge directive `$patch: drop` at `spec.m`"
        );
        let list = super::merge(
            pod(json!([{"name": "a"}])),
            &pod(json!([{"$patch": "drop"}])),
            built_in("Pod"),
        );
        assert!(
            list.unwrap_err()
                .contains("`$patch: drop` at `spec.containers`")
        );
        // A map the object lacks keeps an unknown directive as a key, as kyaml does.
        let kept = merge(
            json!({}),
            &json!({"spec": {"$patch": "drop", "a": 1}}),
            built_in("Pod"),
        );
        assert_eq!(kept, Some(json!({"spec": {"$patch": "drop", "a": 1}})));
    }

    fn built_in(kind: &str) -> Schema<'static> {
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

    fn volumes(items: Value) -> Value {
        json!({"spec": {"volumes": items}})
    }

    #[test]
    fn lone_list_directives_delete_merge_or_replace_the_list() {
        // Expectations from `kubectl kustomize` (tests/conformance/strategic-merge/list-*).
        let dest = volumes(json!([{"name": "data", "emptyDir": {}}, {"name": "config"}]));
        let deleted = merge(
            dest.clone(),
            &volumes(json!([{"$patch": "delete"}])),
            built_in("Pod"),
        );
        assert_eq!(deleted, Some(json!({"spec": {}})));
        let merged = merge(
            dest.clone(),
            &volumes(json!([{"$patch": "merge"}, {"name": "config", "secret": {}}])),
            built_in("Pod"),
        );
        assert_eq!(
            merged.unwrap()["spec"]["volumes"],
            json!([{"name": "config", "secret": {}}, {"name": "data", "emptyDir": {}}])
        );
        // `$patch` with other keys is not a list directive: the item is merged by its key.
        let item = merge(
            dest,
            &volumes(json!([{"name": "config", "$patch": "delete", "x": 1}])),
            built_in("Pod"),
        );
        assert_eq!(
            item.unwrap()["spec"]["volumes"],
            json!([{"name": "data", "emptyDir": {}}])
        );
    }

    #[test]
    fn a_replacing_item_keeps_a_matching_item_as_it_was() {
        // kyaml merges a replacing item into a copy it drops (list-item-replace).
        let dest = volumes(
            json!([{"name": "data", "emptyDir": {}}, {"name": "config", "configMap": {"name": "cfg"}}]),
        );
        let patch = volumes(json!([
            {"name": "config", "$patch": "replace", "secret": {"secretName": "s"}},
            {"name": "fresh", "$patch": "replace", "emptyDir": {}}
        ]));
        assert_eq!(
            merge(dest, &patch, built_in("Pod")).unwrap()["spec"]["volumes"],
            json!([
                {"name": "config", "configMap": {"name": "cfg"}},
                {"name": "fresh", "emptyDir": {}},
                {"name": "data", "emptyDir": {}}
            ])
        );
        let object = json!({"spec": {"replicas": 1}});
        let whole = json!({"$patch": "replace", "spec": {"replicas": 5}});
        assert_eq!(
            merge(object, &whole, built_in("Deployment")),
            Some(json!({"spec": {"replicas": 5}})),
            "merge replaces; patches::strategic_merge keeps the object as kyaml does"
        );
    }

    #[test]
    fn lists_with_several_keys_put_the_objects_items_last() {
        // container-ports: the patch's new port first, then the object's ports in order.
        let dest = pod(json!([{"name": "c", "ports": [
            {"containerPort": 53, "protocol": "TCP", "name": "dns-tcp"},
            {"containerPort": 53, "protocol": "UDP"}
        ]}]));
        let patch = pod(json!([{"name": "c", "ports": [
            {"containerPort": 53, "protocol": "UDP", "name": "dns-udp"},
            {"containerPort": 9090, "name": "metrics"}
        ]}]));
        assert_eq!(
            merge(dest, &patch, built_in("Pod")).unwrap()["spec"]["containers"][0]["ports"],
            json!([
                {"containerPort": 9090, "name": "metrics"},
                {"containerPort": 53, "protocol": "TCP", "name": "dns-tcp"},
                {"containerPort": 53, "protocol": "UDP", "name": "dns-udp"}
            ])
        );
    }

    #[test]
    fn atomic_lists_keep_directives_as_data() {
        let dest = json!({"spec": {"tolerations": [{"key": "a"}]}});
        let patch = json!({"spec": {"tolerations": [{"key": "b", "$patch": "delete"}]}});
        assert_eq!(
            merge(dest, &patch, built_in("Pod")).unwrap()["spec"]["tolerations"],
            json!([{"key": "b", "$patch": "delete"}])
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
