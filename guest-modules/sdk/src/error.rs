//! The error of module code: every diagnostic that fails the render, not only the first.

use std::fmt;

use crate::Diagnostic;

/// Why a transform (or a helper it called) fails the render: one or more diagnostics.
///
/// A policy that finds ten offending objects returns one `Error` naming all ten
/// ([`Error::unless_empty`]). It is one `Vec` wide, so `Result<T>` stays small however large
/// a [`Diagnostic`] is, and never empty. `?` turns a [`Diagnostic`] into it.
#[derive(Debug, Clone)]
pub struct Error(Vec<Diagnostic>);

impl Error {
    /// `Ok(())` when `problems` is empty, else an error carrying all of them: for checks
    /// that collect every problem before failing.
    pub fn unless_empty(problems: Vec<Diagnostic>) -> crate::Result<()> {
        match problems.is_empty() {
            true => Ok(()),
            false => Err(Self(problems)),
        }
    }

    /// The diagnostics, in the order they were found.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.0
    }

    /// The diagnostics, to pass on or report.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.0
    }

    /// The first diagnostic, for callers that stop at the first problem.
    pub fn first(&self) -> &Diagnostic {
        &self.0[0]
    }

    /// The first diagnostic's message: what a caller that words the error its own way
    /// usually wants.
    pub fn message(&self) -> &str {
        &self.first().message
    }
}

impl From<Diagnostic> for Error {
    fn from(diagnostic: Diagnostic) -> Self {
        Self(vec![diagnostic])
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_every_problem_and_stays_small() {
        assert!(Error::unless_empty(Vec::new()).is_ok());
        let error = Error::unless_empty(vec![
            Diagnostic::error("first").at("with.a"),
            Diagnostic::error("second"),
        ])
        .unwrap_err();
        assert_eq!(error.diagnostics().len(), 2);
        assert_eq!(error.message(), "first");
        assert_eq!(error.to_string(), "error: with.a: first\nerror: second");
        assert!(size_of::<crate::Result<()>>() <= size_of::<Vec<Diagnostic>>());
    }
}
