//! The WebAssembly runtime: compiles modules once, runs each call in a fresh, bounded
//! sandbox, and turns traps into messages a platform engineer can act on.

mod bindings;
mod cache;
mod contract;
mod error;
mod limits;
mod model;
mod observer;
mod sandbox;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use sha2::{Digest as _, Sha256};
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, Store, Trap, UpdateDeadline, WasmBacktrace};
use wasmtime_wasi::I32Exit;

pub use error::{RuntimeError, StderrTail};
pub use limits::{DEFAULT_RENDER_BUDGET, Limits, RenderBudget, Stop};
pub use model::{
    AppInfo, Context, Diagnostic, ModuleInfo, ObjectRef, Output, Parameter, ParameterAnnouncement,
    ParameterKind, ParameterValue, Severity,
};
pub use observer::{ModuleSource, Observer};

use crate::text::escape_control;

use bindings::Bound;
use cache::{ModuleCache, Origin};
use error::MemoryCapExceeded;
use sandbox::Sandbox;

/// How often the epoch advances.
const EPOCH_TICK: Duration = Duration::from_millis(5);
/// Ticks between two checks of a running call's deadline, budget and cancellation: a call
/// stops at most this many ticks (10 ms) after it should.
const CHECK_TICKS: u64 = 2;
/// Bytes a module may hand the host in one call beyond the output cap: its diagnostics and
/// the lists' own overhead.
const HOSTCALL_ALLOWANCE: usize = 8 << 20;
/// Frames of one function in a trap's backtrace (wasmtime keeps the innermost 20) from
/// which an out-of-bounds access counts as a stack overflow: a wasm32 module's data stack
/// lives in its linear memory, so deep recursion ends in an out-of-bounds access.
const RECURSION_FRAMES: usize = 16;

/// The engine, the linker that grants modules (almost) nothing, and the modules loaded so
/// far, each compiled once and pre-instantiated.
pub struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
    cache: ModuleCache,
    limits: Limits,
    loaded: Mutex<HashMap<String, Arc<LoadedModule>>>,
    /// Kept for its `Drop`, which stops the ticker thread.
    _ticker: EpochTicker,
    observer: Option<Arc<dyn Observer>>,
}

/// A module ready to instantiate in tens of microseconds.
pub(crate) struct LoadedModule {
    /// What the module's `describe()` said.
    pub(crate) info: ModuleInfo,
    /// The bindings of the contract version it was built for.
    bound: Bound,
}

