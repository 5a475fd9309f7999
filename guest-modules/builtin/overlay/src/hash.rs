//! The content-hash name suffix of generated ConfigMaps and Secrets, computed exactly as
//! kustomize's HashTransformer (api/hasher) computes it, at the end of the build.
//!
//! kustomize hashes a JSON document of the object's kind, data (and binaryData, or type and
//! stringData) and name, written by Go's encoding/json: sorted keys, HTML characters
//! escaped. The name it reads is always empty (it looks up a field literally called
//! `metadata/name`), so the suffix depends on the content only, not on prefixes.

use std::collections::BTreeMap;

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::resource::Resource;

/// Appends `-<hash>` to the name of every object a generator marked, remembering the
/// unhashed name so references written with it follow (kustomize's HashTransformer). The
/// mark stays, as kustomize's build annotation does: a `HashTransformer` listed in
/// `transformers:` hashes once more at the end of the build.
pub fn add_hashes(resources: &mut [Resource]) -> Result<()> {
    for resource in resources.iter_mut().filter(|resource| resource.needs_hash) {
        let hash = content_hash(resource.object.as_map())
            .map_err(|problem| Diagnostic::error(problem).on(&resource.object))?;
        let name = format!("{}-{hash}", resource.object.name());
        resource.store_previous_id();
        resource.set_name(&name);
    }
    Ok(())
}

/// kustomize's ten-character content hash of a ConfigMap or Secret.
pub fn content_hash(object: &Map<String, Value>) -> std::result::Result<String, String> {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut document: BTreeMap<&str, Value> = BTreeMap::new();
    document.insert("kind", Value::from(kind));
    document.insert("name", Value::from(""));
    document.insert("data", hashed_field(object.get("data")));
    let optional_map = match kind {
        "ConfigMap" => "binaryData",
        "Secret" => {
            document.insert("type", hashed_field(object.get("type")));
            "stringData"
        }
        _ => {
            return Err(format!(
                "kustomize computes a name suffix hash only for ConfigMaps and Secrets, \
                 not for kind `{kind}`"
            ));
        }
    };
    if let Some(map @ Value::Object(_)) = object.get(optional_map) {
        document.insert(optional_map, map.clone());
    }
    let mut json = String::new();
    write_go_json(
        &Value::Object(
            document
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        ),
        &mut json,
    );
    Ok(encode(&Sha256::digest(json.as_bytes())))
}

/// A field as kustomize's hasher reads it: a missing field is `""`, a scalar is its text, a
/// map is itself, a list cannot be read as a map and becomes `null`.
fn hashed_field(value: Option<&Value>) -> Value {
    match value {
        None | Some(Value::Null) => Value::from(""),
        Some(Value::String(text)) => Value::from(text.as_str()),
        Some(map @ Value::Object(_)) => map.clone(),
        Some(Value::Array(_)) => Value::Null,
        Some(scalar) => Value::from(scalar.to_string()),
    }
}

/// The first ten hex digits of the digest, with 0, 1, 3, a and e swapped for letters (from
/// kubectl: the suffix must not look like a number or spell words).
fn encode(digest: &[u8]) -> String {
    let hex: String = digest
        .iter()
        .take(5)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    hex.chars()
        .map(|digit| match digit {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            other => other,
        })
        .collect()
}

/// JSON as Go's `json.Marshal` writes a decoded value: map keys sorted, no spaces, `<`, `>`
/// and `&` escaped, whole floats without a fraction.
fn write_go_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => match number.as_f64() {
            Some(float) if number.is_f64() && float.fract() == 0.0 && float.abs() < 1e21 => {
                out.push_str(&format!("{float:.0}"))
            }
            _ => out.push_str(&number.to_string()),
        },
        Value::String(text) => write_go_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(key, out);
                out.push(':');
                write_go_json(item, out);
            }
            out.push('}');
        }
    }
}

/// A string as Go's encoding/json escapes it (Go 1.22 and later).
fn write_go_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)))
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use argocd_wasm_sdk::Object;
    use serde_json::json;

    fn hash(object: Value) -> String {
        content_hash(object.as_object().unwrap()).unwrap()
    }

    fn config_map(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
    }

    #[test]
    fn config_map_hashes_match_kustomize() {
        // Names and hashes from kustomize's api/krusty tests and `kubectl kustomize` v5.5.0.
        let bob = json!({"crisis": "true", "fruit": "Indian Gooseberry", "year": "2020"});
        assert_eq!(hash(config_map("bob", bob)), "79t79mt227");
        let cm = json!({"fruit": "apple", "veggie": "broccoli"});
        assert_eq!(hash(config_map("cm", cm.clone())), "877mt5hc89");
        assert_eq!(
            hash(config_map("p-cm", cm)),
            "877mt5hc89",
            "the name is not hashed"
        );
        let empty = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        assert_eq!(hash(empty), "6ct58987ht");
        let quotes = json!({"TEST": "this is a 'test'"});
        assert_eq!(hash(config_map("test", quotes)), "k9cc55dfm5");
    }

    #[test]
    fn secret_hashes_match_kustomize() {
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bob"}, "type": "Opaque",
            "data": {
                "BIRD": "ZmFsY29u", "MOUNTAIN": "ZXZlcmVzdA==", "OCEAN": "cGFjaWZpYw==",
                "forces.txt": "CmdyYXZpdGF0aW9uYWwKZWxlY3Ryb21hZ25ldGljCnN0cm9uZyBudWNsZWFyCndlYWsgbn\nVjbGVhcgo=\n",
                "fruit": "YXBwbGU=",
                "passphrase": "CkxpZmUgaXMgc2hvcnQuCkJ1dCB0aGUgeWVhcnMgYXJlIGxvbmcuCk5vdCB3aGlsZSB0aG\nUgZXZpbCBkYXlzIGNvbWUgbm90Lgo=\n",
                "vegetable": "YnJvY2NvbGk="
            }
        });
        assert_eq!(hash(secret), "58g62h555c");
    }

    #[test]
    fn go_escapes_html_and_control_characters() {
        let mut out = String::new();
        write_go_json(
            &json!({"b": "<a&b>\u{1}\u{8}\u{c}\u{7f}é\u{2028}", "a": [1, 1.5, 2.0, null, true]}),
            &mut out,
        );
        assert_eq!(
            out,
            r#"{"a":[1,1.5,2,null,true],"b":"\u003ca\u0026b\u003e\u0001\b\f"#.to_owned()
                + "\u{7f}é\\u2028\"}"
        );
    }

    #[test]
    fn hashing_renames_and_remembers_the_name() {
        let object = Object::from_value(config_map(
            "p-cm",
            json!({"fruit": "apple", "veggie": "broccoli"}),
        ))
        .unwrap();
        let mut resources = vec![Resource::new(object.clone()), Resource::new(object)];
        resources[0].needs_hash = true;
        add_hashes(&mut resources).unwrap();
        assert_eq!(resources[0].object.name(), "p-cm-877mt5hc89");
        assert_eq!(resources[0].previous[0].name, "p-cm");
        add_hashes(&mut resources).unwrap();
        assert_eq!(
            resources[0].object.name(),
            "p-cm-877mt5hc89-877mt5hc89",
            "as kustomize does"
        );
        assert_eq!(resources[1].object.name(), "p-cm");
    }
}
