//! argocd-wasm-plugin: an Argo CD Config Management Plugin that renders manifests through
//! sandboxed WebAssembly transform modules.

mod builtins;
mod cli;
mod diff;
mod golden;
mod invocation;
mod manifests;
mod parameters;
mod paths;
mod pipeline;
mod runtime;
mod scaffold;
mod server;
mod yaml;

fn main() -> std::process::ExitCode {
    cli::run()
}
