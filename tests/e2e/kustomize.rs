//! Kustomization trees: conformance with `kubectl kustomize` on every kustomization
//! directory in the fixtures, and clear errors for what is not supported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// Fixture trees whose every kustomization directory is a conformance case.
const CONFORMANCE_ROOTS: &[&str] = &["kustomize", "overlay", "image-tags/kustomize"];

/// Every directory holding a kustomization file below `dir`, sorted.
fn kustomization_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if dir.join("kustomization.yaml").is_file() {
        found.push(dir.to_path_buf());
    }
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    children.sort();
    for child in children {
        found.extend(kustomization_dirs(&child));
    }
    found
}

/// Objects keyed by apiVersion/kind/namespace/name, as the issue defines conformance.
fn keyed(objects: Vec<Value>) -> BTreeMap<String, Value> {
    objects
        .into_iter()
        .map(|object| {
            let field = |pointer: &str| {
                object
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let key = [
                field("/apiVersion"),
                field("/kind"),
                field("/metadata/namespace"),
                field("/metadata/name"),
            ]
            .join("/");
            (key, object)
        })
        .collect()
}

/// What `kubectl kustomize` makes of `dir`: the objects, or its error.
fn kubectl_kustomize(dir: &Path) -> Result<Vec<Value>, String> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(read_manifests(&String::from_utf8(output.stdout).unwrap()))
}

fn ours(dir: &Path) -> Result<Vec<Value>, String> {
    let output = binary()
        .args(["render", "--output", "json"])
        .arg(dir)
        .output()
        .unwrap();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(objects(&String::from_utf8(output.stdout).unwrap()))
}

/// The differences between two keyed sets, one line per differing object.
fn differences(
    expected: &BTreeMap<String, Value>,
    actual: &BTreeMap<String, Value>,
) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    keys.into_iter()
        .filter_map(|key| match (expected.get(key), actual.get(key)) {
            (Some(want), Some(got)) if want == got => None,
            (Some(want), Some(got)) => {
                Some(format!("{key} differs:\n   want {want}\n    got {got}"))
            }
            (Some(_), None) => Some(format!("{key} is missing")),
            (None, _) => Some(format!("{key} is extra")),
        })
        .collect()
}

#[test]
fn kustomization_directories_render_like_kubectl_kustomize() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("kubectl is not installed: skipping the kustomize conformance suite");
        return;
    }
    let dirs: Vec<PathBuf> = CONFORMANCE_ROOTS
        .iter()
        .flat_map(|root| kustomization_dirs(&fixture(root)))
        .collect();
    let mut failures = Vec::new();
    for dir in &dirs {
        // Where kustomize refuses a directory, so must we; otherwise the same objects.
        let problems = match (kubectl_kustomize(dir), ours(dir)) {
            (Ok(expected), Ok(objects)) => differences(&keyed(expected), &keyed(objects)),
            (Err(_), Err(_)) => Vec::new(),
            (Ok(_), Err(stderr)) => vec![format!("failed: {stderr}")],
            (Err(theirs), Ok(_)) => vec![format!(
                "succeeded where kubectl kustomize failed: {theirs}"
            )],
        };
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", dir.display(), problems.join("\n  ")));
        }
    }
    println!(
        "kustomize conformance: {} passed, {} failed",
        dirs.len() - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} directories differ from kubectl kustomize:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
    assert!(
        dirs.len() >= 60,
        "only {} conformance directories",
        dirs.len()
    );
}

#[test]
fn unsupported_or_broken_kustomizations_fail_clearly() {
    let root = fixture("kustomize-errors");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        let expected = std::fs::read_to_string(case.join("expected-error.txt")).unwrap();
        let output = binary().arg("render").arg(&case).output().unwrap();
        let stderr = failure(&output);
        assert!(
            stderr.contains(expected.trim()),
            "{}: stderr lacks {expected:?}:\n{stderr}",
            case.display()
        );
    }
}
