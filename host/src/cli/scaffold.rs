//! `argocd-wasm-plugin new module NAME`: a module crate on the SDK that builds and passes
//! its golden test as generated, anywhere: the SDK (and the contract's WIT it binds) is
//! embedded in this binary and vendored into the crate under `vendor/argocd-wasm-sdk`, so
//! the crate needs no checkout of this repository and no network but crates.io.
//! The templates are in `host/templates/new-module/`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Args;

include!(concat!(env!("OUT_DIR"), "/sdk_files.rs"));

/// A new crate's Cargo.lock: the SDK's dependencies at the versions this repository tests.
const SDK_LOCK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sdk-Cargo.lock"));

/// Where the SDK goes inside a module crate (the template's Cargo.toml names it).
const VENDORED_SDK: &str = "vendor/argocd-wasm-sdk";

/// What starts the SDK's version requirement in the dependency line of a module crate.
const VERSION_KEY: &str = "version = \"";

/// The generated files: path in the crate, template.
const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../templates/new-module/Cargo.toml.tmpl"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/new-module/gitignore.tmpl"),
    ),
    (
        "README.md",
        include_str!("../../templates/new-module/README.md.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/new-module/lib.rs.tmpl"),
    ),
    (
        "tests/cases/labels-deployments/wasm-pipeline.yaml",
        include_str!("../../templates/new-module/case/wasm-pipeline.yaml"),
    ),
    (
        "tests/cases/labels-deployments/input.yaml",
        include_str!("../../templates/new-module/case/input.yaml"),
    ),
    (
        "tests/cases/labels-deployments/expected.yaml",
        include_str!("../../templates/new-module/case/expected.yaml"),
    ),
];

#[derive(Args)]
pub struct NewModuleArgs {
    /// The module's name in kebab-case (`require-team-label`): the crate's name, the
    /// module's name, and the directory created unless --dir is given.
    name: String,
    /// The directory to create [default: ./NAME]. It must not exist (but see --update-sdk).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Replace the vendored SDK of an existing module crate with this binary's, and the
    /// SDK version its Cargo.toml names; change nothing else.
    #[arg(long)]
    update_sdk: bool,
}

/// The names a template uses.
struct Names {
    /// `require-team-label`: crate and module name.
    module: String,
    /// `require_team_label`: the `.wasm` file's stem.
    file_stem: String,
    /// `RequireTeamLabel`: the config struct.
    type_name: String,
}

pub fn new_module(args: &NewModuleArgs) -> Result<()> {
    check_kebab_case(&args.name)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if args.update_sdk {
        return update_sdk(&dir);
    }
    if dir.exists() {
        bail!(
            "{} already exists; refusing to overwrite it (to upgrade its SDK only, add \
             --update-sdk)",
            dir.display()
        );
    }
    let names = Names::new(&args.name);
    for (relative, template) in FILES {
        write_file(&dir.join(relative), names.fill(template).as_bytes())?;
    }
    vendor_sdk(&dir)?;
    write_file(&dir.join("Cargo.lock"), SDK_LOCK)?;
    eprintln!(
        "created module `{}` in {} on argocd-wasm-sdk {}; next: see its README.md",
        args.name,
        dir.display(),
        sdk_version()
    );
    Ok(())
}

/// Re-vendors the SDK of a crate `new module` created, and names the new version in its
/// Cargo.toml, so the upgrade shows in review.
fn update_sdk(dir: &Path) -> Result<()> {
    let manifest = dir.join("Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}: is it a module crate?", manifest.display()))?;
    let Some(updated) = with_sdk_version(&text, sdk_version()) else {
        bail!(
            "{} does not depend on the vendored SDK: set `argocd-wasm-sdk = {{ path = \
             \"{VENDORED_SDK}\" }}` in it, then run this again",
            manifest.display()
        );
    };
    let vendored = dir.join(VENDORED_SDK);
    if vendored.exists() {
        fs::remove_dir_all(&vendored)
            .with_context(|| format!("cannot remove {}", vendored.display()))?;
    }
    vendor_sdk(dir)?;
    write_file(&manifest, updated.as_bytes())?;
    eprintln!(
        "{} now has argocd-wasm-sdk {}; rebuild and rerun its tests",
        dir.display(),
        sdk_version()
    );
    Ok(())
}

/// The manifest with the vendored SDK's dependency line requiring `version`; `None` when no
/// line depends on the vendored SDK. A line without a version gets one.
fn with_sdk_version(manifest: &str, version: &str) -> Option<String> {
    let path = format!("path = \"{VENDORED_SDK}\"");
    let mut found = false;
    let lines: Vec<String> = manifest
        .lines()
        .map(|line| {
            if !line.contains(&path) {
                return line.to_owned();
            }
            found = true;
            match line.split_once(VERSION_KEY) {
                Some((before, rest)) => {
                    let after = rest.split_once('"').map_or("", |(_, after)| after);
                    format!("{before}{VERSION_KEY}{version}\"{after}")
                }
                None => line.replacen(&path, &format!("{path}, {VERSION_KEY}{version}\""), 1),
            }
        })
        .collect();
    found.then(|| lines.join("\n") + "\n")
}

