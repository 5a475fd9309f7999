//! `builtin:overlay`: `kubectl kustomize` (kustomize v5.5.0) on a loaded kustomization tree.
//! The host reads every kustomization of the tree and every file they name into one
//! [`kustomization::Tree`] and calls this module once with it as `with:`; the module builds
//! the tree as kustomize does ([`build`]) and returns the objects in kustomize's output order.
//! It never touches a file and never parses YAML.

// The build's steps return one `Diagnostic` (see `Result` below), which clippy finds large.
// Moving them to `argocd_wasm_sdk::Result`, whose error is one `Vec` wide, lifts this; it
// is left to the branch that owns the build's internals.
#![allow(clippy::result_large_err)]

mod base64;
pub mod build;
pub mod config;
mod fieldpath;
mod fieldspec;
pub mod generators;
pub mod hash;
mod identity;
mod json6902;
mod kinds;
mod kv;
mod labels;
mod metadata;
mod namerefs;
mod openapi;
mod patches;
mod plugins;
mod replacements;
pub mod resource;
mod scalar;
mod selector;
mod smp;
mod sort;
mod tconfig;
mod vars;

use std::cell::RefCell;

use argocd_wasm_sdk::prelude::*;
use kustomization::Tree;

/// The result of the build's steps: one diagnostic, as kustomize stops at its first error.
type Result<T, E = Diagnostic> = std::result::Result<T, E>;

/// The module: its config is the whole loaded tree. Building moves the objects of its
/// resource files out of it instead of copying them (half the memory of a large app), hence
/// the cell: the SDK lends a module's config only by shared reference.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct Overlay(RefCell<Box<Tree>>);

impl Module for Overlay {
    fn info() -> Info {
        Info::new(
            "overlay",
            env!("CARGO_PKG_VERSION"),
            "kubectl kustomize on a kustomization tree the host loaded",
        )
        .reads(&["*"])
    }

    fn transform(&self, _ctx: &Context, objects: &mut Objects) -> argocd_wasm_sdk::Result<()> {
        let built = build::build(&mut self.0.borrow_mut()).map_err(with_code)?;
        objects.extend(built);
        Ok(())
    }
}

/// The build's error with a code: `overlay/kustomize-build-failed` unless a step of the
/// build named a more precise one. The message says what and where; the code lets tests
/// and tooling tell a failed build from other failures.
fn with_code(error: Diagnostic) -> Diagnostic {
    match error.code {
        Some(_) => error,
        None => error.code("kustomize-build-failed"),
    }
}

register!(Overlay);

#[cfg(test)]
mod tests;
