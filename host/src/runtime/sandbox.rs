//! The state of one module instance: a WASI context that grants nothing, and the limits
//! the store enforces.
//!
//! Determinism is part of the sandbox: a module sees the Unix epoch as the time, a clock
//! that never advances, and random numbers from a fixed seed, so the same inputs always
//! give the same output (otherwise Argo CD would show endless drift).

use std::time::Duration;

use rand_core::{Infallible, TryRng};
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::clocks::{HostMonotonicClock, HostWallClock};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::error::MemoryCapExceeded;
use super::limits::Limits;
use super::model::LogLevel;
use crate::text::{escape_control, quote};

/// Log lines one module call may write; more are dropped so a chatty module cannot flood
/// the sidecar's log.
const MAX_LOG_LINES: usize = 200;
/// Longest log line kept, in bytes.
const MAX_LOG_LINE: usize = 2048;
/// How much of a module's stderr is kept: enough for a Rust panic message.
const STDERR_CAPACITY: usize = 16 * 1024;
/// How much of that an error message quotes.
const STDERR_QUOTED: usize = 2048;

pub(super) struct Sandbox {
    wasi: WasiCtx,
    stderr: Stderr,
    table: ResourceTable,
    memory_cap: usize,
    /// Who is running, for log lines: `step (module)`.
    label: String,
    log_lines: usize,
}

impl Sandbox {
    pub(super) fn new(limits: &Limits, label: String) -> Self {
        let stderr = Stderr(MemoryOutputPipe::new(STDERR_CAPACITY));
        Self {
            wasi: deny_all_wasi(&stderr),
            stderr,
            table: ResourceTable::new(),
            memory_cap: limits.memory_bytes,
            label,
            log_lines: 0,
        }
    }

    /// A handle on what the module writes to stderr (a Rust panic message, typically).
    pub(super) fn stderr(&self) -> Stderr {
        self.stderr.clone()
    }
}

/// A module's stderr, kept in memory so a trap's message can quote it.
#[derive(Clone)]
pub(super) struct Stderr(MemoryOutputPipe);

impl Stderr {
    /// The last part of what was written, if anything was, control characters escaped.
    pub(super) fn tail(&self) -> Option<String> {
        let contents = self.0.contents();
        let text = String::from_utf8_lossy(&contents);
        let text = text.trim();
        let mut start = text.len().saturating_sub(STDERR_QUOTED);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        let omitted = match start {
            0 => "",
            _ => "…",
        };
        (!text.is_empty()).then(|| format!("{omitted}{}", escape_control(&text[start..])))
    }
}

/// No env, args, preopens, sockets or stdin; stdout discarded, stderr kept for error
/// messages; fixed clocks and seeded randomness.
fn deny_all_wasi(stderr: &Stderr) -> WasiCtx {
    WasiCtxBuilder::new()
        .stderr(stderr.0.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(SplitMix64(0x0005_EED0_FA11_5EED))
        .insecure_random(SplitMix64(0x1DEA_5EED))
        .insecure_random_seed(0)
        .build()
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ResourceLimiter for Sandbox {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            // An error (not `Ok(false)`) traps at once with a message that says why, instead
            // of letting the module see a failed allocation and abort obscurely.
            return Err(wasmtime::Error::new(MemoryCapExceeded {
                asked_bytes: desired,
                cap_bytes: self.memory_cap,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

impl Sandbox {
    /// A line the module logs (every contract version's `host.log`), tagged with who runs.
    pub(super) fn write_log(&mut self, level: LogLevel, message: &str) {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES {
            return;
        }
        let message = quote(message, MAX_LOG_LINE);
        let module = self.label.as_str();
        match level {
            LogLevel::Debug => tracing::debug!(module, "{message}"),
            LogLevel::Info => tracing::info!(module, "{message}"),
            LogLevel::Warn => tracing::warn!(module, "{message}"),
            LogLevel::Error => tracing::error!(module, "{message}"),
        }
    }
}

/// A clock stopped at the Unix epoch: modules cannot observe real time.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// SplitMix64: tiny, well-known, and defined by its few lines here, so its sequence can
/// never change under us with a dependency upgrade.
struct SplitMix64(u64);

impl TryRng for SplitMix64 {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}
