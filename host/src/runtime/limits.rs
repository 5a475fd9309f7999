//! Bounds on a module call (CPU time, memory, output size) and on a whole render (its
//! budget, and cancellation).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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

impl Limits {
    /// The defaults, the one place they are written (the CLI's flags default to them).
    pub const DEFAULT: Limits = Limits {
        deadline: Duration::from_secs(10),
        memory_bytes: 512 << 20,
        output_bytes: 64 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The default time a whole render may take: a little under Argo CD's 60 s plugin
/// deadline, so a slow render fails with a message instead of being killed.
pub const DEFAULT_RENDER_BUDGET: Duration = Duration::from_secs(55);

/// The bounds of a whole render, across all its steps and module calls: a deadline (the
/// time left of Argo CD's), and a flag the daemon raises when the client went away.
#[derive(Debug, Clone)]
pub struct RenderBudget {
    total: Option<Duration>,
    deadline: Option<Instant>,
    cancelled: Arc<AtomicBool>,
}

/// Why a render was stopped before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// One module call ran past `--module-timeout`.
    CallDeadline(Duration),
    /// The render as a whole ran past its budget.
    RenderBudget(Duration),
    /// The client that asked for the render went away.
    Cancelled,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::CallDeadline(deadline) => write!(
                f,
                "the module ran past its CPU deadline of {deadline:?} and was stopped \
                 (raise it with --module-timeout or ARGOCD_WASM_PLUGIN_MODULE_TIMEOUT)"
            ),
            Stop::RenderBudget(total) => write!(
                f,
                "the render ran past its budget of {total:?} and was stopped (Argo CD would \
                 have killed it; raise it with --render-budget or \
                 ARGOCD_WASM_PLUGIN_RENDER_BUDGET if Argo CD's timeout allows)"
            ),
            Stop::Cancelled => f.write_str("the client went away; the render was stopped"),
        }
    }
}

impl std::error::Error for Stop {}

impl Default for RenderBudget {
    fn default() -> Self {
        Self::unlimited()
    }
}

impl RenderBudget {
    /// No deadline and no cancellation: for tests and module loading.
    pub fn unlimited() -> Self {
        Self {
            total: None,
            deadline: None,
            cancelled: Arc::default(),
        }
    }

    /// A budget of `total`, counted from now.
    pub fn starting_now(total: Duration) -> Self {
        Self {
            total: Some(total),
            deadline: Instant::now().checked_add(total),
            cancelled: Arc::default(),
        }
    }

    /// Stops the render at its next check (the running module within a few milliseconds).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// The time left; `None` when unlimited.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// Why the render must stop now, if it must.
    pub fn stop(&self) -> Option<Stop> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Some(Stop::Cancelled);
        }
        match (self.total, self.deadline) {
            (Some(total), Some(deadline)) if Instant::now() >= deadline => {
                Some(Stop::RenderBudget(total))
            }
            _ => None,
        }
    }

    /// `Err` when the render must stop (between steps).
    pub fn check(&self) -> Result<(), Stop> {
        match self.stop() {
            Some(stop) => Err(stop),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_stops_when_spent_or_cancelled() {
        let unlimited = RenderBudget::unlimited();
        assert!(unlimited.check().is_ok() && unlimited.remaining().is_none());
        let spent = RenderBudget::starting_now(Duration::ZERO);
        assert_eq!(spent.stop(), Some(Stop::RenderBudget(Duration::ZERO)));
        let long = RenderBudget::starting_now(Duration::from_secs(60));
        assert!(long.check().is_ok());
        long.clone().cancel();
        assert_eq!(long.stop(), Some(Stop::Cancelled), "clones share the flag");
    }
}
