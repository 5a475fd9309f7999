//! The on-disk caches of compiled modules, and the CPU baseline that makes them portable.
//!
//! Compiling a component takes ~100 ms; loading the compiled artifact takes well under a
//! millisecond. Artifacts are keyed by the module's sha256 and by a hash of everything in
//! the engine that affects compiled code (wasmtime version, target, settings), so a host
//! upgrade or a config change never loads a stale artifact.
//!
//! Two directories, both optional:
//! - the **precompiled** directory, read-only: the built-in modules compiled when the
//!   container image was built (`serve --precompile-builtins`), looked up first;
//! - the **cache** directory, writable (an emptyDir in the pod): whatever this host
//!   compiles, e.g. a team's modules, is stored there.
//!
//! Code is compiled for a fixed CPU baseline, not for the features of the machine that
//! compiles ([`compile_for_portable_baseline`]), so artifacts made on the image builder load
//! on every node.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// The x86-64 features compiled code may use: the x86-64-v2 level (SSE3, SSSE3, SSE4.1,
/// SSE4.2, POPCNT, CMPXCHG16B), which every x86-64 server CPU since 2009 has. Wasmtime
/// refuses to start on a CPU without them, with a message naming the feature.
#[cfg(target_arch = "x86_64")]
const BASELINE_FEATURES: &[&str] = &[
    "has_sse3",
    "has_ssse3",
    "has_sse41",
    "has_sse42",
    "has_popcnt",
    "has_cmpxchg16b",
];

/// Other architectures compile for the architecture's baseline.
#[cfg(not(target_arch = "x86_64"))]
const BASELINE_FEATURES: &[&str] = &[];

/// Makes `config` compile for [`BASELINE_FEATURES`] instead of the CPU it runs on. Naming
/// the host's own target is what turns wasmtime's feature detection off.
pub fn compile_for_portable_baseline(config: &mut Config) -> Result<()> {
    config
        .target(&target_lexicon::HOST.to_string())
        .map_err(|error| anyhow!("cannot target this host: {error}"))?;
    for feature in BASELINE_FEATURES {
        // SAFETY: these are Cranelift ISA flags for this very architecture; wasmtime checks
        // at `Engine::new` that the CPU has each of them and fails otherwise.
        unsafe {
            config.cranelift_flag_enable(feature);
        }
    }
    Ok(())
}

pub struct ModuleCache {
    /// Read-only artifacts from the image build; `None` when not configured.
    precompiled: Option<PathBuf>,
    /// Where new artifacts are stored; `None` when caching is off.
    dir: Option<PathBuf>,
}

/// How a component was obtained, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Compiled,
    /// From the writable cache directory.
    Cached,
    /// From the read-only precompiled directory.
    Precompiled,
}

impl ModuleCache {
    /// A cache under `root`, in a subdirectory for this engine's configuration.
    pub fn new(engine: &Engine, root: Option<&Path>) -> Self {
        Self {
            precompiled: None,
            dir: root.map(|root| root.join(engine_key(engine))),
        }
    }

    /// Also looks artifacts up, first, under the read-only `root` (same layout as a cache).
    pub fn with_precompiled(self, engine: &Engine, root: &Path) -> Self {
        Self {
            precompiled: Some(root.join(engine_key(engine))),
            ..self
        }
    }

    /// Loads the compiled form of `wasm` (whose sha256 is `digest`), compiling and storing
    /// it when it is in neither directory or the stored artifact is unusable.
    pub fn load(&self, engine: &Engine, digest: &str, wasm: &[u8]) -> Result<(Component, Origin)> {
        let artifact = format!("{digest}.cwasm");
        let stored = [
            (&self.precompiled, Origin::Precompiled),
            (&self.dir, Origin::Cached),
        ];
        for (dir, origin) in stored {
            let Some(dir) = dir else { continue };
            if let Some(component) = deserialize(engine, &dir.join(&artifact)) {
                return Ok((component, origin));
            }
        }
        let Some(dir) = &self.dir else {
            return Ok((compile(engine, wasm)?, Origin::Compiled));
        };
        let compiled = engine
            .precompile_component(wasm)
            .map_err(anyhow::Error::from)
            .context("cannot compile the module")?;
        if let Err(error) = store_atomically(dir, &dir.join(&artifact), &compiled) {
            tracing::warn!(dir = %dir.display(), "cannot cache the compiled module: {error:#}");
        }
        // SAFETY: the bytes were produced by `precompile_component` of this engine just now.
        let component = unsafe { Component::deserialize(engine, &compiled) }?;
        Ok((component, Origin::Compiled))
    }
}

/// The artifact at `path`, if there is a usable one.
fn deserialize(engine: &Engine, path: &Path) -> Option<Component> {
    if !path.exists() {
        return None;
    }
    // SAFETY: `deserialize_file` trusts its input. Both directories only ever hold
    // artifacts this host wrote: the cache directory is created by it with owner-only
    // permissions and written atomically (temp file + rename); the precompiled directory
    // is written by `serve --precompile-builtins` when the image is built and is read-only
    // in the container.
    match unsafe { Component::deserialize_file(engine, path) } {
        Ok(component) => Some(component),
        Err(error) => {
            tracing::warn!(
                path = %path.display(),
                "ignoring unusable compiled module ({error}); compiling again"
            );
            None
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// On a CPU with more than the baseline, the native engine's key includes the extra
    /// features; the portable one must not, or image artifacts would miss on other nodes.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_portable_key_ignores_the_cpus_extra_features() {
        let mut config = Config::new();
        compile_for_portable_baseline(&mut config).unwrap();
        let portable = engine_key(&Engine::new(&config).unwrap());
        if std::is_x86_feature_detected!("avx2") {
            assert_ne!(portable, engine_key(&Engine::default()));
        }
    }
}
