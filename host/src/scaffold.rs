//! `argocd-wasm-plugin new module NAME`: a module crate on the SDK that builds and passes
//! its golden test as generated. The templates are in `host/templates/new-module/`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Args;

/// The SDK of the source tree this binary was built from.
const DEFAULT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../guest-modules/sdk");

/// The generated files: path in the crate, template.
const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../templates/new-module/Cargo.toml.tmpl"),
    ),
    (
        ".gitignore",
        include_str!("../templates/new-module/gitignore.tmpl"),
    ),
    (
        "README.md",
        include_str!("../templates/new-module/README.md.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../templates/new-module/lib.rs.tmpl"),
    ),
    (
        "tests/cases/labels-deployments/wasm-pipeline.yaml",
        include_str!("../templates/new-module/case/wasm-pipeline.yaml"),
    ),
    (
        "tests/cases/labels-deployments/input.yaml",
        include_str!("../templates/new-module/case/input.yaml"),
    ),
    (
        "tests/cases/labels-deployments/expected.yaml",
        include_str!("../templates/new-module/case/expected.yaml"),
    ),
];

#[derive(Args)]
pub struct NewModuleArgs {
    /// The module's name in kebab-case (`require-team-label`): the crate's name, the
    /// module's name, and the directory created unless --dir is given.
    name: String,
    /// The directory to create [default: ./NAME]. It must not exist.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The argocd-wasm-sdk crate to depend on, by path [default: the SDK in the source
    /// tree this binary was built from].
    #[arg(long, default_value = DEFAULT_SDK, hide_default_value = true)]
    sdk: PathBuf,
}

/// The names a template uses.
struct Names {
    /// `require-team-label`: crate and module name.
    module: String,
    /// `require_team_label`: the `.wasm` file's stem.
    file_stem: String,
    /// `RequireTeamLabel`: the config struct.
    type_name: String,
    /// The SDK path as a TOML string.
    sdk: String,
}

pub fn new_module(args: &NewModuleArgs) -> Result<()> {
    check_kebab_case(&args.name)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        bail!("{} already exists; refusing to overwrite it", dir.display());
    }
    let names = Names::new(&args.name, &sdk_path(&args.sdk)?);
    for (relative, template) in FILES {
        let path = dir.join(relative);
        fs::create_dir_all(path.parent().expect("generated files are inside the crate"))?;
        fs::write(&path, names.fill(template))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!(
        "created module `{}` in {}; next: see its README.md",
        args.name,
        dir.display()
    );
    Ok(())
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

/// The SDK as an absolute path, since the crate may be created anywhere.
fn sdk_path(sdk: &Path) -> Result<PathBuf> {
    let manifest = sdk.join("Cargo.toml");
    let is_sdk =
        fs::read_to_string(&manifest).is_ok_and(|text| text.contains("name = \"argocd-wasm-sdk\""));
    if !is_sdk {
        bail!(
            "{} is not the argocd-wasm-sdk crate; pass its directory with --sdk",
            sdk.display()
        );
    }
    Ok(sdk.canonicalize()?)
}

impl Names {
    fn new(module: &str, sdk: &Path) -> Self {
        Self {
            module: module.to_owned(),
            file_stem: module.replace('-', "_"),
            type_name: module.split('-').map(capitalize).collect(),
            // A Rust string literal is a valid TOML basic string for any path cargo takes.
            sdk: format!("{:?}", sdk.display().to_string()),
        }
    }

    fn fill(&self, template: &str) -> String {
        template
            .replace("__NAME__", &self.module)
            .replace("__CRATE__", &self.file_stem)
            .replace("__TYPE__", &self.type_name)
            .replace("__SDK__", &self.sdk)
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
        let names = Names::new("require-team-label", Path::new("/sdk"));
        assert_eq!(names.type_name, "RequireTeamLabel");
        for (path, template) in FILES {
            let filled = names.fill(template);
            assert!(!filled.contains("__"), "{path} keeps a placeholder");
        }
        assert!(names.fill(FILES[0].1).contains("path = \"/sdk\""));
    }

    #[test]
    fn refuses_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let args = NewModuleArgs {
            name: "team-label".into(),
            dir: Some(dir.path().to_path_buf()),
            sdk: DEFAULT_SDK.into(),
        };
        let error = new_module(&args).unwrap_err();
        assert!(
            error.to_string().contains("refusing to overwrite"),
            "{error}"
        );
    }
}
