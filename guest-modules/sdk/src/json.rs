//! Field lookups in JSON objects, tuned for Kubernetes manifests.
//!
//! serde_json keeps an object's keys in order in an `IndexMap`, which finds a key by hashing
//! it with SipHash. Inside a WebAssembly module, hashing a short key costs several times more
//! than comparing it with each key of the small maps manifests are made of (`apiVersion`,
//! `kind`, `metadata`, `spec`; `name`, `namespace`, `labels`), and a module looks fields up
//! millions of times on a large app. These functions scan small maps and hash only large ones;
//! they find exactly what `Map::get` finds.

use serde_json::{Map, Value};

/// Maps with at most this many keys are scanned instead of hashed. Above it, the scan's
/// comparisons start to cost more than one hash.
const SCAN_LIMIT: usize = 8;

/// The value of `key` in `map`, as `map.get(key)`.
pub fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() > SCAN_LIMIT {
        return map.get(key);
    }
    map.iter()
        .find_map(|(candidate, value)| same_key(candidate, key).then_some(value))
}

/// The value of `key` in `map`, to change in place, as `map.get_mut(key)`.
pub fn get_mut<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Value> {
    if map.len() > SCAN_LIMIT {
        return map.get_mut(key);
    }
    map.iter_mut()
        .find_map(|(candidate, value)| same_key(candidate, key).then_some(value))
}

/// `candidate == key`, first comparing what is cheap: in wasm, every full comparison is a
/// call to a byte-by-byte `memcmp`, and keys of the same length (`kind`, `spec`) usually
/// differ in their first byte.
fn same_key(candidate: &str, key: &str) -> bool {
    candidate.len() == key.len()
        && candidate.as_bytes().first() == key.as_bytes().first()
        && candidate == key
}

/// The value of `key` when `value` is an object, as `value.get(key)`.
pub fn member<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_object().and_then(|map| get(map, key))
}

/// The value of `key` when `value` is an object, to change in place, as
/// `value.get_mut(key)`.
pub fn member_mut<'a>(value: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    value.as_object_mut().and_then(|map| get_mut(map, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map_of(size: usize) -> Map<String, Value> {
        (0..size).map(|i| (format!("key{i}"), json!(i))).collect()
    }

    #[test]
    fn finds_what_the_map_finds_below_and_above_the_scan_limit() {
        for size in [0, 1, SCAN_LIMIT, SCAN_LIMIT + 1, 40] {
            let mut map = map_of(size);
            for key in ["key0", "key7", "key8", "key39", "key", "missing", ""] {
                assert_eq!(get(&map, key), map.get(key), "{key} in {size}");
                let expected = map.get(key).cloned();
                assert_eq!(get_mut(&mut map, key).map(|v| v.clone()), expected);
            }
        }
    }

    #[test]
    fn members_of_non_objects_are_absent() {
        let mut value = json!({"kind": "Service", "spec": {"ports": []}});
        assert_eq!(member(&value, "kind"), Some(&json!("Service")));
        *member_mut(&mut value, "kind").unwrap() = json!("Pod");
        assert_eq!(value["kind"], "Pod");
        assert_eq!(member(&json!(["kind"]), "kind"), None);
        assert_eq!(member_mut(&mut json!("kind"), "kind"), None);
    }
}
