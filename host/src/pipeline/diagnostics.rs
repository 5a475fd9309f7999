//! Turning a module's diagnostics into log lines and error messages that name the object
//! and field.

use std::fmt::Write as _;

use crate::runtime::{Diagnostic, ObjectRef, Severity};

/// `Deployment stage/web`, or `ClusterRole admin` without a namespace.
fn object_label(object: &ObjectRef) -> String {
    match &object.namespace {
        Some(namespace) => format!("{} {}/{}", object.kind, namespace, object.name),
        None => format!("{} {}", object.kind, object.name),
    }
}

/// One diagnostic as a line: `Deployment stage/web: spec.replicas: message`.
fn describe(diagnostic: &Diagnostic) -> String {
    let mut line = String::new();
    if let Some(object) = &diagnostic.object {
        write!(line, "{}: ", object_label(object)).expect("writing to a String cannot fail");
    }
    if let Some(field) = &diagnostic.field {
        write!(line, "{field}: ").expect("writing to a String cannot fail");
    }
    line.push_str(&diagnostic.message);
    line
}

/// Logs the warnings and notes; errors are left to [`summarize_errors`].
pub fn log_findings(step: &str, diagnostics: &[Diagnostic]) {
    for diagnostic in diagnostics {
        match diagnostic.severity {
            Severity::Warning => tracing::warn!("{step}: {}", describe(diagnostic)),
            Severity::Info => tracing::info!("{step}: {}", describe(diagnostic)),
            Severity::Error => {}
        }
    }
}

/// All error diagnostics in one message, one per line after the first; `None` if there
/// are none.
pub fn summarize_errors(diagnostics: &[Diagnostic]) -> Option<String> {
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|diagnostic| matches!(diagnostic.severity, Severity::Error))
        .map(describe)
        .collect();
    match errors.len() {
        0 => None,
        1 => Some(errors[0].clone()),
        count => Some(format!("{count} errors:\n  - {}", errors.join("\n  - "))),
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
}
