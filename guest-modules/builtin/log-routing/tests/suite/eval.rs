//! Runs a container's output through a parsed Alloy file, the way Alloy on one node would:
//! pod discovery with its field selector, relabel rules, file globbing over the node's
//! /var/log/pods, one reader per `loki.source.file`, every `loki.process` stage the module
//! emits (CRI parsing with partial lines, multi-line joining per stream), and the hops to
//! the sinks. It reads only the text, so it tests what the config says, not what the
//! module meant.
//!
//! It knows exactly the components and stages the module generates, with the semantics of
//! Alloy's reference and sources: relabel regexes are anchored, a `replace` that yields an
//! empty value removes the target label, a missing label matches as the empty string,
//! `stage.labels` skips values the parser did not find, `stage.multiline` passes lines
//! through until a stream's first start line and flushes a block at the next one (the end
//! of the output stands for `max_wait_time`). Anything else panics, so a new stage in the
//! generator needs a matching rule here before the tests pass.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use regex::Regex;

use crate::check::Checked;
use crate::syntax::{Expr, Stmt};

pub type Labels = BTreeMap<String, String>;

/// A pod with one container, as discovery.kubernetes and the kubelet see it.
#[derive(Clone, Copy)]
pub struct Pod<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
    pub container: &'a str,
    pub node: &'a str,
    pub labels: &'a [(&'a str, &'a str)],
}

impl Pod<'_> {
    /// The file the kubelet writes the container's first run to.
    pub fn log_file(&self) -> String {
        format!(
            "/var/log/pods/{}_{}_{}/{}/0.log",
            self.namespace, self.name, self.uid, self.container
        )
    }
}

/// A line of the container's log file, before the CRI stage reads it.
pub struct Written<'a> {
    pub stream: &'a str,
    /// `P` for a partial line the runtime split, `F` for the full (last) part.
    pub flag: &'a str,
    pub content: &'a str,
}

/// Lines written to stdout, whole.
pub fn stdout<'a>(lines: &[&'a str]) -> Vec<Written<'a>> {
    lines
        .iter()
        .map(|content| Written {
            stream: "stdout",
            flag: "F",
            content,
        })
        .collect()
}

/// An entry that reached a sink (`loki.write.…` or `otelcol.exporter.awss3.…`).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub sink: String,
    pub labels: Labels,
    pub line: String,
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
    env: &'a [(&'a str, &'a str)],
}

impl<'a> Runtime<'a> {
    /// `env` is the Alloy container's environment (`NODE_NAME` from the DaemonSet).
    pub fn new(config: &'a Checked, env: &'a [(&'a str, &'a str)]) -> Self {
        Self { config, env }
    }

    /// Every entry the pod's output becomes, at the sinks it reaches.
    pub fn deliver(&self, pod: &Pod, written: &[Written]) -> Vec<Delivery> {
        let file: Vec<String> = written
            .iter()
            .map(|w| {
                format!(
                    "2026-11-30T08:00:00.000000000Z {} {} {}",
                    w.stream, w.flag, w.content
                )
            })
            .collect();
        let mut deliveries = Vec::new();
        for source in self.config.components_of("loki.source.file") {
            let body = body(source);
            for target in self.targets(attr(body, "targets"), pod) {
                let path = target["__path__"].clone();
                // Labels starting with `__` never reach log entries; the path becomes `filename`.
                let mut labels: Labels = target
                    .into_iter()
                    .filter(|(name, _)| !name.starts_with("__"))
                    .collect();
                labels.insert("filename".into(), path);
                let entries: Vec<Entry> = file
                    .iter()
                    .map(|line| Entry {
                        labels: labels.clone(),
                        line: line.clone(),
                        extracted: BTreeMap::new(),
                    })
                    .collect();
                for receiver in references(attr(body, "forward_to")) {
                    self.send(&receiver, entries.clone(), &mut deliveries);
                }
            }
        }
        deliveries
    }

    fn targets(&self, reference: &Expr, pod: &Pod) -> Vec<Labels> {
        let (id, component) = self.resolve(&reference_text(reference));
        let body = body(component);
        match kind_of(component) {
            "discovery.kubernetes" => {
                if self.selected(body, pod) {
                    vec![discovered(pod)]
                } else {
                    vec![]
                }
            }
            "discovery.relabel" => self
                .targets(attr(body, "targets"), pod)
                .into_iter()
                .filter_map(|target| self.relabel(body, target))
                .collect(),
            "local.file_match" => self
                .targets(attr(body, "path_targets"), pod)
                .into_iter()
                .filter_map(|mut target| {
                    let glob = target.get("__path__")?;
                    let file = pod.log_file();
                    glob_regex(glob).is_match(&file).then(|| {
                        target.insert("__path__".into(), file);
                        target
                    })
                })
                .collect(),
            other => panic!("{id}: {other} does not export targets"),
        }
    }

