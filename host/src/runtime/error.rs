//! What can go wrong in the runtime, as types: callers (the pipeline, the daemon's metrics,
//! the exit message) tell failures apart by variant, never by their text.

use std::fmt;

use super::limits::Stop;

/// A module that could not be loaded, or a call that did not return normally.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Stopped from outside: its own deadline, the render's budget, or a client gone.
    #[error(transparent)]
    Stopped(#[from] Stop),
    /// The module tried to grow its memory past `--module-memory-mib`.
    #[error(
        "the module failed: memory cap exceeded: the module asked for {asked_mib} MiB, the cap \
         is {cap_mib} MiB (raise it with --module-memory-mib or \
         ARGOCD_WASM_PLUGIN_MODULE_MEMORY_MIB){stderr}"
    )]
    MemoryCap {
        asked_mib: usize,
        cap_mib: usize,
        stderr: StderrTail,
    },
    /// The module returned more than `--module-output-mib`.
    #[error(
        "the module returned more than the output cap of {cap_mib} MiB (raise it with \
         --module-output-mib or ARGOCD_WASM_PLUGIN_MODULE_OUTPUT_MIB; Argo CD refuses \
         manifests above its gRPC cap, 100 MiB by default){stderr}"
    )]
    OutputCap { cap_mib: usize, stderr: StderrTail },
    /// Recursion too deep, on the native stack or the module's own.
    #[error("the module overflowed its stack (recursion too deep?) and was stopped{stderr}")]
    StackOverflow { stderr: StderrTail },
    /// Any other trap: a panic, `unreachable`, a bad memory access, an exit.
    #[error("the module failed: {message}{stderr}")]
    Trap { message: String, stderr: StderrTail },
    /// The module's contract version is missing, never released, or newer than the host's.
    #[error("{0}")]
    Contract(String),
    /// Not a valid component, or wasmtime could not compile it.
    #[error("cannot compile the module: {0}")]
    Compile(String),
    /// The module imports what the host does not grant, or exports another world.
    #[error("{0}")]
    Link(String),
}

impl RuntimeError {
    /// The kind of failure, for metrics labels: `deadline`, `budget`, `cancelled`,
    /// `memory-cap`, `output-cap`, `trap`, `contract`, `compile`, `link`.
    pub fn kind(&self) -> &'static str {
        match self {
            RuntimeError::Stopped(Stop::CallDeadline(_)) => "deadline",
            RuntimeError::Stopped(Stop::RenderBudget(_)) => "budget",
            RuntimeError::Stopped(Stop::Cancelled) => "cancelled",
            RuntimeError::MemoryCap { .. } => "memory-cap",
            RuntimeError::OutputCap { .. } => "output-cap",
            RuntimeError::StackOverflow { .. } | RuntimeError::Trap { .. } => "trap",
            RuntimeError::Contract(_) => "contract",
            RuntimeError::Compile(_) => "compile",
            RuntimeError::Link(_) => "link",
        }
    }
}

/// The end of what a failed module wrote to stderr (a Rust panic message, typically),
/// escaped; shown after the failure as `; it wrote to stderr: …`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StderrTail(pub Option<String>);

impl fmt::Display for StderrTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(text) => write!(f, "; it wrote to stderr: {text}"),
            None => Ok(()),
        }
    }
}

/// The limiter's refusal to grow a module's memory, carried through wasmtime's trap so the
/// runtime can recognise it by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemoryCapExceeded {
    pub(crate) asked_bytes: usize,
    pub(crate) cap_bytes: usize,
}

impl fmt::Display for MemoryCapExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "memory cap exceeded: the module asked for {} MiB, the cap is {} MiB",
            self.asked_bytes >> 20,
            self.cap_bytes >> 20
        )
    }
}

impl std::error::Error for MemoryCapExceeded {}
