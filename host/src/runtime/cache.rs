//! The on-disk cache of compiled modules.
//!
//! Compiling a component takes ~100 ms; loading the compiled artifact takes well under a
//! millisecond. Artifacts are keyed by the module's sha256 and by a hash of everything in
//! the engine that affects compiled code (wasmtime version, target, settings), so a host
//! upgrade or a config change never loads a stale artifact.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct ModuleCache {
    /// `None` when caching is off: every load compiles.
    dir: Option<PathBuf>,
}

/// How a component was obtained, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Compiled,
    Cached,
}

impl ModuleCache {
    /// A cache under `root`, in a subdirectory for this engine's configuration.
    pub fn new(engine: &Engine, root: Option<&Path>) -> Self {
        let dir = root.map(|root| root.join(engine_key(engine)));
        Self { dir }
    }

    /// Loads the compiled form of `wasm` (whose sha256 is `digest`), compiling and storing
    /// it when it is not cached yet or the cached artifact is unusable.
    pub fn load(&self, engine: &Engine, digest: &str, wasm: &[u8]) -> Result<(Component, Origin)> {
        let Some(dir) = &self.dir else {
            return Ok((compile(engine, wasm)?, Origin::Compiled));
        };
        let path = dir.join(format!("{digest}.cwasm"));
        if path.exists() {
            // SAFETY: `deserialize_file` trusts its input. The cache directory is created
            // by this host with owner-only permissions and only ever holds artifacts it
            // wrote itself, atomically (temp file + rename).
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, Origin::Cached)),
                Err(error) => tracing::warn!(
                    path = %path.display(),
                    "ignoring unusable cached module ({error}); compiling again"
                ),
            }
        }
        let artifact = engine
            .precompile_component(wasm)
            .map_err(anyhow::Error::from)
            .context("cannot compile the module")?;
        if let Err(error) = store_atomically(dir, &path, &artifact) {
            tracing::warn!(dir = %dir.display(), "cannot cache the compiled module: {error:#}");
        }
        // SAFETY: the bytes were produced by `precompile_component` of this engine just now.
        let component = unsafe { Component::deserialize(engine, &artifact) }?;
        Ok((component, Origin::Compiled))
    }
}

fn compile(engine: &Engine, wasm: &[u8]) -> Result<Component> {
    Component::new(engine, wasm)
        .map_err(anyhow::Error::from)
        .context("cannot compile the module")
}

/// A key for everything in the engine that makes compiled code (in)compatible, the
/// wasmtime version included.
fn engine_key(engine: &Engine) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("engine-{:016x}", hasher.finish())
}

fn store_atomically(dir: &Path, path: &Path, artifact: &[u8]) -> Result<()> {
    create_private_dir(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(artifact)?;
    temp.persist(path)?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}
