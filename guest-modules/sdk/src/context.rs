//! What a transform may know besides the objects, and where it reports findings.

use std::cell::RefCell;

use crate::types::RawContext;
use crate::types::split_list;
use crate::{AppInfo, Diagnostic, Error, ParameterValue, Result};

/// The render context of one step: app facts, parameters, plugin env, and the diagnostics
/// reported so far.
pub struct Context {
    raw: RawContext,
    diagnostics: RefCell<Vec<Diagnostic>>,
}

impl Context {
    pub(crate) fn new(raw: RawContext) -> Self {
        Self {
            raw,
            diagnostics: RefCell::new(Vec::new()),
        }
    }

    /// The pipeline step's name.
    pub fn step(&self) -> &str {
        &self.raw.step
    }

    /// The Argo CD Application's facts.
    pub fn app(&self) -> &AppInfo {
        &self.raw.app
    }

    /// An Argo CD parameter by name (`ARGOCD_APP_PARAMETERS`, or `--param` locally).
    pub fn param(&self, name: &str) -> Option<&ParameterValue> {
        self.raw
            .parameters
            .iter()
            .rev()
            .find(|parameter| parameter.name == name)
            .map(|parameter| &parameter.value)
    }

    /// A list parameter. Accepts an array, or one string separated by commas or newlines,
    /// as users type it in Argo CD's UI.
    pub fn param_list(&self, name: &str) -> Option<Vec<String>> {
        self.param(name).map(ParameterValue::to_list)
    }

    /// A string parameter; `None` when absent or not a string.
    pub fn param_str(&self, name: &str) -> Option<&str> {
        match self.param(name)? {
            ParameterValue::String(text) => Some(text),
            _ => None,
        }
    }

    /// A plugin env variable by name without the `ARGOCD_ENV_` prefix (`IMAGES` for
    /// `ARGOCD_ENV_IMAGES`). Never the sidecar's own environment.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.raw
            .env
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A plugin env variable holding a comma- or newline-separated list.
    pub fn env_list(&self, name: &str) -> Option<Vec<String>> {
        self.env(name).map(split_list)
    }

    /// Records a finding that does not stop the transform. Warnings and notes go with the
    /// output; an error-severity finding still fails the render once the transform returns
    /// (prefer returning it in the transform's [`crate::Error`]).
    pub fn report(&self, diagnostic: Diagnostic) {
        self.diagnostics.borrow_mut().push(diagnostic);
    }

    /// Ends a transform that collected its findings: reports the warnings and notes among
    /// them, and fails with the errors, if there are any.
    pub fn conclude(&self, findings: Vec<Diagnostic>) -> Result<()> {
        let (errors, others): (Vec<Diagnostic>, Vec<Diagnostic>) =
            findings.into_iter().partition(Diagnostic::is_error);
        others.into_iter().for_each(|finding| self.report(finding));
        Error::unless_empty(errors)
    }

    pub(crate) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics.into_inner()
    }
}
