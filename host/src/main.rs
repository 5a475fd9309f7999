//! argocd-wasm-plugin: an Argo CD Config Management Plugin that renders manifests through
//! sandboxed WebAssembly transform modules.

mod builtins;
mod cli;
mod invocation;
mod manifests;
mod parameters;
mod paths;
mod pipeline;
mod runtime;
mod server;

fn main() -> std::process::ExitCode {
    cli::run()
}
