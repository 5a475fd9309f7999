//! argocd-wasm-plugin as a library: renders an Argo CD app directory through sandboxed
//! WebAssembly transform modules, and serves renders from a warm daemon. The command line
//! (`src/main.rs`, `src/cli/`) is a thin layer on it.
//!
//! The public surface is deliberately small: a [`Runtime`] (with its [`Limits`]), an
//! [`Invocation`](invocation::Invocation) saying what Argo CD passed, [`pipeline::render`]
//! and its stream form, the announced [`parameters`], an object's identity ([`object`]), the manifest stream format
//! ([`manifests`]), the YAML reader ([`yaml`]) and the daemon ([`server`]). Everything else is
//! `pub(crate)`.

mod builtins;
#[cfg(test)]
mod fuzz_tests;
pub mod invocation;
pub mod manifests;
pub mod object;
pub mod parameters;
mod paths;
pub mod pipeline;
pub mod runtime;
pub mod server;
mod text;
pub mod yaml;

pub use runtime::{AppInfo, Limits, RenderBudget, Runtime};
