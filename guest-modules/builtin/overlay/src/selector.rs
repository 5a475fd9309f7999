//! Patch targets, compiled once per patch. As in kustomize's `Select`: group, version and
//! kind match the object's current ones; name and namespace match its original or current
//! ones (a namespace-less object is in `default`); all are anchored regular expressions.
//! Label and annotation selectors use Kubernetes syntax: `k=v`, `k==v`, `k!=v`,
//! `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by commas.

use regex::Regex;

use crate::config::Target;
use crate::resource::Resource;

pub struct Selector {
    group: Option<Pattern>,
    version: Option<Pattern>,
    kind: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
}

impl Selector {
    /// The error names the target field that does not compile.
    pub fn compile(target: &Target) -> Result<Self, (&'static str, String)> {
        Ok(Self {
            group: pattern("group", &target.group)?,
            version: pattern("version", &target.version)?,
            kind: pattern("kind", &target.kind)?,
            name: pattern("name", &target.name)?,
            namespace: pattern("namespace", &target.namespace)?,
            labels: requirements(&target.label_selector)
                .map_err(|problem| ("labelSelector", problem))?,
            annotations: requirements(&target.annotation_selector)
                .map_err(|problem| ("annotationSelector", problem))?,
        })
    }

    pub fn matches(&self, resource: &Resource) -> bool {
        let object = &resource.object;
        // The original identity is the first earlier one, if the object has any. Borrowed
        // rather than `Resource::original`: no copies of every object's names per patch.
        let original = resource.previous.first();
        let either = |pattern: &Option<Pattern>, current: &str, original: Option<&str>| {
            pattern.as_ref().is_none_or(|pattern| {
                pattern.matches(current)
                    || original.is_some_and(|original| pattern.matches(original))
            })
        };
        let one = |pattern: &Option<Pattern>, value: &str| either(pattern, value, None);
        one(&self.group, object.group())
            && one(&self.version, resource.version())
            && one(&self.kind, object.kind())
            && either(
                &self.name,
                object.name(),
                original.map(|id| id.name.as_str()),
            )
            && either(
                &self.namespace,
                resource.effective_namespace(),
                original.map(|id| id.namespace.as_str()),
            )
            && self
                .labels
                .iter()
                .all(|requirement| requirement.matches(|key| object.label(key)))
            && self
                .annotations
                .iter()
                .all(|requirement| requirement.matches(|key| object.annotation(key)))
    }
}

/// A target field: an anchored regular expression, or the plain text most targets are
/// (`Deployment`, `web-frontend`), which compares as text with the same result and without
/// compiling a regex on every build.
enum Pattern {
    Text(String),
    Regex(Regex),
}

impl Pattern {
    fn matches(&self, value: &str) -> bool {
        match self {
            Self::Text(text) => text == value,
            Self::Regex(regex) => regex.is_match(value),
        }
    }
}

fn pattern(field: &'static str, text: &str) -> Result<Option<Pattern>, (&'static str, String)> {
    if text.is_empty() {
        return Ok(None);
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if text.chars().all(plain) {
        return Ok(Some(Pattern::Text(text.to_owned())));
    }
    Regex::new(&format!("^(?:{text})$"))
        .map(|regex| Some(Pattern::Regex(regex)))
        .map_err(|e| {
            (
                field,
                format!("`{text}` is not a valid regular expression: {e}"),
            )
        })
}

#[derive(Debug, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches<'a>(&self, value_of: impl Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            Self::Equals(key, wanted) => value_of(key) == Some(wanted.as_str()),
            Self::NotEquals(key, unwanted) => value_of(key) != Some(unwanted.as_str()),
            Self::In(key, values) => value_of(key).is_some_and(|v| values.iter().any(|w| w == v)),
            Self::NotIn(key, values) => {
                !value_of(key).is_some_and(|v| values.iter().any(|w| w == v))
            }
            Self::Exists(key) => value_of(key).is_some(),
            Self::NotExists(key) => value_of(key).is_none(),
        }
    }
}

/// Splits a selector at the commas outside parentheses and parses each requirement.
fn requirements(selector: &str) -> Result<Vec<Requirement>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&selector[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| requirement(part).ok_or_else(|| format!("`{part}` is not a valid requirement")))
        .collect()
}

