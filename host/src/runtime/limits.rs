//! Per-call bounds on a module: CPU time, memory, output size.

use std::time::Duration;

/// The bounds every module call runs under. Defaults suit Argo CD's 60 s generate deadline
/// with room for several steps.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock budget of one call, enforced by epoch interruption.
    pub deadline: Duration,
    /// Largest linear memory a module may grow to.
    pub memory_bytes: usize,
    /// Largest total size of the objects a module returns.
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(10),
            memory_bytes: 512 << 20,
            output_bytes: 256 << 20,
        }
    }
}
