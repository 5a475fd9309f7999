//! kustomize's dotted field paths (`spec.template.spec.containers.[name=app].image`), as
//! replacements and vars read them.

use serde_json::{Map, Value};

use crate::scalar;

/// kustomize's `SmarterPathSplitter`: dots split, `\.` escapes one, and a `[key=value]`
/// part keeps its dots.
pub fn split_path(path: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let raw: Vec<&str> = path.split('.').collect();
    let raw = match raw.as_slice() {
        ["", rest @ ..] if !rest.is_empty() => rest,
        all => all,
    };
    for piece in raw {
        match pieces.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('.');
                last.push_str(piece);
            }
            _ => pieces.push((*piece).to_owned()),
        }
    }
    let mut result = Vec::new();
    let mut iter = pieces.into_iter();
    while let Some(piece) = iter.next() {
        if piece.starts_with('[') && !piece.ends_with(']') {
            let mut bracketed = vec![piece];
            for next in iter.by_ref() {
                let closes = next.ends_with(']');
                bracketed.push(next);
                if closes {
                    break;
                }
            }
            let joined = bracketed.join(".");
            result.push(match joined.contains('=') {
                true => joined,
                false => joined.trim_matches(|c| c == '[' || c == ']').to_owned(),
            });
        } else {
            result.push(piece);
        }
    }
    result
}

/// A `[key=value]` path part: the key (empty for a list of scalars) and the value.
pub fn list_match(part: &str) -> Option<std::result::Result<(&str, &str), String>> {
    let inner = part.strip_prefix('[')?.strip_suffix(']')?;
    Some(inner.split_once('=').ok_or_else(|| {
        "list path element must contain fieldName=fieldValue for element to match".to_owned()
    }))
}

pub fn index_of(part: &str) -> Option<usize> {
    part.parse::<i64>()
        .ok()
        .and_then(|i| usize::try_from(i).ok())
}

/// kustomize's `Lookup` for a source: fields, list indexes (`-` is the last item) and
/// `[key=value]` items (exact match).
pub fn lookup<'a>(
    map: &'a Map<String, Value>,
    path: &[String],
) -> std::result::Result<Option<&'a Value>, String> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(None);
    };
    let mut current = map.get(first.as_str());
    for part in rest {
        let Some(here) = current else {
            return Ok(None);
        };
        current = step(here, part)?;
    }
    Ok(current)
}

fn step<'a>(here: &'a Value, part: &str) -> std::result::Result<Option<&'a Value>, String> {
    if let Ok(index) = part.parse::<i64>() {
        let index = usize::try_from(index)
            .map_err(|_| format!("array index {index} cannot be negative"))?;
        return Ok(here.as_array().and_then(|items| items.get(index)));
    }
    if part == "-" {
        return Ok(here.as_array().and_then(|items| items.last()));
    }
    if part == "*" {
        return Err("wildcard is not supported in a replacement source".to_owned());
    }
    if let Some(pair) = list_match(part) {
        let (key, wanted) = pair?;
        let matches = |item: &&Value| {
            let field = if key.is_empty() {
                Some(*item)
            } else {
                item.get(key)
            };
            field.and_then(scalar::text).as_deref() == Some(wanted)
        };
        return Ok(here.as_array().and_then(|items| items.iter().find(matches)));
    }
    Ok(here.as_object().and_then(|map| map.get(part)))
}

/// kustomize's `GetFieldValue` path (vars): also `ports[0]` for `ports` then `0`.
pub fn list_index_path(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for part in split_path(path) {
        let indexed = part
            .strip_suffix(']')
            .and_then(|rest| rest.rsplit_once('['))
            .filter(|(_, index)| !index.is_empty() && index.chars().all(|c| c.is_ascii_digit()));
        match indexed {
            Some((field, index)) => {
                if !field.is_empty() {
                    parts.push(field.to_owned());
                }
                parts.push(index.to_owned());
            }
            None => parts.push(part),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_like_kustomize() {
        assert_eq!(split_path("a.b.c"), ["a", "b", "c"]);
        assert_eq!(
            split_path(r"metadata.annotations.a\.b/c"),
            ["metadata", "annotations", "a.b/c"]
        );
        assert_eq!(
            split_path("spec.[name=a.b].image"),
            ["spec", "[name=a.b]", "image"]
        );
        assert_eq!(split_path("spec.[0].x"), ["spec", "[0]", "x"]);
        assert_eq!(split_path("a.[b.c].d"), ["a", "b.c", "d"]);
        assert_eq!(
            list_index_path("spec.ports[0].port"),
            ["spec", "ports", "0", "port"]
        );
    }

    #[test]
    fn looks_up_fields_items_and_indexes() {
        let Value::Object(object) = json!({"spec": {"ports": [{"name": "http", "port": 80}, {"name": "grpc", "port": 90}]}})
        else {
            unreachable!()
        };
        let get = |path: &str| lookup(&object, &split_path(path)).unwrap().cloned();
        assert_eq!(get("spec.ports.1.port"), Some(json!(90)));
        assert_eq!(get("spec.ports.[name=http].port"), Some(json!(80)));
        assert_eq!(get("spec.ports.[name=htt].port"), None);
        assert_eq!(get("spec.ports.-.name"), Some(json!("grpc")));
        assert_eq!(get("spec.missing.x"), None);
        assert!(lookup(&object, &split_path("spec.ports.*")).is_err());
    }
}