/// Hex sha256 of bytes, the form pins and cache keys use.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Runtime {
    /// A runtime whose compiled modules are cached under `cache_dir` (no caching if `None`).
    pub fn new(limits: Limits, cache_dir: Option<&Path>) -> anyhow::Result<Self> {
        let engine = Engine::new(&engine_config()?).map_err(|e| anyhow!("{e}"))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        bindings::add_to_linker(&mut linker)?;
        Ok(Self {
            cache: ModuleCache::new(&engine, cache_dir),
            _ticker: EpochTicker::start(engine.clone()),
            engine,
            linker,
            limits,
            loaded: Mutex::new(HashMap::new()),
            observer: None,
        })
    }

    /// Looks compiled modules up first in `dir`, read-only artifacts made when the image
    /// was built (`serve --precompile-builtins`).
    pub fn with_precompiled_dir(mut self, dir: &Path) -> Self {
        self.cache = self.cache.with_precompiled(&self.engine, dir);
        self
    }

    /// Reports module loads and calls to `observer`.
    pub fn observed_by(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    fn notify(&self, event: impl FnOnce(&dyn Observer)) {
        if let Some(observer) = &self.observer {
            event(observer.as_ref());
        }
    }

    /// Loads a module: checks its contract version, compiles it (or loads it from the
    /// cache), pre-instantiates it and asks it to describe itself. Loading the same bytes
    /// again returns the module already loaded.
    ///
    /// `digest` is the hex sha256 of `wasm`: the caller has it already (a pin check, or
    /// the build script for built-in modules), and hashing a large module costs
    /// milliseconds on every kustomization level.
    pub(crate) fn load(
        &self,
        digest: &str,
        wasm: &[u8],
    ) -> Result<Arc<LoadedModule>, RuntimeError> {
        if let Some(module) = self.loaded.lock().expect("module map poisoned").get(digest) {
            self.notify(|o| o.module_loaded(ModuleSource::Memory));
            return Ok(module.clone());
        }
        let contract =
            contract::check(wasm).map_err(|error| RuntimeError::Contract(format!("{error:#}")))?;
        let started = Instant::now();
        let (component, origin) = self
            .cache
            .load(&self.engine, digest, wasm)
            .map_err(|error| RuntimeError::Compile(format!("{error:#}")))?;
        let (source, verb) = match origin {
            Origin::Compiled => (ModuleSource::Compiled, "compiled"),
            Origin::Cached => (ModuleSource::DiskCache, "loaded from the cache"),
            Origin::Precompiled => (
                ModuleSource::DiskCache,
                "loaded from the precompiled directory",
            ),
        };
        tracing::info!(module = %digest, "module {verb} in {:.2?}", started.elapsed());
        self.notify(|o| o.module_loaded(source));
        let pre = self.linker.instantiate_pre(&component).map_err(|error| {
            RuntimeError::Link(format!(
                "the module needs imports this host does not provide: {error:#}"
            ))
        })?;
        let bound = contract.bind(pre).map_err(|error| {
            RuntimeError::Link(format!(
                "the module does not export the transformer world of its contract: {error:#}"
            ))
        })?;
        let mut module = LoadedModule {
            info: ModuleInfo::default(),
            bound,
        };
        let unlimited = RenderBudget::unlimited();
        module.info = self.call(&module, "describe", &unlimited, |bound, store| {
            bound.describe(store)
        })?;
        let module = Arc::new(module);
        self.loaded
            .lock()
            .expect("module map poisoned")
            .insert(digest.to_owned(), module.clone());
        Ok(module)
    }

    /// Asks the module to check a step's `with:` config (JSON text).
    pub(crate) fn validate_config(
        &self,
        module: &LoadedModule,
        label: &str,
        config: &str,
        budget: &RenderBudget,
    ) -> Result<Vec<Diagnostic>, RuntimeError> {
        self.call(module, label, budget, |bound, store| {
            bound.validate_config(store, config)
        })
    }

    /// Runs the module's transform on the given objects, enforcing the output size cap.
    pub(crate) fn transform(
        &self,
        module: &LoadedModule,
        label: &str,
        ctx: &Context,
        resources: &[String],
        budget: &RenderBudget,
    ) -> Result<Result<Output, Vec<Diagnostic>>, RuntimeError> {
        let started = Instant::now();
        let result = self.call(module, label, budget, |bound, store| {
            bound.transform(store, ctx, resources)
        });
        self.notify(|o| o.module_called(&module.info.name, started.elapsed()));
        let result = result?;
        if let Ok(output) = &result {
            let size: usize = output.resources.iter().map(String::len).sum();
            if size > self.limits.output_bytes {
                return Err(self.output_cap_exceeded(StderrTail::default()));
            }
        }
        Ok(result)
    }

    /// One call in a fresh store: its own memory, its own deadline, nothing shared with any
    /// other call. It stops at its deadline, when the render's budget is spent, or when the
    /// render is cancelled, whichever comes first.
    fn call<R>(
        &self,
        module: &LoadedModule,
        label: &str,
        budget: &RenderBudget,
        run: impl FnOnce(&Bound, &mut Store<Sandbox>) -> wasmtime::Result<R>,
    ) -> Result<R, RuntimeError> {
        budget.check()?;
        let sandbox = Sandbox::new(&self.limits, label.to_owned());
        let stderr = sandbox.stderr();
        let mut store = Store::new(&self.engine, sandbox);
        store.limiter(|sandbox| sandbox);
        store.set_hostcall_fuel(self.limits.output_bytes.saturating_add(HOSTCALL_ALLOWANCE));
        store.set_epoch_deadline(CHECK_TICKS);
        store.epoch_deadline_callback(stop_when(budget.clone(), self.limits.deadline));
        run(&module.bound, &mut store).map_err(|error| self.explain_failure(error, &stderr))
    }

    /// Tells what stopped a call, by the type of wasmtime's error.
    fn explain_failure(&self, error: wasmtime::Error, stderr: &sandbox::Stderr) -> RuntimeError {
        if let Some(stop) = error.downcast_ref::<Stop>() {
            // Stopped from outside: its stderr says nothing about why.
            return RuntimeError::Stopped(*stop);
        }
        // The whole error, wasm backtrace included, for whoever debugs the module.
        tracing::debug!(
            "the module trapped: {}",
            escape_control(&format!("{error:?}"))
        );
        let stderr = StderrTail(stderr.tail());
        if let Some(cap) = cause::<MemoryCapExceeded>(&error) {
            return RuntimeError::MemoryCap {
                asked_mib: cap.asked_bytes >> 20,
                cap_mib: cap.cap_bytes >> 20,
                stderr,
            };
        }
        if is_stack_overflow(&error) {
            return RuntimeError::StackOverflow { stderr };
        }
        if let Some(exit) = cause::<I32Exit>(&error) {
            let message = format!("it exited with status {}", exit.0);
            return RuntimeError::Trap { message, stderr };
        }
        if cause::<Trap>(&error).is_some() {
            let message = error.root_cause().to_string();
            return RuntimeError::Trap { message, stderr };
        }
        // Neither a trap nor a stop: wasmtime refused to take the module's results. Running
        // out of hostcall fuel (set from the output cap) is the one way a well-formed
        // module gets here; wasmtime's error type for it is private, so it is recognised
        // as what remains, and its message is logged above.
        self.output_cap_exceeded(stderr)
    }

    fn output_cap_exceeded(&self, stderr: StderrTail) -> RuntimeError {
        RuntimeError::OutputCap {
            cap_mib: self.limits.output_bytes >> 20,
            stderr,
        }
    }
}

