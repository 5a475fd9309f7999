//! The built-in modules, compiled to components and embedded by the build script.

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// The component bytes of `builtin:NAME`.
pub fn get(name: &str) -> Option<&'static [u8]> {
    BUILTINS
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, wasm)| *wasm)
}

/// The names of all built-in modules, for error messages.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|(name, _)| *name)
}
