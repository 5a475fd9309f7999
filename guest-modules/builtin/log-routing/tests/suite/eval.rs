//! Runs one log line of one pod through a parsed Alloy file, the way Alloy would: pod
//! discovery, relabel rules, the source's label filtering, every `loki.process` stage the
//! module emits, and the hops to the sinks. It reads only the text, so it tests what the
//! config says, not what the module meant.
//!
//! It knows exactly the components and stages the module generates, with the semantics of
//! Alloy's reference: relabel regexes are anchored, a `replace` that yields an empty value
//! removes the target label, a missing label matches as the empty string, `stage.labels`
//! skips values the parser did not find. Anything else panics, so a new stage in the
//! generator needs a matching rule here before the tests pass.

use std::collections::BTreeMap;

use regex::Regex;

use crate::check::Checked;
use crate::syntax::{Expr, Stmt};

pub type Labels = BTreeMap<String, String>;

/// A pod as discovery.kubernetes sees it.
pub struct Pod<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub container: &'a str,
    pub node: &'a str,
    pub labels: &'a [(&'a str, &'a str)],
}

/// A line that reached a sink (`loki.write.…` or `otelcol.exporter.awss3.…`).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub sink: String,
    pub labels: Labels,
}

#[derive(Debug, Clone)]
struct Entry {
    labels: Labels,
    line: String,
    extracted: BTreeMap<String, String>,
}

/// A parsed config and the environment of the Alloy process running it.
pub struct Runtime<'a> {
    config: &'a Checked,
    hostname: &'a str,
}

impl<'a> Runtime<'a> {
    /// `hostname` is `HOSTNAME`, which the Alloy Helm chart sets to the node name.
    pub fn new(config: &'a Checked, hostname: &'a str) -> Self {
        Self { config, hostname }
    }

    /// Every sink the line reaches, in the order it reaches them.
    pub fn deliver(&self, pod: &Pod, line: &str) -> Vec<Delivery> {
        let mut deliveries = Vec::new();
        for source in self.config.components_of("loki.source.kubernetes") {
            let body = body(source);
            for target in self.targets(attr(body, "targets"), pod) {
                let entry = Entry {
                    // Labels starting with `__` never reach log entries.
                    labels: target
                        .into_iter()
                        .filter(|(name, _)| !name.starts_with("__"))
                        .collect(),
                    line: line.to_owned(),
                    extracted: BTreeMap::new(),
                };
                for receiver in references(attr(body, "forward_to")) {
                    self.send(&receiver, entry.clone(), &mut deliveries);
                }
            }
        }
        deliveries
    }

    fn targets(&self, reference: &Expr, pod: &Pod) -> Vec<Labels> {
        let (id, component) = self.resolve(&reference_text(reference));
        match kind_of(component) {
            "discovery.kubernetes" => vec![discovered(pod)],
            "discovery.relabel" => {
                let body = body(component);
                self.targets(attr(body, "targets"), pod)
                    .into_iter()
                    .filter_map(|target| self.relabel(body, target))
                    .collect()
            }
            other => panic!("{id}: {other} does not export targets"),
        }
    }

    fn resolve(&self, reference: &str) -> (String, &'a Stmt) {
        let (id, _export) = reference.rsplit_once('.').expect("a reference");
        let component = self
            .config
            .component(id)
            .unwrap_or_else(|| panic!("undefined component {id}"));
        (id.to_owned(), component)
    }

    fn send(&self, reference: &str, entry: Entry, deliveries: &mut Vec<Delivery>) {
        let (id, component) = self.resolve(reference);
        let body = body(component);
        match kind_of(component) {
            "loki.process" => {
                if let Some(entry) = self.run_stages(body, entry) {
                    for receiver in references(attr(body, "forward_to")) {
                        self.send(&receiver, entry.clone(), deliveries);
                    }
                }
            }
            "otelcol.receiver.loki" | "otelcol.processor.batch" => {
                let output = inner_blocks(body)
                    .find(|(name, _)| *name == "output")
                    .map(|(_, output)| output)
                    .unwrap_or_else(|| panic!("{id} has no output"));
                for consumer in references(attr(output, "logs")) {
                    self.send(&consumer, entry.clone(), deliveries);
                }
            }
            "loki.write" | "otelcol.exporter.awss3" => deliveries.push(Delivery {
                sink: id,
                labels: entry.labels,
            }),
            other => panic!("the evaluator cannot send to {other}"),
        }
    }

