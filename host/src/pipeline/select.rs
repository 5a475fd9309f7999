//! Which objects a step sees: its `match:` and the kinds its module reads. Secrets are
//! withheld unless the step grants them: the app's owner decides, not the module, whose
//! declared kinds only ever narrow what it sees (least privilege).

use anyhow::{Context as _, Result};
use regex::Regex;
use serde_json::Value;

use super::file::{Allow, MatchSpec};
use crate::object::ObjectId;

const SECRET: &str = "Secret";
/// What a module's `reads-kinds` says to see every kind the step grants.
const EVERY_KIND: &str = "*";

#[derive(Debug)]
pub(super) struct Selector {
    kinds: Vec<String>,
    names: Vec<Regex>,
    labels: Vec<(String, String)>,
    /// Kinds the module reads; empty means all the step grants.
    module_kinds: Vec<String>,
    secrets_allowed: bool,
}

impl Selector {
    /// The selector of a step with this `match:` and `allow:` whose module reads
    /// `module_kinds`.
    pub(super) fn new(spec: &MatchSpec, allow: &Allow, module_kinds: &[String]) -> Result<Self> {
        let names = spec
            .names
            .iter()
            .map(|pattern| {
                Regex::new(&format!("^(?:{pattern})$"))
                    .with_context(|| format!("match.names: `{pattern}` is not a valid regex"))
            })
            .collect::<Result<_>>()?;
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
            secrets_allowed: allow.read_secrets || spec.kinds.iter().any(|kind| kind == SECRET),
        })
    }

    pub(super) fn matches(&self, object: &Value) -> bool {
        let ObjectId { kind, name, .. } = ObjectId::of(object);
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

    fn selector(spec: &MatchSpec, module_kinds: &[&str]) -> Selector {
        let kinds: Vec<String> = module_kinds.iter().map(|kind| kind.to_string()).collect();
        Selector::new(spec, &Allow::default(), &kinds).unwrap()
    }

    #[test]
    fn all_criteria_must_hold_and_names_are_anchored() {
        let selector = selector(
            &spec("{kinds: [Deployment], names: ['magento-.*'], labels: {color: green}}"),
            &[],
        );
        assert!(selector.matches(&object("Deployment", "magento-green", "green")));
        assert!(!selector.matches(&object("Deployment", "magento-green", "blue")));
        assert!(!selector.matches(&object("Service", "magento-green", "green")));
        assert!(!selector.matches(&object("Deployment", "old-magento-green", "green")));
    }

    #[test]
    fn secrets_need_the_steps_grant() {
        let everything = selector(&MatchSpec::default(), &[]);
        assert!(!everything.matches(&object("Secret", "db", "")));
        assert!(everything.matches(&object("ConfigMap", "db", "")));
        let by_match = selector(&spec("{kinds: [Secret]}"), &[]);
        assert!(by_match.matches(&object("Secret", "db", "")));
        let grant = Allow {
            read_secrets: true,
            ..Allow::default()
        };
        let by_allow = Selector::new(&MatchSpec::default(), &grant, &[]).unwrap();
        assert!(by_allow.matches(&object("Secret", "db", "")));
    }

    #[test]
    fn a_module_cannot_grant_itself_secrets() {
        for declared in [&["Secret"][..], &["*"]] {
            let selector = selector(&MatchSpec::default(), declared);
            assert!(
                !selector.matches(&object("Secret", "db", "")),
                "{declared:?}"
            );
        }
        assert!(selector(&MatchSpec::default(), &["*"]).matches(&object("Service", "web", "")));
    }

    #[test]
    fn module_kinds_limit_what_the_step_sees() {
        let narrowed = selector(&MatchSpec::default(), &["Deployment"]);
        assert!(narrowed.matches(&object("Deployment", "a", "")));
        assert!(!narrowed.matches(&object("Service", "a", "")));
        let granted_but_not_read = selector(&spec("{kinds: [Secret, ConfigMap]}"), &["ConfigMap"]);
        assert!(!granted_but_not_read.matches(&object("Secret", "db", "")));
    }

    #[test]
    fn reports_a_bad_name_pattern() {
        let error = Selector::new(&spec("{names: ['(']}"), &Allow::default(), &[]).unwrap_err();
        assert!(error.to_string().contains("match.names"), "{error}");
    }
}
