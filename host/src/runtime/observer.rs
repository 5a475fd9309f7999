//! Hooks for whoever wants to count what the runtime does (the daemon's metrics).

use std::time::Duration;

/// Where a module came from when a render asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleSource {
    /// Already loaded in this process: nothing to compile or read.
    Memory,
    /// Compiled before, read from the disk cache.
    DiskCache,
    /// Compiled now.
    Compiled,
}

impl ModuleSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleSource::Memory => "memory",
            ModuleSource::DiskCache => "disk-cache",
            ModuleSource::Compiled => "compiled",
        }
    }
}

pub trait Observer: Send + Sync {
    fn module_loaded(&self, source: ModuleSource);
    /// A transform call finished (successfully or not) after `elapsed`.
    fn module_called(&self, module: &str, elapsed: Duration);
}