    fn relabel(&self, body: &[Stmt], mut target: Labels) -> Option<Labels> {
        for (_, rule) in inner_blocks(body).filter(|(name, _)| *name == "rule") {
            let text = |name: &str, default: &str| {
                find_attr(rule, name).map_or(default.to_owned(), |value| self.string(value))
            };
            let sources: Vec<String> = find_attr(rule, "source_labels")
                .map(|list| strings(list, self))
                .unwrap_or_default();
            let separator = text("separator", ";");
            let value = sources
                .iter()
                .map(|source| target.get(source).cloned().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(&separator);
            let regex = anchored(&text("regex", "(.*)"));
            let target_label = text("target_label", "");
            let current = target.get(&target_label).cloned().unwrap_or_default();
            match text("action", "replace").as_str() {
                "replace" => {
                    if let Some(captures) = regex.captures(&value) {
                        let mut result = String::new();
                        captures.expand(&text("replacement", "$1"), &mut result);
                        if result.is_empty() {
                            target.remove(&target_label);
                        } else {
                            target.insert(target_label, result);
                        }
                    }
                }
                "keep" if !regex.is_match(&value) => return None,
                "drop" if regex.is_match(&value) => return None,
                "keepequal" if current != value => return None,
                "dropequal" if current == value => return None,
                "keep" | "drop" | "keepequal" | "dropequal" => {}
                other => panic!("the evaluator does not know relabel action {other}"),
            }
        }
        Some(target)
    }

    /// Runs the stage blocks of a body; `None` when a stage dropped the entry.
    fn run_stages(&self, body: &[Stmt], mut entry: Entry) -> Option<Entry> {
        for (name, stage) in inner_blocks(body) {
            match name {
                "stage.match" => {
                    let selector = self.string(attr(stage, "selector"));
                    if matches_selector(&selector, &entry.labels) {
                        let action = find_attr(stage, "action").map(|a| self.string(a));
                        if action.as_deref() == Some("drop") {
                            return None;
                        }
                        entry = self.run_stages(stage, entry)?;
                    }
                }
                "stage.json" => {
                    let fields = json_fields(&entry.line);
                    for (key, expression) in pairs(attr(stage, "expressions"), self) {
                        let field = jmespath_field(if expression.is_empty() {
                            &key
                        } else {
                            &expression
                        });
                        if let Some(value) = fields.get(&field) {
                            entry.extracted.insert(key, value.clone());
                        }
                    }
                }
                "stage.logfmt" => {
                    let fields = logfmt_fields(&entry.line);
                    for (key, field) in pairs(attr(stage, "mapping"), self) {
                        let field = if field.is_empty() { key.clone() } else { field };
                        if let Some(value) = fields.get(&field) {
                            entry.extracted.insert(key, value.clone());
                        }
                    }
                }
                "stage.labels" => {
                    for (label, source) in pairs(attr(stage, "values"), self) {
                        let source = if source.is_empty() {
                            label.clone()
                        } else {
                            source
                        };
                        if let Some(value) = entry.extracted.get(&source) {
                            entry.labels.insert(label, value.clone());
                        }
                    }
                }
                "stage.static_labels" => {
                    entry.labels.extend(pairs(attr(stage, "values"), self));
                }
                "stage.label_drop" => {
                    for label in strings(attr(stage, "values"), self) {
                        entry.labels.remove(&label);
                    }
                }
                other => panic!("the evaluator does not know {other}"),
            }
        }
        Some(entry)
    }

    fn string(&self, expr: &Expr) -> String {
        match expr {
            Expr::Str(text) => text.clone(),
            Expr::Call(path, args) if path.join(".") == "sys.env" => match args.as_slice() {
                [Expr::Str(name)] if name == "HOSTNAME" => self.hostname.to_owned(),
                [Expr::Str(_)] => String::new(),
                _ => panic!("sys.env takes one string"),
            },
            other => panic!("the evaluator cannot make a string of {other:?}"),
        }
    }
}

/// The labels discovery.kubernetes gives a pod's container.
fn discovered(pod: &Pod) -> Labels {
    let mut labels: Labels = [
        ("__address__", "10.0.0.1"),
        ("__meta_kubernetes_namespace", pod.namespace),
        ("__meta_kubernetes_pod_name", pod.name),
        ("__meta_kubernetes_pod_container_name", pod.container),
        ("__meta_kubernetes_pod_node_name", pod.node),
        ("__meta_kubernetes_pod_uid", "uid-1"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    for (key, value) in pod.labels {
        let sanitized: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        labels.insert(
            format!("__meta_kubernetes_pod_label_{sanitized}"),
            value.to_string(),
        );
        labels.insert(
            format!("__meta_kubernetes_pod_labelpresent_{sanitized}"),
            "true".into(),
        );
    }
    labels
}

/// A LogQL stream selector of label matchers: `{a="x", b=~"y|z", c!="", d!~"w"}`.
fn matches_selector(selector: &str, labels: &Labels) -> bool {
    let inner = selector
        .trim()
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not a stream selector: {selector}"));
    split_matchers(inner).iter().all(|matcher| {
        let (name, op, value) = parse_matcher(matcher);
        let actual = labels.get(name).map_or("", String::as_str);
        match op {
            "=" => actual == value,
            "!=" => actual != value,
            "=~" => anchored(&value).is_match(actual),
            "!~" => !anchored(&value).is_match(actual),
            _ => unreachable!(),
        }
    })
}

fn split_matchers(inner: &str) -> Vec<&str> {
    let mut matchers = Vec::new();
    let (mut start, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ',' if !in_string => {
                matchers.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    matchers.push(inner[start..].trim());
    matchers
}

fn parse_matcher(matcher: &str) -> (&str, &'static str, String) {
    let name_end = matcher
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or_else(|| panic!("bad matcher {matcher}"));
    let (name, rest) = matcher.split_at(name_end);
    let op = ["=~", "!~", "!=", "="]
        .into_iter()
        .find(|op| rest.starts_with(op))
        .unwrap_or_else(|| panic!("bad operator in {matcher}"));
    let quoted = rest[op.len()..].trim();
    let value = quoted
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("unquoted value in {matcher}"))
        .replace("\\\"", "\"")
        .replace("\\\\", "\\");
    (name, op, value)
}

fn anchored(regex: &str) -> Regex {
    Regex::new(&format!("^(?:{regex})$")).unwrap_or_else(|e| panic!("bad regex {regex}: {e}"))
}

/// A JMESPath expression the module emits: a quoted or bare top-level field name.
fn jmespath_field(expression: &str) -> String {
    expression
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .unwrap_or(expression)
        .to_owned()
}

/// The scalar top-level fields of a JSON line; nothing when the line is not a JSON object.
/// `null` is left out: stage.labels skips it.
fn json_fields(line: &str) -> BTreeMap<String, String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(line) else {
        return BTreeMap::new();
    };
    map.into_iter()
        .filter_map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(text) => text,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((key, text))
        })
        .collect()
}

/// `key=value key="quoted value"` pairs.
fn logfmt_fields(line: &str) -> BTreeMap<String, String> {
    let pair = Regex::new(r#"([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)"#).unwrap();
    pair.captures_iter(line)
        .map(|c| (c[1].to_owned(), c[2].trim_matches('"').to_owned()))
        .collect()
}

fn kind_of(stmt: &Stmt) -> &str {
    match stmt {
        Stmt::Block { name, .. } => name,
        Stmt::Attr { name, .. } => name,
    }
}

fn body(stmt: &Stmt) -> &[Stmt] {
    match stmt {
        Stmt::Block { body, .. } => body,
        Stmt::Attr { .. } => &[],
    }
}

fn find_attr<'a>(body: &'a [Stmt], wanted: &str) -> Option<&'a Expr> {
    body.iter().find_map(|stmt| match stmt {
        Stmt::Attr { name, value, .. } if name == wanted => Some(value),
        _ => None,
    })
}

