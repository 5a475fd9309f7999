//! # argocd-wasm-sdk
//!
//! Write an argocd-wasm-plugin transform module as plain Rust. The SDK hides the WebAssembly
//! component glue: implement [`Module`] for a struct that doubles as the step's `with:`
//! config, call [`register!`], and build with `cargo build --target wasm32-wasip2 --release`.
//!
//! ```
//! use argocd_wasm_sdk::prelude::*;
//!
//! /// `with: {key: team, value: payments}` adds the label to every object.
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct AddLabel {
//!     key: String,
//!     value: String,
//! }
//!
//! impl Module for AddLabel {
//!     fn info() -> Info {
//!         Info::new("add-label", "0.1.0", "Adds one label to every object")
//!     }
//!
//!     fn transform(&self, _ctx: &Context, objects: &mut Objects) -> Result<()> {
//!         for object in objects.iter_mut() {
//!             object.set_label(&self.key, &self.value)?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! register!(AddLabel);
//! ```
//!
//! The same logic runs natively in `cargo test` through [`testing::TestRun`], and inside the
//! host as a sandboxed component: no files, no network, no environment, a fixed clock.

#![warn(missing_docs)]

mod context;
mod error;
pub mod json;
mod layered;
mod object;
mod path;
mod runner;
mod selector;
pub mod testing;
mod types;
mod workload;

pub use context::Context;
pub use error::Error;
pub use layered::Sourced;
pub use object::{Object, Objects};
pub use path::{FieldPath, Segment};
pub use selector::{matches_labels, selects};
pub use types::{
    AppInfo, Diagnostic, Info, ObjectRef, ParameterAnnouncement, ParameterKind, ParameterValue,
    Severity,
};
pub use workload::pod_template_path;

/// The version of the WIT contract this SDK builds modules for: the package version of the
/// WIT the SDK binds (`wit/transformer.wit`), read at compile time so the two cannot disagree.
/// [`register!`] stores it in the module's `argocd-wasm-plugin-contract` custom section,
/// which the host checks at load.
pub const CONTRACT_VERSION: &str = package_version(include_str!("../wit/transformer.wit"));

/// The `X.Y.Z` of the `package argocd:wasm-plugin@X.Y.Z;` line of a WIT file.
const fn package_version(wit: &str) -> &str {
    const PACKAGE: &[u8] = b"package argocd:wasm-plugin@";
    let bytes = wit.as_bytes();
    let mut start = 0;
    while !starts_at(bytes, start, PACKAGE) {
        start += 1;
        assert!(
            start < bytes.len(),
            "the WIT has no `package argocd:wasm-plugin@` line"
        );
    }
    let (_, rest) = bytes.split_at(start + PACKAGE.len());
    let mut len = 0;
    while rest[len] != b';' {
        len += 1;
    }
    match std::str::from_utf8(rest.split_at(len).0) {
        Ok(version) => version,
        Err(_) => panic!("the WIT package version is not UTF-8"),
    }
}

const fn starts_at(bytes: &[u8], at: usize, prefix: &[u8]) -> bool {
    let mut i = 0;
    while i < prefix.len() {
        if at + i >= bytes.len() || bytes[at + i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The result type of module code: the error holds every [`Diagnostic`] that fails the
/// render (see [`Error`]).
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A transform module. The implementing type is deserialized from the step's `with:` block
/// (an absent block is `{}`), so a module's config is just its fields.
pub trait Module: serde::de::DeserializeOwned {
    /// The module's name, version, description and the parameters it announces.
    fn info() -> Info;

    /// Checks the config beyond what deserializing it checks: every problem, errors and
    /// warnings. Called when the pipeline is loaded, before any object is touched, and again
    /// before each [`transform`](Module::transform), which never runs on a config with
    /// errors: `transform` need not check it again.
    fn validate(&self) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Transforms the objects the step matched. Return an error to fail the render with
    /// every diagnostic it holds; report findings that do not fail it (warnings, notes)
    /// through `ctx`.
    fn transform(&self, ctx: &Context, objects: &mut Objects) -> Result<()>;
}

/// Writes a line to the host's log, tagged with the step and module. Natively (in
/// `cargo test`) the line goes to stderr.
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    bindings::argocd::wasm_plugin::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

pub use bindings::argocd::wasm_plugin::host::LogLevel;

/// Everything a module usually needs, including serde's derives.
pub mod prelude {
    pub use crate::{
        Context, Diagnostic, Error, FieldPath, Info, Module, Object, Objects,
        ParameterAnnouncement, ParameterKind, ParameterValue, Result, Severity, Sourced, register,
    };
    pub use serde::Deserialize;
    pub use serde_json::{Value, json};
}

/// Makes a [`Module`] the component's export and records the contract version it was built
/// for. Use once per module crate. Outside wasm32 it exports the same entry points as plain
/// functions instead, so the crate's unit tests build natively.
#[macro_export]
macro_rules! register {
    ($module:ty) => {
        // Natively, what the component would export is only named, so the module counts as
        // used in builds without tests.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = $crate::__private::registered::<$module>();

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #[used]
            #[unsafe(link_section = "argocd-wasm-plugin-contract")]
            static CONTRACT: [u8; $crate::CONTRACT_VERSION.len()] =
                $crate::__private::contract_version_bytes();

            type __ArgocdWasmShell = $crate::__private::Shell<$module>;
            $crate::__private::bindings::__export_transformer!(
                __ArgocdWasmShell with_types_in $crate::__private::bindings
            );
        };
    };
}

/// The contract's generated glue, for the crate itself and the export [`register!`] writes.
use __private::bindings;

/// What [`register!`] expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::runner::Shell;

    /// The WIT contract's types, generated by wit-bindgen from `wit/` (a link to the
    /// released contract version in the repository's `wit/<version>/`, copied when the SDK
    /// is vendored). Modules see the types re-exported from the crate root, never the glue.
    /// On targets other than wasm32 the host import is a stub, which is why module logic
    /// can be unit-tested natively.
    #[allow(missing_docs)]
    pub mod bindings {
        wit_bindgen::generate!({
            path: "wit",
            world: "transformer",
            pub_export_macro: true,
            export_macro_name: "__export_transformer",
            default_bindings_module: "argocd_wasm_sdk::__private::bindings",
        });
    }

    /// Names module `M` where nothing else would natively.
    pub const fn registered<M: crate::Module>() {}

    /// The contract version as a byte array, for the custom section.
    pub const fn contract_version_bytes<const N: usize>() -> [u8; N] {
        let source = crate::CONTRACT_VERSION.as_bytes();
        let mut bytes = [0u8; N];
        let mut i = 0;
        while i < N {
            bytes[i] = source[i];
            i += 1;
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_version_is_the_wit_package_version() {
        let wit = "/// docs\npackage argocd:wasm-plugin@1.22.3;\n\ninterface types {}\n";
        assert_eq!(package_version(wit), "1.22.3");
        let numbers: Vec<&str> = CONTRACT_VERSION.split('.').collect();
        assert_eq!(numbers.len(), 3, "{CONTRACT_VERSION}");
        assert!(numbers.iter().all(|n| n.parse::<u64>().is_ok()));
    }

    /// The SDK's own version follows the contract's major.minor (see Cargo.toml).
    #[test]
    fn the_sdk_version_is_tied_to_the_contract() {
        let contract_line = CONTRACT_VERSION.rsplit_once('.').unwrap().0;
        let sdk_line = env!("CARGO_PKG_VERSION").rsplit_once('.').unwrap().0;
        assert_eq!(sdk_line, contract_line);
    }
}
