//! The contract's types with the constructors module code wants.

use std::fmt;

pub use crate::bindings::argocd::wasm_plugin::types::{
    AppInfo, Diagnostic, Info, ObjectRef, ParameterAnnouncement, ParameterKind, ParameterValue,
    Severity,
};
pub(crate) use crate::bindings::argocd::wasm_plugin::types::{
    Context as RawContext, Output, Parameter,
};

impl Diagnostic {
    fn new(severity: Severity, message: impl Into<String>) -> Self {
        Self {
            severity,
            message: message.into(),
            object: None,
            field: None,
            code: None,
        }
    }

    /// A finding that fails the render.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message)
    }

    /// A finding worth a look that does not fail the render.
    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message)
    }

    /// A note.
    pub fn info(message: impl Into<String>) -> Self {
        Self::new(Severity::Info, message)
    }

    /// Names the object the finding is about.
    pub fn on(mut self, object: impl Into<ObjectRef>) -> Self {
        self.object = Some(object.into());
        self
    }

    /// Names the field the finding is about (a path such as `spec.replicas`).
    pub fn at(mut self, field: impl fmt::Display) -> Self {
        self.field = Some(field.to_string());
        self
    }

    /// Gives the finding a stable code that tests and tooling match instead of the message,
    /// which may be reworded: a kebab-case name such as `unknown-image`, which the SDK
    /// prefixes with the module's name (`image-tags/unknown-image`). A code that already has
    /// a `/` is kept as given, for findings a shared library names itself.
    pub fn code(mut self, code: &str) -> Self {
        self.code = Some(code.to_owned());
        self
    }

    /// Puts `module/` in front of a code given without one. In debug builds (`cargo test`)
    /// a code that is not kebab-case words, with at most one `/`, panics, so a malformed
    /// code is caught before it ships.
    pub(crate) fn qualified(mut self, module: &str) -> Self {
        if let Some(code) = &self.code {
            debug_assert!(
                is_code(code),
                "diagnostic code `{code}` is not kebab-case (`unknown-image`, or \
                 `module/unknown-image`)"
            );
            if !code.contains('/') {
                self.code = Some(format!("{module}/{code}"));
            }
        }
        self
    }

    /// Whether this diagnostic fails the render.
    pub fn is_error(&self) -> bool {
        matches!(self.severity, Severity::Error)
    }
}

/// `name` or `scope/name`, each part lowercase words joined by single dashes.
fn is_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('/').collect();
    parts.len() <= 2 && parts.iter().all(|part| is_kebab(part))
}

fn is_kebab(text: &str) -> bool {
    text.split('-').all(|word| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    })
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{severity}: ")?;
        if let Some(object) = &self.object {
            write!(f, "{object}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {}/{}", self.kind, namespace, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

impl Info {
    /// Describes a module that announces no parameters and reads every kind.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            description: description.to_owned(),
            parameters: Vec::new(),
            reads_kinds: Vec::new(),
        }
    }

    /// Announces a parameter to Argo CD's UI.
    pub fn parameter(mut self, parameter: ParameterAnnouncement) -> Self {
        self.parameters.push(parameter);
        self
    }

    /// Limits the objects the host passes to these kinds.
    pub fn reads(mut self, kinds: &[&str]) -> Self {
        self.reads_kinds = kinds.iter().map(|kind| kind.to_string()).collect();
        self
    }
}

impl ParameterAnnouncement {
    fn new(name: &str, kind: ParameterKind, tooltip: &str) -> Self {
        Self {
            name: name.to_owned(),
            title: String::new(),
            tooltip: tooltip.to_owned(),
            required: false,
            kind,
            default: None,
        }
    }

    /// A parameter holding one string.
    pub fn string(name: &str, tooltip: &str) -> Self {
        Self::new(name, ParameterKind::String, tooltip)
    }

    /// A parameter holding a list of strings. The module also accepts it as one string,
    /// comma or newline separated (see [`crate::Context::param_list`]).
    pub fn array(name: &str, tooltip: &str) -> Self {
        Self::new(name, ParameterKind::Array, tooltip)
    }

    /// A parameter holding string keys and values.
    pub fn map(name: &str, tooltip: &str) -> Self {
        Self::new(name, ParameterKind::Map, tooltip)
    }

    /// The title Argo CD's UI shows instead of the name.
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_owned();
        self
    }

    /// Marks the parameter as required in the UI.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The value the UI shows when the Application sets none. Argo CD never sends it: a
    /// module applies its own default when [`crate::Context::param`] returns `None`.
    pub fn default(mut self, value: ParameterValue) -> Self {
        self.default = Some(value);
        self
    }
}

impl ParameterValue {
    /// The value as a list: an array as is, a string split at commas and newlines (empty
    /// items dropped), a map as `key=value` items.
    pub fn to_list(&self) -> Vec<String> {
        match self {
            ParameterValue::String(text) => split_list(text),
            ParameterValue::Array(items) => items.clone(),
            ParameterValue::Map(pairs) => pairs.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        }
    }
}

/// Splits a comma- or newline-separated list, trimming items and dropping empty ones.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

impl AppInfo {
    /// App facts for local runs and tests: every field empty.
    pub fn empty() -> Self {
        Self {
            name: String::new(),
            namespace: String::new(),
            project: String::new(),
            revision: String::new(),
            revision_short: String::new(),
            source_path: String::new(),
            source_repo_url: String::new(),
            source_target_revision: String::new(),
            kube_version: String::new(),
            kube_api_versions: Vec::new(),
        }
    }

    /// `ARGOCD_APP_REVISION_SHORT_8`: the revision's first 8 characters, as Argo CD cuts
    /// it. Not a field of the contract: derived from `revision`, which modules get whole.
    pub fn revision_short_8(&self) -> &str {
        self.revision.get(..8).unwrap_or(&self.revision)
    }
}

impl RawContext {
    /// A context with `{}` config, no parameters and no env, for tests.
    pub fn empty(step: &str) -> Self {
        Self {
            step: step.to_owned(),
            app: AppInfo::empty(),
            config: "{}".to_owned(),
            parameters: Vec::new(),
            env: Vec::new(),
        }
    }
}

#[cfg(test)]
mod app_info_tests {
    use super::*;

    #[test]
    fn codes_are_kebab_case_and_get_the_module_prefix() {
        for good in ["unknown-image", "images/invalid-image", "x2"] {
            assert!(is_code(good), "{good}");
        }
        for bad in ["", "Unknown", "a--b", "a/b/c", "a_b", "-a", "a/"] {
            assert!(!is_code(bad), "{bad}");
        }
        let local = Diagnostic::error("x").code("unmatched-image");
        assert_eq!(
            local.qualified("image-tags").code.as_deref(),
            Some("image-tags/unmatched-image")
        );
        let full = Diagnostic::error("x").code("images/invalid-image");
        assert_eq!(
            full.qualified("image-tags").code.as_deref(),
            Some("images/invalid-image")
        );
    }

    #[test]
    fn revision_short_8_is_cut_from_the_revision() {
        let mut app = AppInfo::empty();
        app.revision = "0123456789abcdef".into();
        assert_eq!(app.revision_short_8(), "01234567");
        app.revision = "v1.2".into();
        assert_eq!(app.revision_short_8(), "v1.2");
    }
}
