//! The built-in modules, compiled to components and embedded by the build script.

/// A module embedded in the binary.
pub(crate) struct Builtin {
    pub name: &'static str,
    pub wasm: &'static [u8],
    /// Hex sha256 of `wasm`, computed at build time.
    pub sha256: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// `builtin:NAME`.
pub(crate) fn get(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|builtin| builtin.name == name)
}

/// The names of all built-in modules, for error messages.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|builtin| builtin.name)
}