fn requirement(text: &str) -> Option<Requirement> {
    let key = |k: &str| Some(k.trim()).filter(|k| is_key(k)).map(str::to_owned);
    let value = |v: &str| Some(v.trim()).filter(|v| is_value(v)).map(str::to_owned);
    if let Some(rest) = text.strip_prefix('!') {
        return Some(Requirement::NotExists(key(rest)?));
    }
    if let Some((k, v)) = text.split_once("!=") {
        return Some(Requirement::NotEquals(key(k)?, value(v)?));
    }
    if let Some((k, v)) = text.split_once("==").or_else(|| text.split_once('=')) {
        return Some(Requirement::Equals(key(k)?, value(v)?));
    }
    for (operator, build) in [
        (
            " notin ",
            Requirement::NotIn as fn(String, Vec<String>) -> Requirement,
        ),
        (" in ", Requirement::In),
    ] {
        if let Some((k, set)) = text.split_once(operator) {
            let set = set.trim().strip_prefix('(')?.strip_suffix(')')?;
            let values = set.split(',').map(value).collect::<Option<Vec<_>>>()?;
            return Some(build(key(k)?, values));
        }
    }
    Some(Requirement::Exists(key(text)?))
}

fn is_key(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn is_value(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argocd_wasm_sdk::Object;
    use serde_json::json;

    fn resource(value: serde_json::Value) -> Resource {
        Resource::new(Object::from_value(value).unwrap())
    }

    fn web() -> Resource {
        resource(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "magento-blue", "labels": {"color": "blue", "tier": "fe"},
                         "annotations": {"owner": "platform"}}
        }))
    }

    fn selects(target: serde_json::Value, resource: &Resource) -> bool {
        let target: Target = serde_json::from_value(target).unwrap();
        Selector::compile(&target).unwrap().matches(resource)
    }

    #[test]
    fn matches_anchored_regexes() {
        let web = web();
        assert!(selects(json!({"name": "magento-.*"}), &web));
        assert!(!selects(json!({"name": "magento"}), &web));
        assert!(selects(
            json!({"kind": "Deploy.*", "group": "apps", "version": "v1"}),
            &web
        ));
        assert!(selects(json!({"namespace": "default"}), &web));
        assert!(!selects(json!({"namespace": "stage"}), &web));
        // Plain text compares whole; anything else is a regex, `.` included.
        assert!(selects(
            json!({"name": "magento-blue", "kind": "Deployment"}),
            &web
        ));
        assert!(!selects(json!({"name": "magento-blu"}), &web));
        assert!(selects(json!({"name": "magento.blue"}), &web));
    }

    #[test]
    fn matches_the_original_name_after_a_rename() {
        let mut web = web();
        web.store_previous_id();
        web.set_name("p-magento-blue");
        assert!(selects(json!({"name": "magento-blue"}), &web));
        assert!(selects(json!({"name": "p-magento-blue"}), &web));
    }

    #[test]
    fn label_and_annotation_selectors() {
        let web = web();
        let cases = [
            ("color=blue", true),
            ("color==blue,tier=fe", true),
            ("color!=blue", false),
            ("color!=green", true),
            ("color in (green, blue)", true),
            ("color notin (blue)", false),
            ("missing notin (x)", true),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
        ];
        for (selector, expected) in cases {
            assert_eq!(
                selects(json!({"labelSelector": selector}), &web),
                expected,
                "{selector}"
            );
        }
        assert!(selects(
            json!({"annotationSelector": "owner=platform"}),
            &web
        ));
        assert!(!selects(json!({"annotationSelector": "owner=other"}), &web));
    }

    #[test]
    fn rejects_bad_patterns_naming_the_field() {
        let bad = |target: serde_json::Value| {
            Selector::compile(&serde_json::from_value(target).unwrap())
                .err()
                .unwrap()
                .0
        };
        assert_eq!(bad(json!({"name": "("})), "name");
        assert_eq!(bad(json!({"labelSelector": "a in b"})), "labelSelector");
        assert_eq!(
            bad(json!({"annotationSelector": "=x"})),
            "annotationSelector"
        );
    }
}
