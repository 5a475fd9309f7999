//! Why a render failed, as types: the CLI prints them, the daemon's metrics count them by
//! [`RenderError::kind`], and golden cases read the codes of the findings that failed it.

use std::fmt;

use super::diagnostics::Findings;
use crate::runtime::RuntimeError;

/// A failed render.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A step failed: loading its module, checking its config, running it, or checking
    /// what it returned.
    #[error("step {step} ({module})")]
    Step {
        step: StepId,
        /// The step's `module:` reference, escaped.
        module: String,
        #[source]
        source: StepError,
    },
    /// The app itself: its pipeline file, its manifests or kustomization, Argo CD's inputs,
    /// or a render that would prune everything.
    #[error(transparent)]
    Pipeline(anyhow::Error),
}

/// How messages name a step: by its name once its module is loaded, else by its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepId {
    /// 1-based, in the pipeline file.
    Number(usize),
    /// Escaped.
    Name(String),
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepId::Number(number) => write!(f, "{number}"),
            StepId::Name(name) => write!(f, "`{name}`"),
        }
    }
}

/// What went wrong in one step.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The module file: missing, too large, a pin that does not match, a bad `match:`.
    #[error(transparent)]
    Module(anyhow::Error),
    /// The runtime: the module's contract, compiling it, or a call stopped or trapped.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The module refused the step's `with:` block.
    #[error("invalid `with:` config")]
    Config(#[source] Findings),
    /// The module reported errors about its input.
    #[error(transparent)]
    Findings(#[from] Findings),
    /// The module failed without a finding that says why.
    #[error("the module failed without saying why")]
    Unexplained,
    /// What the module returned: not Kubernetes objects, or past the guardrails.
    #[error(transparent)]
    Output(anyhow::Error),
}

impl RenderError {
    /// The kind of failure, as the daemon's `reason` label counts it: the runtime's kinds
    /// (`deadline`, `budget`, `cancelled`, `memory-cap`, `output-cap`, `trap`, `contract`,
    /// `compile`, `link`), `diagnostics`, `module`, `output`, `io` or `pipeline`.
    pub fn kind(&self) -> &'static str {
        match self {
            RenderError::Step { source, .. } => source.kind(),
            RenderError::Pipeline(error) => pipeline_kind(error),
        }
    }

    /// The codes of the findings that failed the render.
    pub fn codes(&self) -> Vec<&str> {
        match self {
            RenderError::Step {
                source: StepError::Config(findings) | StepError::Findings(findings),
                ..
            } => findings.codes().collect(),
            _ => Vec::new(),
        }
    }
}

impl StepError {
    fn kind(&self) -> &'static str {
        match self {
            StepError::Module(_) => "module",
            StepError::Runtime(error) => error.kind(),
            StepError::Config(_) | StepError::Findings(_) | StepError::Unexplained => "diagnostics",
            StepError::Output(_) => "output",
        }
    }
}

/// An error of the app itself: `io` when a file could not be read, else `pipeline`. A
/// module a kustomization runs fails as a step (`kustomize.rs`), so nothing here is the
/// runtime's.
fn pipeline_kind(error: &anyhow::Error) -> &'static str {
    if error.chain().any(|cause| cause.is::<std::io::Error>()) {
        "io"
    } else {
        "pipeline"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Stop;

    #[test]
    fn kinds_come_from_the_types() {
        let step = |source| RenderError::Step {
            step: StepId::Name("tags".into()),
            module: "builtin:image-tags".into(),
            source,
        };
        let stopped = RuntimeError::Stopped(Stop::Cancelled);
        assert_eq!(step(StepError::Runtime(stopped)).kind(), "cancelled");
        assert_eq!(step(StepError::Unexplained).kind(), "diagnostics");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let unreadable = anyhow::Error::new(io).context("cannot read cm.yaml");
        assert_eq!(RenderError::Pipeline(unreadable).kind(), "io");
        let empty = anyhow::anyhow!("the render produced no objects");
        assert_eq!(RenderError::Pipeline(empty).kind(), "pipeline");
    }

    #[test]
    fn a_step_is_named_by_name_or_number() {
        let failed = RenderError::Step {
            step: StepId::Number(2),
            module: "modules/x.wasm".into(),
            source: StepError::Unexplained,
        };
        let message = format!("{:#}", anyhow::Error::new(failed));
        assert_eq!(
            message,
            "step 2 (modules/x.wasm): the module failed without saying why"
        );
    }
}