fn attr<'a>(body: &'a [Stmt], wanted: &str) -> &'a Expr {
    find_attr(body, wanted).unwrap_or_else(|| panic!("missing argument {wanted}"))
}

fn inner_blocks(body: &[Stmt]) -> impl Iterator<Item = (&str, &[Stmt])> {
    body.iter().filter_map(|stmt| match stmt {
        Stmt::Block { name, body, .. } => Some((name.as_str(), body.as_slice())),
        Stmt::Attr { .. } => None,
    })
}

fn reference_text(expr: &Expr) -> String {
    match expr {
        Expr::Path(path) => path.join("."),
        other => panic!("expected a reference, got {other:?}"),
    }
}

fn references(expr: &Expr) -> Vec<String> {
    match expr {
        Expr::List(items) => items.iter().map(reference_text).collect(),
        other => panic!("expected a list of references, got {other:?}"),
    }
}

fn strings(expr: &Expr, runtime: &Runtime) -> Vec<String> {
    match expr {
        Expr::List(items) => items.iter().map(|item| runtime.string(item)).collect(),
        other => panic!("expected a list of strings, got {other:?}"),
    }
}

fn pairs(expr: &Expr, runtime: &Runtime) -> Vec<(String, String)> {
    match expr {
        Expr::Object(pairs) => pairs
            .iter()
            .map(|(key, value)| (key.clone(), runtime.string(value)))
            .collect(),
        other => panic!("expected an object, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_treat_a_missing_label_as_empty() {
        let none = labels(&[]);
        let payment = labels(&[("channel", "payment")]);
        assert!(matches_selector(r#"{channel!="payment"}"#, &none));
        assert!(matches_selector(r#"{channel!~"payment|x"}"#, &none));
        assert!(!matches_selector(r#"{channel=~"payment|x"}"#, &none));
        assert!(matches_selector(
            r#"{channel=~"payment|x", a=""}"#,
            &payment
        ));
        assert!(
            !matches_selector(r#"{channel=~"pay"}"#, &payment),
            "regexes are anchored"
        );
    }

    #[test]
    fn reads_json_and_logfmt_fields() {
        assert_eq!(
            json_fields(r#"{"channel":"payment","n":1,"x":null}"#).len(),
            2
        );
        assert!(json_fields("plain text").is_empty());
        let fields = logfmt_fields(r#"level=info channel=admin_auth msg="a b""#);
        assert_eq!(fields["channel"], "admin_auth");
        assert_eq!(fields["msg"], "a b");
    }
}
