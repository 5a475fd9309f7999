//! Which version of the module contract a component was built for, and whether this host
//! runs it.
//!
//! The versions come from the WIT files the host has bindings for (`bindings::CONTRACTS`):
//! the `package argocd:wasm-plugin@X.Y.Z;` line is the one place a version is written.

use anyhow::{Context as _, Result, bail};
use wasmparser::{Parser, Payload};

use super::bindings::{CONTRACTS, Contract};

/// The custom section the SDK writes the contract version into.
pub(super) const SECTION: &str = "argocd-wasm-plugin-contract";

/// The contract versions this host has bindings for, oldest first.
fn supported() -> Vec<Version> {
    CONTRACTS.iter().map(version_of).collect()
}

fn version_of(contract: &Contract) -> Version {
    package_version(contract.wit).expect("every bound WIT file names its package version")
}

/// The contract version this host implements: the newest it has bindings for.
pub(super) fn host_version() -> Version {
    *supported()
        .last()
        .expect("the host binds at least one contract")
}

/// The version in a WIT file's `package argocd:wasm-plugin@X.Y.Z;` line.
fn package_version(wit: &str) -> Option<Version> {
    wit.lines()
        .find_map(|line| line.strip_prefix("package argocd:wasm-plugin@"))
        .and_then(|rest| Version::parse(rest.strip_suffix(';')?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Version {
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

    /// Whether bindings for this version run a module built for `module`: the same release
    /// line (major and minor), no newer patch.
    fn runs(self, module: Version) -> bool {
        self.major == module.major && self.minor == module.minor && module.patch <= self.patch
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Reads the contract version a component declares, checks this host can run it and
/// returns the bindings it runs with.
///
/// A module built for an earlier released version keeps running: the host keeps the
/// bindings of every version in `wit/` (a patch release of a version runs modules built for
/// its earlier patches). One built for a newer version is refused, since it may rely on
/// behaviour this host does not have.
pub(super) fn check(wasm: &[u8]) -> Result<&'static Contract> {
    let version = declared_version(wasm)?;
    let host = host_version();
    if version > host {
        bail!(
            "the module was built for contract {version}, newer than this host's {host}: \
             upgrade argocd-wasm-plugin"
        );
    }
    if let Some(contract) = CONTRACTS.iter().find(|c| version_of(c).runs(version)) {
        return Ok(contract);
    }
    let list: Vec<String> = supported().iter().map(Version::to_string).collect();
    bail!(
        "the module was built for contract {version}, which this host does not run (it runs \
         {}): rebuild it with a current argocd-wasm-sdk",
        list.join(", ")
    )
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
    use std::path::Path;

    fn version(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn parses_versions_strictly() {
        assert_eq!(
            Version::parse("0.1.0"),
            Some(Version {
                major: 0,
                minor: 1,
                patch: 0
            })
        );
        for bad in ["", "0.1", "0.1.0.1", "a.b.c", "0.1.x"] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn orders_versions_numerically() {
        assert!(Version::parse("0.10.0") > Version::parse("0.9.3"));
    }

    #[test]
    fn bindings_run_their_release_line_up_to_their_patch() {
        let bound = version("0.2.3");
        for runs in ["0.2.0", "0.2.3"] {
            assert!(bound.runs(version(runs)), "{runs}");
        }
        for refused in ["0.2.4", "0.1.9", "0.3.0", "1.2.0"] {
            assert!(!bound.runs(version(refused)), "{refused}");
        }
    }

    #[test]
    fn reads_the_wit_package_line() {
        let wit = "/// docs\npackage argocd:wasm-plugin@0.12.3;\n\ninterface types {}\n";
        assert_eq!(package_version(wit), Some(version("0.12.3")));
        assert_eq!(package_version("package other:thing@1.0.0;"), None);
    }

    fn repository() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
    }

    /// `wit/` holds one directory per released version, named by its package version, and
    /// the host has bindings for each of them.
    #[test]
    fn every_released_contract_on_disk_has_host_bindings() {
        let mut on_disk: Vec<Version> = std::fs::read_dir(repository().join("wit"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .map(|dir| {
                let wit = std::fs::read_to_string(dir.join("transformer.wit")).unwrap();
                let declared = package_version(&wit).unwrap();
                let name = dir.file_name().unwrap().to_string_lossy();
                assert_eq!(declared.to_string(), name, "{}", dir.display());
                declared
            })
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, supported());
    }

    /// The one contract version, as the SDK, a module built today and the docs know it: the
    /// docs name the host's (the newest bound); the SDK binds a released version the host
    /// runs (the newest once it moves), its own version follows it, and the modules built
    /// with it declare it.
    #[test]
    fn the_sdk_modules_and_docs_agree_on_the_contract_version() {
        let host = host_version();
        let docs = std::fs::read_to_string(repository().join("docs/modules.md")).unwrap();
        assert!(docs.contains(&format!("`argocd:wasm-plugin@{host}`")));
        let sdk_wit = repository().join("guest-modules/sdk/wit/transformer.wit");
        let sdk = package_version(&std::fs::read_to_string(sdk_wit).unwrap()).unwrap();
        assert_eq!(sdk, host, "the SDK binds the newest contract");
        let built = Path::new(env!("GUEST_WASM_DIR")).join("add_label.wasm");
        let section = declared_version(&std::fs::read(&built).unwrap()).unwrap();
        assert_eq!(section, sdk, "the contract section of {}", built.display());
        let sdk_manifest =
            std::fs::read_to_string(repository().join("guest-modules/sdk/Cargo.toml")).unwrap();
        let line = format!("version = \"{}.{}.", sdk.major, sdk.minor);
        assert!(
            sdk_manifest.contains(&line),
            "the SDK's version follows {sdk}"
        );
    }
}