/// The first cause of type `T` in a wasmtime error's chain.
fn cause<T: std::error::Error + 'static>(error: &wasmtime::Error) -> Option<&T> {
    error.chain().find_map(|cause| cause.downcast_ref::<T>())
}

/// The epoch callback of one call: stops it when the render must stop or the call ran past
/// its own `deadline`, else checks again [`CHECK_TICKS`] later.
fn stop_when(
    budget: RenderBudget,
    deadline: Duration,
) -> impl FnMut(wasmtime::StoreContextMut<'_, Sandbox>) -> wasmtime::Result<UpdateDeadline>
+ Send
+ Sync
+ 'static {
    let started = Instant::now();
    move |_| {
        if let Some(stop) = budget.stop() {
            return Err(wasmtime::Error::new(stop));
        }
        if started.elapsed() >= deadline {
            return Err(wasmtime::Error::new(Stop::CallDeadline(deadline)));
        }
        Ok(UpdateDeadline::Continue(CHECK_TICKS))
    }
}

/// Whether a trap is a stack overflow: wasmtime's own (the native stack), or an
/// out-of-bounds access deep inside a recursion (the module's data stack).
fn is_stack_overflow(error: &wasmtime::Error) -> bool {
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => true,
        Some(Trap::MemoryOutOfBounds) => {
            error
                .downcast_ref::<WasmBacktrace>()
                .is_some_and(|backtrace| {
                    is_deep_recursion(backtrace.frames().iter().map(|f| f.func_index()))
                })
        }
        _ => false,
    }
}

/// Whether the innermost frames are one function calling itself, [`RECURSION_FRAMES`]
/// times or more.
fn is_deep_recursion(functions: impl Iterator<Item = u32>) -> bool {
    let mut functions = functions.peekable();
    let Some(&innermost) = functions.peek() else {
        return false;
    };
    functions.take_while(|&f| f == innermost).count() >= RECURSION_FRAMES
}

fn engine_config() -> anyhow::Result<Config> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    cache::compile_for_portable_baseline(&mut config)?;
    Ok(config)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on a background thread, which is what
/// interrupts a module that runs too long. Stops when the runtime is dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("cannot start the epoch ticker thread");
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_function_filling_the_backtrace_is_deep_recursion() {
        assert!(is_deep_recursion(std::iter::repeat_n(7, 20)));
        assert!(is_deep_recursion([7; 16].into_iter().chain([1, 2])));
        assert!(!is_deep_recursion([7, 7, 7, 1, 2].into_iter()));
        assert!(!is_deep_recursion(std::iter::empty()));
    }
}