    /// Whether the pod passes the `selectors` blocks of discovery.kubernetes.
    fn selected(&self, body: &[Stmt], pod: &Pod) -> bool {
        inner_blocks(body)
            .filter(|(name, _)| *name == "selectors")
            .all(|(_, selector)| {
                assert_eq!(self.string(attr(selector, "role")), "pod");
                assert!(
                    find_attr(selector, "label").is_none(),
                    "label selectors are not simulated"
                );
                let field = find_attr(selector, "field").map(|f| self.string(f));
                field.is_none_or(|field| match field.split_once('=') {
                    Some(("spec.nodeName", node)) => node == pod.node,
                    _ => panic!("the evaluator does not know field selector {field}"),
                })
            })
    }

    fn resolve(&self, reference: &str) -> (String, &'a Stmt) {
        let (id, _export) = reference.rsplit_once('.').expect("a reference");
        let component = self
            .config
            .component(id)
            .unwrap_or_else(|| panic!("undefined component {id}"));
        (id.to_owned(), component)
    }

    fn send(&self, reference: &str, entries: Vec<Entry>, deliveries: &mut Vec<Delivery>) {
        let (id, component) = self.resolve(reference);
        let body = body(component);
        match kind_of(component) {
            "loki.process" => {
                let entries = self.run_stages(body, entries);
                for receiver in references(attr(body, "forward_to")) {
                    self.send(&receiver, entries.clone(), deliveries);
                }
            }
            "otelcol.receiver.loki" => {
                let output = inner_blocks(body)
                    .find(|(name, _)| *name == "output")
                    .map(|(_, output)| output)
                    .unwrap_or_else(|| panic!("{id} has no output"));
                for consumer in references(attr(output, "logs")) {
                    self.send(&consumer, entries.clone(), deliveries);
                }
            }
            "loki.write" | "otelcol.exporter.awss3" => {
                deliveries.extend(entries.into_iter().map(|entry| Delivery {
                    sink: id.clone(),
                    labels: entry.labels,
                    line: entry.line,
                }))
            }
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

    /// Runs the stage blocks of a body over a container's entries, in order.
    fn run_stages(&self, body: &[Stmt], mut entries: Vec<Entry>) -> Vec<Entry> {
        for (name, stage) in inner_blocks(body) {
            entries = match name {
                "stage.cri" => cri(entries),
                "stage.multiline" => {
                    let firstline = self.string(attr(stage, "firstline"));
                    multiline(entries, &compiled(&firstline))
                }
                "stage.match" => self.run_match(stage, entries),
                _ => entries
                    .into_iter()
                    .map(|entry| self.run_line_stage(name, stage, entry))
                    .collect(),
            };
        }
        entries
    }

    fn run_match(&self, stage: &[Stmt], entries: Vec<Entry>) -> Vec<Entry> {
        let selector = self.string(attr(stage, "selector"));
        let drop = find_attr(stage, "action")
            .map(|a| self.string(a))
            .as_deref()
            == Some("drop");
        let mut out = Vec::new();
        for entry in entries {
            if !matches_selector(&selector, &entry.labels) {
                out.push(entry);
            } else if !drop {
                out.extend(self.run_stages(stage, vec![entry]));
            }
        }
        out
    }

    /// A stage that works on one entry at a time.
    fn run_line_stage(&self, name: &str, stage: &[Stmt], mut entry: Entry) -> Entry {
        match name {
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
            "stage.static_labels" => entry.labels.extend(pairs(attr(stage, "values"), self)),
            "stage.label_drop" => {
                for label in strings(attr(stage, "values"), self) {
                    entry.labels.remove(&label);
                }
            }
            other => panic!("the evaluator does not know {other}"),
        }
        entry
    }

    fn string(&self, expr: &Expr) -> String {
        match expr {
            Expr::Str(text) => text.clone(),
            Expr::Call(path, args) if path.join(".") == "sys.env" => match args.as_slice() {
                [Expr::Str(name)] => self
                    .env
                    .iter()
                    .find(|(key, _)| key == name)
                    .map_or(String::new(), |(_, value)| (*value).to_owned()),
                _ => panic!("sys.env takes one string"),
            },
            Expr::Binary(left, op, right) if op == "+" => {
                format!("{}{}", self.string(left), self.string(right))
            }
            other => panic!("the evaluator cannot make a string of {other:?}"),
        }
    }
}

/// The CRI stage: `time stream flag content`; the `stream` label; partial (`P`) lines are
/// held per stream and joined with the next full (`F`) line.
fn cri(entries: Vec<Entry>) -> Vec<Entry> {
    let mut partial: BTreeMap<Labels, String> = BTreeMap::new();
    let mut out = Vec::new();
    for mut entry in entries {
        let mut parts = entry.line.splitn(4, ' ');
        let (Some(_time), Some(stream), Some(flag), Some(content)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("not a CRI line: {:?}", entry.line)
        };
        entry.labels.insert("stream".into(), stream.to_owned());
        let held = partial.entry(entry.labels.clone()).or_default();
        held.push_str(content);
        if flag == "F" {
            entry.line = std::mem::take(held);
            out.push(entry);
        }
    }
    out
}

/// The multi-line stage, per stream (label set): lines before a stream's first start line
/// pass through; a start line flushes the block before it; the end flushes every block.
fn multiline(entries: Vec<Entry>, firstline: &Regex) -> Vec<Entry> {
    let mut blocks: BTreeMap<Labels, Entry> = BTreeMap::new();
    let mut out = Vec::new();
    for entry in entries {
        let starts = firstline.is_match(&entry.line);
        match blocks.get_mut(&entry.labels) {
            None if !starts => out.push(entry),
            Some(block) if !starts => {
                block.line.push('\n');
                block.line.push_str(&entry.line);
            }
            _ => {
                if let Some(done) = blocks.insert(entry.labels.clone(), entry) {
                    out.push(done);
                }
            }
        }
    }
    out.extend(blocks.into_values());
    out
}

/// A doublestar glob as a regex: `**` crosses directories, `*` does not.
fn glob_regex(glob: &str) -> Regex {
    let mut regex = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                regex.push_str(".*");
            }
            '*' => regex.push_str("[^/]*"),
            '?' => regex.push_str("[^/]"),
            '{' | '}' | '[' | ']' => panic!("the evaluator does not expand {c} in globs"),
            c => regex.push_str(&regex::escape(&c.to_string())),
        }
    }
    regex.push('$');
    compiled(&regex)
}

