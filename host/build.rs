//! Builds the guest modules for wasm32-wasip2 and embeds the built-in ones.
//!
//! Every directory under `guest-modules/builtin/` is a built-in module named after the
//! directory (`builtin:image-tags` is `guest-modules/builtin/image-tags`). The examples and
//! the test modules under `tests/modules/` are built alongside so the host's tests can load
//! them; `GUEST_WASM_DIR` tells the tests where they are.
//!
//! The SDK's files are embedded too, so `new module` can vendor the SDK into a module crate
//! from an installed binary, with no checkout of this repository, with the part of our
//! Cargo.lock it needs: module crates start on the dependency versions the SDK is tested with.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const GUEST_TARGET: &str = "wasm32-wasip2";

/// Directories whose subdirectories are guest crates, relative to the workspace root.
const GUEST_GROUPS: &[&str] = &[
    "guest-modules/builtin",
    "guest-modules/examples",
    "tests/modules",
];

fn main() {
    let workspace = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap())
        .parent()
        .unwrap()
        .to_path_buf();
    for watched in ["guest-modules", "tests/modules", "wit", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }

    let crates: Vec<(String, PathBuf)> = GUEST_GROUPS
        .iter()
        .flat_map(|group| crate_dirs(&workspace.join(group)))
        .collect();
    let target_dir = guest_target_dir(&workspace);
    build_guests(&workspace, &target_dir, &crates);

    let wasm_dir = target_dir.join(GUEST_TARGET).join("release");
    println!("cargo:rustc-env=GUEST_WASM_DIR={}", wasm_dir.display());
    let builtins: Vec<&String> = crates
        .iter()
        .filter(|(_, dir)| dir.starts_with(workspace.join(GUEST_GROUPS[0])))
        .map(|(name, _)| name)
        .collect();
    write_builtin_table(&wasm_dir, &builtins);
    write_sdk_files(&workspace.join("guest-modules/sdk"));
    write_sdk_lock(&fs::read_to_string(workspace.join("Cargo.lock")).unwrap());
}

/// The crate directories in a group (each directory with a Cargo.toml), sorted.
fn crate_dirs(group: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(group) else {
        return Vec::new();
    };
    let mut dirs: Vec<(String, PathBuf)> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.join("Cargo.toml").is_file())
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                path,
            )
        })
        .collect();
    dirs.sort();
    dirs
}

/// A target directory of its own: the outer build holds the lock on the normal one.
fn guest_target_dir(workspace: &Path) -> PathBuf {
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    target.join("guest-wasm")
}

fn build_guests(workspace: &Path, target_dir: &Path, crates: &[(String, PathBuf)]) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "--target",
            GUEST_TARGET,
            "--target-dir",
        ])
        .arg(target_dir)
        // Whole-program optimisation of the modules (one codegen unit, fat LTO across
        // serde_json, the SDK and the module): 6000 objects render about 7% faster, measured
        // interleaved against thin LTO. The host keeps the workspace's faster-to-build profile.
        .args(["--config", "profile.release.lto=\"fat\""])
        .args(["--config", "profile.release.codegen-units=1"])
        // Flags meant for the host (e.g. -C target-cpu=native) would break a wasm build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER");
    for (name, _) in crates {
        command.args(["-p", name]);
    }
    let status = command
        .status()
        .expect("cannot run cargo to build the guest modules");
    assert!(
        status.success(),
        "building the guest modules for {GUEST_TARGET} failed (is the target installed? \
         `rustup target add {GUEST_TARGET}`)"
    );
}

/// `builtins.rs`: the table of embedded built-in modules, by name, with their sha256
/// computed here once rather than by every process that loads them.
fn write_builtin_table(wasm_dir: &Path, names: &[&String]) {
    let mut table = String::from("pub(crate) const BUILTINS: &[Builtin] = &[\n");
    for name in names {
        let wasm = wasm_dir.join(format!("{}.wasm", name.replace('-', "_")));
        let bytes =
            fs::read(&wasm).unwrap_or_else(|e| panic!("cannot read {}: {e}", wasm.display()));
        let sha256 = hex::encode(Sha256::digest(&bytes));
        writeln!(
            table,
            "    Builtin {{ name: {name:?}, wasm: include_bytes!({:?}), sha256: {sha256:?} }},",
            wasm.display().to_string()
        )
        .unwrap();
    }
    table.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("builtins.rs");
    fs::write(out, table).unwrap();
}

/// `sdk_files.rs`: every file of the SDK crate by its path inside the crate, its `wit` link
/// followed, so the vendored copy carries the contract it binds.
fn write_sdk_files(sdk: &Path) {
    let mut files = Vec::new();
    collect_files(sdk, sdk, &mut files);
    files.sort();
    let mut table = String::from("pub const SDK_FILES: &[(&str, &[u8])] = &[\n");
    for relative in &files {
        writeln!(
            table,
            "    ({relative:?}, include_bytes!({:?})),",
            sdk.join(relative).display().to_string()
        )
        .unwrap();
    }
    table.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("sdk_files.rs");
    fs::write(out, table).unwrap();
}

/// The files under `dir`, as `/`-separated paths relative to `root`; hidden files and build
/// output left out.
fn collect_files(root: &Path, dir: &Path, files: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
    {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "Cargo.lock" {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).unwrap();
            let parts: Vec<_> = relative.iter().map(|part| part.to_string_lossy()).collect();
            files.push(parts.join("/"));
        }
    }
}

/// `sdk-Cargo.lock`: the entries of the workspace's Cargo.lock the SDK depends on, directly or
/// not, itself included. Cargo adds a module crate's own entry on its first build.
fn write_sdk_lock(lock: &str) {
    let (header, blocks) = lock
        .split_once("[[package]]")
        .expect("Cargo.lock has packages");
    let blocks: Vec<&str> = blocks.split("[[package]]").collect();
    let mut wanted = vec!["argocd-wasm-sdk".to_owned()];
    let mut kept: Vec<&str> = Vec::new();
    while let Some(dependency) = wanted.pop() {
        let block = locked_package(&blocks, &dependency);
        if !kept.contains(&block) {
            kept.push(block);
            wanted.extend(locked_dependencies(block));
        }
    }
    kept.sort_by_key(|block| blocks.iter().position(|b| b == block));
    let mut out = header.to_owned();
    for block in kept {
        out.push_str("[[package]]");
        out.push_str(block);
    }
    let path = PathBuf::from(env::var("OUT_DIR").unwrap()).join("sdk-Cargo.lock");
    fs::write(path, out.trim_end().to_owned() + "\n").unwrap();
}

/// The `[[package]]` block of a dependency as Cargo.lock names it: `name`, or `name version`
/// when several versions are locked.
fn locked_package<'a>(blocks: &[&'a str], dependency: &str) -> &'a str {
    let mut words = dependency.split(' ');
    let name = format!("name = {:?}\n", words.next().unwrap());
    let version = words
        .next()
        .map(|version| format!("version = {version:?}\n"));
    blocks
        .iter()
        .find(|block| {
            block.contains(&name) && version.as_ref().is_none_or(|v| block.contains(v.as_str()))
        })
        .unwrap_or_else(|| panic!("Cargo.lock has no package `{dependency}`"))
}

/// The `dependencies = [...]` of a Cargo.lock block, as written there.
fn locked_dependencies(block: &str) -> Vec<String> {
    let Some((_, list)) = block.split_once("dependencies = [") else {
        return Vec::new();
    };
    list.split(']')
        .next()
        .unwrap()
        .split(',')
        .map(|item| item.trim().trim_matches('"').to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}
