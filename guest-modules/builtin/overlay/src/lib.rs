//! `builtin:overlay`: `kubectl kustomize` (kustomize v5.5.0) on a loaded kustomization tree.
//! The host reads every kustomization of the tree and every file they name into one
//! [`kustomization::Tree`] and calls this module once with it as `with:`; the module builds
//! the tree as kustomize does ([`build`]) and returns the objects in kustomize's output order.
//! It never touches a file and never parses YAML.

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

    fn transform(&self, _ctx: &Context, objects: &mut Objects) -> Result<()> {
        objects.extend(build::build(&mut self.0.borrow_mut())?);
        Ok(())
    }
}

register!(Overlay);

#[cfg(test)]
mod tests;
