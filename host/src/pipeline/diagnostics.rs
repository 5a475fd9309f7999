//! Turning a module's diagnostics into log lines and error messages that name the object
//! and field. A module's text is untrusted: it is escaped, each diagnostic is cut at
//! [`MAX_DIAGNOSTIC_BYTES`] and at most [`MAX_QUOTED`] of each kind are quoted, so one
//! module cannot flood the stderr Argo CD shows in its UI.

use std::fmt::Write as _;

use crate::object::ObjectId;
use crate::runtime::{Diagnostic, ObjectRef, Severity};
use crate::text::{bounded_list, quote};

/// Longest diagnostic quoted, in bytes.
const MAX_DIAGNOSTIC_BYTES: usize = 2048;
/// Errors quoted in one message, and warnings or notes logged per step call.
const MAX_QUOTED: usize = 20;

/// `Deployment stage/web`, or `ClusterRole admin` without a namespace.
fn object_label(object: &ObjectRef) -> String {
    let id = ObjectId {
        kind: &object.kind,
        namespace: object.namespace.as_deref().unwrap_or_default(),
        name: &object.name,
        api_version: &object.api_version,
    };
    id.to_string()
}

/// One diagnostic as a line: `[code] Deployment stage/web: spec.replicas: message`, escaped
/// and bounded; the code, when the module gives one, is what tests and tooling match on.
fn describe(diagnostic: &Diagnostic) -> String {
    quote(&describe_raw(diagnostic), MAX_DIAGNOSTIC_BYTES)
}

fn describe_raw(diagnostic: &Diagnostic) -> String {
    let mut line = String::new();
    if let Some(code) = &diagnostic.code {
        write!(line, "[{code}] ").expect("writing to a String cannot fail");
    }
    if let Some(object) = &diagnostic.object {
        write!(line, "{}: ", object_label(object)).expect("writing to a String cannot fail");
    }
    if let Some(field) = &diagnostic.field {
        write!(line, "{field}: ").expect("writing to a String cannot fail");
    }
    line.push_str(&diagnostic.message);
    line
}

/// Logs the warnings and notes, at most [`MAX_QUOTED`] of each; errors are left to
/// [`summarize_errors`].
pub(super) fn log_findings(step: &str, diagnostics: &[Diagnostic]) {
    let warnings = lines(diagnostics, Severity::Warning);
    let notes = lines(diagnostics, Severity::Info);
    for line in bounded_list(&warnings, MAX_QUOTED) {
        tracing::warn!("{step}: {line}");
    }
    for line in bounded_list(&notes, MAX_QUOTED) {
        tracing::info!("{step}: {line}");
    }
}

/// The diagnostics of one severity, as lines.
fn lines(diagnostics: &[Diagnostic], severity: Severity) -> Vec<String> {
    diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.severity == severity)
        .map(describe)
        .collect()
}

/// The error findings of a step's module, as an error: its message is their summary, and
/// whoever handles it can read their codes.
#[derive(Debug)]
pub struct Findings(Vec<Diagnostic>);

impl Findings {
    /// The findings of `diagnostics` that are errors, if there are any.
    pub fn errors(diagnostics: &[Diagnostic]) -> Option<Self> {
        let errors: Vec<Diagnostic> = diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
            .cloned()
            .collect();
        (!errors.is_empty()).then_some(Self(errors))
    }

    /// The codes of the findings that have one.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|finding| finding.code.as_deref())
    }
}

impl std::fmt::Display for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&summarize_errors(&self.0).unwrap_or_default())
    }
}

impl std::error::Error for Findings {}

/// The error diagnostics in one message, one per line after the first, at most
/// [`MAX_QUOTED`]; `None` if there are none.
fn summarize_errors(diagnostics: &[Diagnostic]) -> Option<String> {
    let errors = lines(diagnostics, Severity::Error);
    match errors.len() {
        0 => None,
        1 => Some(errors[0].clone()),
        count => Some(format!(
            "{count} errors:\n  - {}",
            bounded_list(&errors, MAX_QUOTED).join("\n  - ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(message: &str, namespace: Option<&str>, field: Option<&str>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            object: Some(ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: namespace.map(Into::into),
                name: "web".into(),
            }),
            field: field.map(Into::into),
            code: None,
        }
    }

    #[test]
    fn names_object_and_field() {
        let one = [error("too big", Some("stage"), Some("spec.replicas"))];
        assert_eq!(
            summarize_errors(&one).unwrap(),
            "Deployment stage/web: spec.replicas: too big"
        );
        let two = [error("a", None, None), error("b", None, None)];
        assert_eq!(
            summarize_errors(&two).unwrap(),
            "2 errors:\n  - Deployment web: a\n  - Deployment web: b"
        );
    }

    #[test]
    fn the_code_leads_the_line() {
        let coded = Diagnostic {
            code: Some("image-tags/unknown-image".into()),
            ..error("no such image", Some("stage"), None)
        };
        assert_eq!(
            summarize_errors(&[coded]).unwrap(),
            "[image-tags/unknown-image] Deployment stage/web: no such image"
        );
    }

    #[test]
    fn quotes_are_escaped_and_bounded() {
        let many: Vec<Diagnostic> = (0..100).map(|_| error("x", None, None)).collect();
        let summary = summarize_errors(&many).unwrap();
        assert!(summary.starts_with("100 errors:"), "{summary}");
        assert!(summary.ends_with("… 80 more"), "{summary}");
        let huge = [error(
            &format!("\x1b[2J{}", "y".repeat(1 << 20)),
            None,
            None,
        )];
        let summary = summarize_errors(&huge).unwrap();
        assert!(summary.len() < 3000, "{} bytes", summary.len());
        assert!(
            summary.starts_with("Deployment web: \\u{1b}[2J"),
            "{summary}"
        );
        assert!(summary.ends_with("more bytes)"), "{summary}");
    }
}