/// The labels discovery.kubernetes gives a pod's container.
fn discovered(pod: &Pod) -> Labels {
    let mut labels: Labels = [
        ("__address__", "10.0.0.1"),
        ("__meta_kubernetes_namespace", pod.namespace),
        ("__meta_kubernetes_pod_name", pod.name),
        ("__meta_kubernetes_pod_uid", pod.uid),
        ("__meta_kubernetes_pod_container_name", pod.container),
        ("__meta_kubernetes_pod_node_name", pod.node),
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
    compiled(&format!("^(?:{regex})$"))
}

/// Compiles a regex once per test thread: the same few selectors and rules run for every
/// line of every table.
fn compiled(regex: &str) -> Regex {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        cache
            .borrow_mut()
            .entry(regex.to_owned())
            .or_insert_with(|| {
                Regex::new(regex).unwrap_or_else(|e| panic!("bad regex {regex}: {e}"))
            })
            .clone()
    })
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
    let pair = compiled(r#"([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)"#);
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

    fn entry(line: &str) -> Entry {
        Entry {
            labels: labels(&[("pod", "p")]),
            line: line.to_owned(),
            extracted: BTreeMap::new(),
        }
    }

    fn lines(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.line.as_str()).collect()
    }

    #[test]
    fn cri_joins_partial_lines_per_stream() {
        let out = cri(vec![
            entry("t stdout P {\"a\":"),
            entry("t stderr F oops"),
            entry("t stdout F 1}"),
        ]);
        assert_eq!(lines(&out), ["oops", "{\"a\":1}"]);
        assert_eq!(out[0].labels["stream"], "stderr");
    }

    #[test]
    fn multiline_joins_continuations_and_passes_early_ones_through() {
        let first = Regex::new(r"^[^\s#]").unwrap();
        let out = multiline(
            vec![
                entry("  orphan"),
                entry("Error"),
                entry("#0 a"),
                entry("  b"),
                entry("next"),
            ],
            &first,
        );
        assert_eq!(lines(&out), ["  orphan", "Error\n#0 a\n  b", "next"]);
    }

    #[test]
    fn globs_stay_within_directories() {
        let glob = glob_regex("/var/log/pods/*uid-1/web/*.log");
        assert!(glob.is_match("/var/log/pods/shop_web-1_uid-1/web/0.log"));
        assert!(!glob.is_match("/var/log/pods/shop_web-1_uid-1/web/x/0.log"));
        assert!(!glob.is_match("/var/log/pods/shop_web-1_uid-2/web/0.log"));
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
