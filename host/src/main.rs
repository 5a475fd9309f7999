//! argocd-wasm-plugin, the command: Argo CD's entry points (`generate`, `parameters`,
//! `serve`) and the authoring kit (`render`, `test`, `new module`), on the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
