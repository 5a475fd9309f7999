//! RFC 6902 JSON patches, with RFC 6901 pointers (`~1` is `/`, `~0` is `~`, `-` is the end
//! of a list). An operation that does not apply fails the patch, as in kustomize, whose
//! library (evanphx/json-patch v4) reads a missing field of an existing object as null:
//! `replace` then sets it, `copy` copies null and `test` compares with null.

use serde_json::Value;

use crate::config::Operation;

/// Applies the operations in order; the error names the failing operation.
pub fn apply(document: &mut Value, operations: &[Operation]) -> Result<(), String> {
    for (i, operation) in operations.iter().enumerate() {
        apply_one(document, operation).map_err(|problem| format!("operation {i}: {problem}"))?;
    }
    Ok(())
}

fn apply_one(document: &mut Value, operation: &Operation) -> Result<(), String> {
    match operation {
        Operation::Add { path, value } => add(document, path, value.clone()),
        Operation::Remove { path } => remove(document, path).map(drop),
        Operation::Replace { path, value } => {
            *slot(document, path)? = value.clone();
            Ok(())
        }
        Operation::Move { from, path } => {
            let value = remove(document, from)?;
            add(document, path, value)
        }
        Operation::Copy { from, path } => {
            let value = read(document, from)?;
            add(document, path, value)
        }
        Operation::Test { path, value } => match read(document, path)? {
            actual if actual == *value => Ok(()),
            actual => Err(format!("test failed: `{path}` is {actual}, not {value}")),
        },
    }
}

fn parse(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| format!("`{pointer}` is not a JSON pointer (must start with `/`)"))?;
    Ok(rest
        .split('/')
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn index(token: &str, len: usize, pointer: &str) -> Result<usize, String> {
    token
        .parse::<usize>()
        .ok()
        .filter(|i| *i < len)
        .ok_or_else(|| format!("`{pointer}`: index `{token}` is out of range ({len} items)"))
}

fn child<'a>(value: &'a mut Value, token: &str, pointer: &str) -> Result<&'a mut Value, String> {
    match value {
        Value::Object(map) => map
            .get_mut(token)
            .ok_or_else(|| format!("`{pointer}`: no field `{token}`")),
        Value::Array(items) => {
            let i = index(token, items.len(), pointer)?;
            Ok(&mut items[i])
        }
        _ => Err(format!("`{pointer}`: `{token}` is inside a scalar")),
    }
}

/// The value at the pointer; a missing field of an existing object reads as null.
fn read(document: &mut Value, pointer: &str) -> Result<Value, String> {
    if pointer.is_empty() {
        return Ok(document.clone());
    }
    match parent(document, pointer)? {
        (Value::Object(map), last) => Ok(map.get(&last).cloned().unwrap_or(Value::Null)),
        (parent, last) => child(parent, &last, pointer).cloned(),
    }
}

/// The value at the pointer; a missing field of an existing object is created as null.
fn slot<'a>(document: &'a mut Value, pointer: &str) -> Result<&'a mut Value, String> {
    if pointer.is_empty() {
        return Ok(document);
    }
    match parent(document, pointer)? {
        (Value::Object(map), last) => Ok(map.entry(last).or_insert(Value::Null)),
        (parent, last) => child(parent, &last, pointer),
    }
}

/// The parent of the pointer's target and the target's last token.
fn parent<'a>(document: &'a mut Value, pointer: &str) -> Result<(&'a mut Value, String), String> {
    let mut tokens = parse(pointer)?;
    let last = tokens
        .pop()
        .ok_or_else(|| "the whole document cannot be added or removed".to_owned())?;
    let parent = tokens
        .iter()
        .try_fold(document, |value, token| child(value, token, pointer))?;
    Ok((parent, last))
}

fn add(document: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    let (parent, last) = parent(document, pointer)?;
    match parent {
        Value::Object(map) => {
            map.insert(last, value);
        }
        Value::Array(items) if last == "-" => items.push(value),
        Value::Array(items) => {
            let i = index(&last, items.len() + 1, pointer)?;
            items.insert(i, value);
        }
        _ => return Err(format!("`{pointer}`: the parent is a scalar")),
    }
    Ok(())
}

fn remove(document: &mut Value, pointer: &str) -> Result<Value, String> {
    let (parent, last) = parent(document, pointer)?;
    match parent {
        Value::Object(map) => map
            .shift_remove(&last)
            .ok_or_else(|| format!("`{pointer}`: no field `{last}` to remove")),
        Value::Array(items) => {
            let i = index(&last, items.len(), pointer)?;
            Ok(items.remove(i))
        }
        _ => Err(format!("`{pointer}`: the parent is a scalar")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(value: Value) -> Vec<Operation> {
        serde_json::from_value(value).unwrap()
    }

    fn run(mut document: Value, operations: Value) -> Result<Value, String> {
        apply(&mut document, &ops(operations))?;
        Ok(document)
    }

    #[test]
    fn adds_replaces_and_removes() {
        let out = run(
            json!({"a": {"b": [1, 2]}, "c": 1}),
            json!([
                {"op": "add", "path": "/a/b/-", "value": 3},
                {"op": "add", "path": "/a/b/0", "value": 0},
                {"op": "replace", "path": "/c", "value": 2},
                {"op": "remove", "path": "/a/b/1"},
                {"op": "add", "path": "/d", "value": {"e": 1}}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"a": {"b": [0, 2, 3]}, "c": 2, "d": {"e": 1}}));
    }

    #[test]
    fn escapes_pointer_tokens() {
        let out = run(
            json!({"metadata": {"annotations": {}}}),
            json!([{"op": "add", "path": "/metadata/annotations/a.io~1b~0c", "value": "x"}]),
        )
        .unwrap();
        assert_eq!(out["metadata"]["annotations"]["a.io/b~c"], "x");
    }

    #[test]
    fn moves_copies_and_tests() {
        let out = run(
            json!({"a": 1, "b": {"c": 2}}),
            json!([
                {"op": "test", "path": "/a", "value": 1},
                {"op": "copy", "from": "/b", "path": "/d"},
                {"op": "move", "from": "/a", "path": "/b/a"}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"b": {"c": 2, "a": 1}, "d": {"c": 2}}));
    }

    #[test]
    fn a_missing_field_of_an_existing_object_reads_as_null() {
        let out = run(
            json!({"data": {"a": "1"}}),
            json!([
                {"op": "replace", "path": "/data/b", "value": "2"},
                {"op": "test", "path": "/data/zz", "value": null},
                {"op": "copy", "from": "/data/missing", "path": "/data/c"}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"data": {"a": "1", "b": "2", "c": null}}));
    }

    #[test]
    fn reports_operations_that_do_not_apply() {
        let cases = [
            json!([{"op": "replace", "path": "/missing/x", "value": 1}]),
            json!([{"op": "replace", "path": "/a/1", "value": 1}]),
            json!([{"op": "remove", "path": "/a/5"}]),
            json!([{"op": "test", "path": "/a/0", "value": 9}]),
            json!([{"op": "add", "path": "/x/y", "value": 1}]),
            json!([{"op": "add", "path": "a", "value": 1}]),
        ];
        for case in cases {
            let error = run(json!({"a": [1]}), case.clone()).unwrap_err();
            assert!(error.starts_with("operation 0:"), "{case}: {error}");
        }
    }
}
