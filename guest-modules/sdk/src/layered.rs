//! Settings a step takes from several inputs, later overriding earlier: the step's `with:`
//! block (in Git), then an Argo CD parameter (set in the UI or with `argocd app set -p`),
//! then a plugin env variable (`argocd app set --plugin-env`, what CI and Argo CD Image
//! Updater write). Each value keeps the input it came from, which messages name.

use crate::types::split_list;
use crate::{Context, Diagnostic, ParameterValue, Result};

/// A value and the input it came from: `with.active`, ``parameter `images` item 2``,
/// `ARGOCD_ENV_ACTIVE_COLOUR`. Every message about the value should name the source, so
/// a user knows which of the layered inputs to fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it came from, as messages name it.
    pub source: String,
}

impl<T> Sourced<T> {
    /// A value from `source`.
    pub fn new(value: T, source: impl Into<String>) -> Self {
        Self {
            value,
            source: source.into(),
        }
    }

    /// The same source with a value derived from this one.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sourced<U> {
        Sourced::new(f(self.value), self.source)
    }
}

impl Sourced<String> {
    /// Each item of a list from one input, labelled `<label> item <n>` (counting from 1,
    /// as users do).
    pub fn numbered(label: &str, items: Vec<String>) -> Vec<Self> {
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| Sourced::new(item, format!("{label} item {}", i + 1)))
            .collect()
    }
}

/// How messages name a plugin env variable: with the prefix Argo CD adds.
fn env_source(name: &str) -> String {
    format!("ARGOCD_ENV_{name}")
}

fn parameter_source(name: &str) -> String {
    format!("parameter `{name}`")
}

impl Context {
    /// A one-value setting given in up to three places: `with` (the step's value, labelled
    /// by the caller, e.g. `with.active`), then the Argo CD parameter `parameter`, then the
    /// plugin env variable `env` (named without `ARGOCD_ENV_`). The last one that is set and
    /// not blank wins, trimmed; a blank value counts as unset, which is what clearing a
    /// field in Argo CD's UI sends. An error when the parameter is a list or a map.
    pub fn layered_str(
        &self,
        with: Option<Sourced<&str>>,
        parameter: &str,
        env: &str,
    ) -> Result<Option<Sourced<String>>> {
        let from_parameter = match self.param(parameter) {
            None => None,
            Some(ParameterValue::String(text)) => Some(text.as_str()),
            Some(_) => {
                return Err(Diagnostic::error(format!(
                    "{} must be one string, not a list or a map",
                    parameter_source(parameter)
                ))
                .code("parameter-not-a-string")
                .into());
            }
        };
        let candidates = [
            with,
            from_parameter.map(|text| Sourced::new(text, parameter_source(parameter))),
            self.env(env)
                .map(|text| Sourced::new(text, env_source(env))),
        ];
        Ok(candidates
            .into_iter()
            .flatten()
            .map(|candidate| candidate.map(str::trim))
            .rfind(|candidate| !candidate.value.is_empty())
            .map(|candidate| candidate.map(str::to_owned)))
    }

    /// The items of a list setting given after `with:`: the Argo CD parameter
    /// `parameter`'s (an array, or one string separated by commas or newlines), then the
    /// plugin env variable `env`'s, each labelled with its input and position
    /// (``parameter `images` item 2``, `ARGOCD_ENV_IMAGES item 1`). A module puts its own
    /// `with:` items first and lets later items win.
    pub fn layered_items(&self, parameter: &str, env: &str) -> Vec<Sourced<String>> {
        let mut items = self
            .param_list(parameter)
            .map(|list| Sourced::numbered(&parameter_source(parameter), list))
            .unwrap_or_default();
        items.extend(self.env_items(env));
        items
    }

    /// The items of a plugin env variable holding a list, labelled
    /// `ARGOCD_ENV_<NAME> item <n>`; none when it is unset.
    pub fn env_items(&self, env: &str) -> Vec<Sourced<String>> {
        self.env(env)
            .map(|text| Sourced::numbered(&env_source(env), split_list(text)))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Parameter, RawContext};

    fn context(parameter: Option<ParameterValue>, env: Option<&str>) -> Context {
        let mut raw = RawContext::empty("test");
        raw.parameters.extend(parameter.map(|value| Parameter {
            name: "colour".into(),
            value,
        }));
        raw.env
            .extend(env.map(|value| ("COLOUR".into(), value.into())));
        Context::new(raw)
    }

    fn winner(ctx: &Context, with: Option<&str>) -> Option<Sourced<String>> {
        let with = with.map(|value| Sourced::new(value, "with.colour"));
        ctx.layered_str(with, "colour", "COLOUR").unwrap()
    }

    #[test]
    fn the_last_input_that_is_not_blank_wins() {
        let string = |text: &str| Some(ParameterValue::String(text.into()));
        assert_eq!(winner(&context(None, None), None), None);
        assert_eq!(
            winner(&context(None, None), Some("blue")),
            Some(Sourced::new("blue".into(), "with.colour"))
        );
        assert_eq!(
            winner(&context(string(" green "), None), Some("blue")),
            Some(Sourced::new("green".into(), "parameter `colour`"))
        );
        assert_eq!(
            winner(&context(string("green"), Some("blue")), None),
            Some(Sourced::new("blue".into(), "ARGOCD_ENV_COLOUR"))
        );
        let cleared = winner(&context(string(""), Some(" ")), Some("blue"));
        assert_eq!(cleared.unwrap().source, "with.colour");
        let list = context(Some(ParameterValue::Array(vec!["a".into()])), None);
        let error = list.layered_str(None, "colour", "COLOUR").unwrap_err();
        assert!(error.message().contains("must be one string"));
    }

    #[test]
    fn list_items_come_parameter_first_and_numbered() {
        let ctx = context(Some(ParameterValue::String("a, b".into())), Some("c\n"));
        let items: Vec<(String, String)> = ctx
            .layered_items("colour", "COLOUR")
            .into_iter()
            .map(|item| (item.value, item.source))
            .collect();
        assert_eq!(
            items,
            [
                ("a".into(), "parameter `colour` item 1".into()),
                ("b".into(), "parameter `colour` item 2".into()),
                ("c".into(), "ARGOCD_ENV_COLOUR item 1".into()),
            ]
        );
    }
}
