//! Which version of the module contract a component was built for.

use anyhow::{Context as _, Result, bail};
use wasmparser::{Parser, Payload};

/// The custom section the SDK writes the contract version into.
pub const SECTION: &str = "argocd-wasm-plugin-contract";

/// The contract version this host implements (`package argocd:wasm-plugin@…` in `wit/`).
pub const HOST_VERSION: Version = Version {
    major: 0,
    minor: 1,
    patch: 0,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
}

impl Version {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.').map(|part| part.parse().ok());
        let version = Self {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next()??,
        };
        parts.next().is_none().then_some(version)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Reads the contract version a component declares and checks this host can run it.
///
/// A module built for an earlier version keeps running (the host keeps older contracts'
/// bindings); one built for a newer version is refused, since it may rely on behaviour this
/// host does not have.
pub fn check(wasm: &[u8]) -> Result<Version> {
    let version = declared_version(wasm)?;
    if version > HOST_VERSION {
        bail!(
            "the module was built for contract {version}, newer than this host's {HOST_VERSION}: \
             upgrade argocd-wasm-plugin"
        );
    }
    if version.major != HOST_VERSION.major
        || (version.major == 0 && version.minor != HOST_VERSION.minor)
    {
        bail!(
            "the module was built for contract {version}, which this host ({HOST_VERSION}) \
             no longer runs: rebuild it with a current argocd-wasm-sdk"
        );
    }
    Ok(version)
}

fn declared_version(wasm: &[u8]) -> Result<Version> {
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.context("the module is not a valid WebAssembly component")?;
        if let Payload::CustomSection(section) = payload
            && section.name() == SECTION
        {
            let text = std::str::from_utf8(section.data()).unwrap_or_default();
            return Version::parse(text).with_context(|| {
                format!("the module's `{SECTION}` section holds `{text}`, not a version")
            });
        }
    }
    bail!(
        "the module declares no contract version (custom section `{SECTION}`): build it with \
         argocd-wasm-sdk's register! macro, or add the section yourself"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_strictly() {
        assert_eq!(Version::parse("0.1.0"), Some(HOST_VERSION));
        for bad in ["", "0.1", "0.1.0.1", "a.b.c", "0.1.x"] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn orders_versions_numerically() {
        assert!(Version::parse("0.10.0") > Version::parse("0.9.3"));
    }
}