fn vendor_sdk(crate_dir: &Path) -> Result<()> {
    let vendored = crate_dir.join(VENDORED_SDK);
    for (relative, bytes) in SDK_FILES {
        write_file(&vendored.join(relative), bytes)?;
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::create_dir_all(path.parent().expect("generated files are inside the crate"))?;
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The embedded SDK's version, from its Cargo.toml.
fn sdk_version() -> &'static str {
    SDK_FILES
        .iter()
        .find(|(path, _)| *path == "Cargo.toml")
        .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
        .and_then(|manifest| {
            manifest
                .lines()
                .find_map(|line| line.strip_prefix("version = \""))
        })
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the embedded SDK's Cargo.toml has a version line")
}

fn check_kebab_case(name: &str) -> Result<()> {
    let words_ok = name.split('-').all(|word| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    if !words_ok || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        bail!(
            "`{name}` is not a kebab-case name: use lowercase letters, digits and single \
             dashes, starting with a letter (e.g. `require-team-label`)"
        );
    }
    Ok(())
}

impl Names {
    fn new(module: &str) -> Self {
        Self {
            module: module.to_owned(),
            file_stem: module.replace('-', "_"),
            type_name: module.split('-').map(capitalize).collect(),
        }
    }

    fn fill(&self, template: &str) -> String {
        template
            .replace("__NAME__", &self.module)
            .replace("__CRATE__", &self.file_stem)
            .replace("__TYPE__", &self.type_name)
            .replace("__SDK_VERSION__", sdk_version())
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_kebab_case() {
        for good in ["a", "require-team-label", "pdb2-for-x"] {
            assert!(check_kebab_case(good).is_ok(), "{good}");
        }
        for bad in ["", "Foo", "a_b", "a--b", "-a", "a-", "2fa", "a b"] {
            assert!(check_kebab_case(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn templates_get_every_name_filled() {
        let names = Names::new("require-team-label");
        assert_eq!(names.type_name, "RequireTeamLabel");
        for (path, template) in FILES {
            let filled = names.fill(template);
            assert!(!filled.contains("__"), "{path} keeps a placeholder");
        }
        assert!(names.fill(FILES[0].1).contains(VENDORED_SDK));
    }

    #[test]
    fn the_embedded_sdk_is_a_whole_crate() {
        let paths: Vec<&str> = SDK_FILES.iter().map(|(path, _)| *path).collect();
        for needed in ["Cargo.toml", "src/lib.rs", "wit/transformer.wit"] {
            assert!(paths.contains(&needed), "{needed} in {paths:?}");
        }
        assert!(sdk_version().split('.').all(|n| n.parse::<u64>().is_ok()));
    }

    #[test]
    fn refuses_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let args = NewModuleArgs {
            name: "team-label".into(),
            dir: Some(dir.path().to_path_buf()),
            update_sdk: false,
        };
        let error = new_module(&args).unwrap_err();
        assert!(
            error.to_string().contains("refusing to overwrite"),
            "{error}"
        );
    }

    #[test]
    fn update_sdk_replaces_only_the_vendored_sdk() {
        let dir = tempfile::tempdir().unwrap();
        let crate_dir = dir.path().join("team-label");
        let args = |update_sdk| NewModuleArgs {
            name: "team-label".into(),
            dir: Some(crate_dir.clone()),
            update_sdk,
        };
        new_module(&args(false)).unwrap();
        let manifest = crate_dir.join("Cargo.toml");
        let current = format!("{VERSION_KEY}{}\"", sdk_version());
        assert!(fs::read_to_string(&manifest).unwrap().contains(&current));
        let older = fs::read_to_string(&manifest)
            .unwrap()
            .replace(&current, &format!("{VERSION_KEY}0.1.0\""));
        fs::write(&manifest, older).unwrap();
        let lib = crate_dir.join("src/lib.rs");
        fs::write(&lib, "// the team's code").unwrap();
        let stale = crate_dir.join(VENDORED_SDK).join("src/removed.rs");
        fs::write(&stale, "").unwrap();

        new_module(&args(true)).unwrap();
        assert!(fs::read_to_string(&manifest).unwrap().contains(&current));
        assert_eq!(fs::read_to_string(&lib).unwrap(), "// the team's code");
        assert!(!stale.exists());
        assert!(
            crate_dir
                .join(VENDORED_SDK)
                .join("wit/transformer.wit")
                .is_file()
        );
    }

    #[test]
    fn the_sdk_version_is_set_in_the_dependency_line_only() {
        let manifest = "[dependencies]\nargocd-wasm-sdk = { path = \"vendor/argocd-wasm-sdk\", version = \"0.1.0\" }\nserde = { version = \"1\" }\n";
        let updated = with_sdk_version(manifest, "0.2.3").unwrap();
        assert!(
            updated.contains("argocd-wasm-sdk\", version = \"0.2.3\" }"),
            "{updated}"
        );
        assert!(updated.contains("serde = { version = \"1\" }"));
        let unversioned = "argocd-wasm-sdk = { path = \"vendor/argocd-wasm-sdk\" }";
        assert_eq!(
            with_sdk_version(unversioned, "0.2.3").unwrap(),
            "argocd-wasm-sdk = { path = \"vendor/argocd-wasm-sdk\", version = \"0.2.3\" }\n"
        );
        assert_eq!(with_sdk_version("[package]\n", "0.2.3"), None);
    }

    #[test]
    fn update_sdk_refuses_a_crate_without_the_vendored_sdk() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        let args = NewModuleArgs {
            name: "x".into(),
            dir: Some(dir.path().to_path_buf()),
            update_sdk: true,
        };
        let error = new_module(&args).unwrap_err().to_string();
        assert!(
            error.contains("does not depend on the vendored SDK"),
            "{error}"
        );
    }
}
