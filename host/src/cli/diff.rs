//! Comparing objects with expected objects, shared by `test` and `render --diff-against`.
//!
//! Both sides are normalized before they are compared, so only meaningful differences
//! count: keys are sorted at every level and objects are sorted by kind, namespace, name and
//! apiVersion, then written as YAML. Comments, quoting, indentation, key order, document
//! order and `*List` wrappers therefore make no difference; values, and objects added or
//! missing, do.

use std::io::IsTerminal as _;

use anyhow::Result;
use serde_json::Value;
use similar::TextDiff;

use argocd_wasm_plugin::manifests::{self, Format};
use argocd_wasm_plugin::object::ObjectId;

/// Lines of unchanged context around each change.
const CONTEXT_LINES: usize = 3;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// One side of a comparison: a label for the diff header and its objects.
pub struct Side<'a> {
    pub label: &'a str,
    pub objects: &'a [Value],
}

/// A unified diff from `expected` to `actual` in normalized form, or `None` when they hold
/// the same objects. Coloured with ANSI codes when `colour` is set.
pub fn compare(expected: Side<'_>, actual: Side<'_>, colour: bool) -> Result<Option<String>> {
    let old = normalized_yaml(expected.objects)?;
    let new = normalized_yaml(actual.objects)?;
    if old == new {
        return Ok(None);
    }
    let diff = TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(expected.label, actual.label)
        .to_string();
    Ok(Some(if colour { colourize(&diff) } else { diff }))
}

/// Whether diffs written to stdout should be coloured: only on a terminal, and never when
/// `NO_COLOR` is set (<https://no-color.org>).
pub fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The objects as a YAML stream in the normalized form described in the module docs.
fn normalized_yaml(objects: &[Value]) -> Result<String> {
    let mut normalized: Vec<Value> = objects.iter().map(sort_keys).collect();
    normalized.sort_by(|a, b| ObjectId::of(a).cmp(&ObjectId::of(b)));
    manifests::to_stream(&normalized, Format::Yaml)
}

fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(key, _)| *key);
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, child)| (key.clone(), sort_keys(child)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

fn colourize(diff: &str) -> String {
    diff.lines()
        .map(|line| {
            let colour = if line.starts_with("---") || line.starts_with("+++") {
                BOLD
            } else if line.starts_with("@@") {
                CYAN
            } else if line.starts_with('-') {
                RED
            } else if line.starts_with('+') {
                GREEN
            } else {
                return format!("{line}\n");
            };
            format!("{colour}{line}{RESET}\n")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn side<'a>(label: &'a str, objects: &'a [Value]) -> Side<'a> {
        Side { label, objects }
    }

    #[test]
    fn key_and_object_order_do_not_count() {
        let a = [
            json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "web"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"y": "1", "x": "2"}}),
        ];
        let b = [
            json!({"metadata": {"name": "a"}, "data": {"x": "2", "y": "1"}, "kind": "ConfigMap", "apiVersion": "v1"}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}),
        ];
        assert_eq!(compare(side("a", &a), side("b", &b), false).unwrap(), None);
    }

    #[test]
    fn a_changed_value_shows_as_a_unified_diff() {
        let old = [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}}),
        ];
        let new = [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "2"}}),
        ];
        let diff = compare(side("expected.yaml", &old), side("render", &new), false)
            .unwrap()
            .unwrap();
        assert!(
            diff.starts_with("--- expected.yaml\n+++ render\n@@"),
            "{diff}"
        );
        assert!(diff.contains("\n-  x: \"1\"\n+  x: \"2\"\n"), "{diff}");
        let coloured = compare(side("e", &old), side("r", &new), true)
            .unwrap()
            .unwrap();
        assert!(
            coloured.contains(&format!("{RED}-  x: \"1\"{RESET}")),
            "{coloured}"
        );
    }
}
