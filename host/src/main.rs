//! argocd-wasm-plugin: an Argo CD Config Management Plugin that renders manifests through
//! sandboxed WebAssembly transform modules.

mod builtins;
mod cli;
mod diff;
#[cfg(test)]
mod fuzz_tests;
mod golden;
mod invocation;
mod manifests;
mod parameters;
mod paths;
mod pipeline;
mod runtime;
mod scaffold;
mod server;
mod text;
mod yaml;

fn main() -> std::process::ExitCode {
    cli::run()
}
