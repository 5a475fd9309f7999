//! Which objects a step sees: its `match:` and the kinds its module reads. Secrets are
//! withheld unless the step or the module names them (least privilege).

use anyhow::{Context as _, Result};
use regex::Regex;
use serde_json::Value;

use super::file::MatchSpec;

const SECRET: &str = "Secret";
/// What a module's `reads-kinds` says to see every kind, Secrets included.
const EVERY_KIND: &str = "*";

#[derive(Debug)]
pub struct Selector {
    kinds: Vec<String>,
    names: Vec<Regex>,
    labels: Vec<(String, String)>,
    /// Kinds the module reads; empty means all.
    module_kinds: Vec<String>,
    secrets_allowed: bool,
}

impl Selector {
    pub fn new(spec: &MatchSpec, module_kinds: &[String]) -> Result<Self> {
        let names = spec
            .names
            .iter()
            .map(|pattern| {
                Regex::new(&format!("^(?:{pattern})$"))
                    .with_context(|| format!("match.names: `{pattern}` is not a valid regex"))
            })
            .collect::<Result<_>>()?;
        let names_secret = |kinds: &[String]| kinds.iter().any(|kind| kind == SECRET);
        let reads_everything = module_kinds.iter().any(|kind| kind == EVERY_KIND);
        Ok(Self {
            kinds: spec.kinds.clone(),
            names,
            labels: spec.labels.clone().into_iter().collect(),
            module_kinds: if reads_everything {
                Vec::new()
            } else {
                module_kinds.to_vec()
            },
            secrets_allowed: reads_everything
                || names_secret(&spec.kinds)
                || names_secret(module_kinds),
        })
    }

    pub fn matches(&self, object: &Value) -> bool {
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let listed = |kinds: &[String]| kinds.is_empty() || kinds.iter().any(|k| k == kind);
        (kind != SECRET || self.secrets_allowed)
            && listed(&self.kinds)
            && listed(&self.module_kinds)
            && (self.names.is_empty() || self.names.iter().any(|name_re| name_re.is_match(name)))
            && self
                .labels
                .iter()
                .all(|(key, value)| object["metadata"]["labels"][key].as_str() == Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(kind: &str, name: &str, color: &str) -> Value {
        json!({"kind": kind, "metadata": {"name": name, "labels": {"color": color}}})
    }

    fn spec(yaml: &str) -> MatchSpec {
        crate::yaml::from_str(yaml, "match").unwrap()
    }

    #[test]
    fn all_criteria_must_hold_and_names_are_anchored() {
        let selector = Selector::new(
            &spec("{kinds: [Deployment], names: ['magento-.*'], labels: {color: green}}"),
            &[],
        )
        .unwrap();
        assert!(selector.matches(&object("Deployment", "magento-green", "green")));
        assert!(!selector.matches(&object("Deployment", "magento-green", "blue")));
        assert!(!selector.matches(&object("Service", "magento-green", "green")));
        assert!(!selector.matches(&object("Deployment", "old-magento-green", "green")));
    }

    #[test]
    fn secrets_need_to_be_named() {
        let everything = Selector::new(&MatchSpec::default(), &[]).unwrap();
        assert!(!everything.matches(&object("Secret", "db", "")));
        assert!(everything.matches(&object("ConfigMap", "db", "")));
        let by_step = Selector::new(&spec("{kinds: [Secret]}"), &[]).unwrap();
        assert!(by_step.matches(&object("Secret", "db", "")));
        let by_module = Selector::new(&MatchSpec::default(), &["Secret".into()]).unwrap();
        assert!(by_module.matches(&object("Secret", "db", "")));
        let everything = Selector::new(&MatchSpec::default(), &["*".into()]).unwrap();
        assert!(everything.matches(&object("Secret", "db", "")));
        assert!(everything.matches(&object("Service", "web", "")));
    }

    #[test]
    fn module_kinds_limit_what_the_step_sees() {
        let selector = Selector::new(&MatchSpec::default(), &["Deployment".into()]).unwrap();
        assert!(selector.matches(&object("Deployment", "a", "")));
        assert!(!selector.matches(&object("Service", "a", "")));
    }

    #[test]
    fn reports_a_bad_name_pattern() {
        let error = Selector::new(&spec("{names: ['(']}"), &[]).unwrap_err();
        assert!(error.to_string().contains("match.names"), "{error}");
    }
}
