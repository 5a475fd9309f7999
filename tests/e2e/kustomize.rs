//! Kustomization trees: conformance with `kubectl kustomize`.
//!
//! A conformance case is a directory holding a kustomization and kubectl's recorded answer
//! beside it: `expected.yaml` (its stdout) or `kubectl-error.txt` (it failed), written by
//! `tests/conformance/record.sh`. Our render is compared with the recording on every run, so
//! a machine without kubectl still checks conformance; where kubectl is installed, the
//! recording is also compared with kubectl live, so a stale recording is caught. A case may
//! add `expected-error.txt` (a piece of OUR error message that must appear) and
//! `kubectl-flags.txt` (flags for kubectl, e.g. `--load-restrictor LoadRestrictionsNone`,
//! matched by a wasm-pipeline.yaml in the case).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use argocd_wasm_plugin::invocation::Invocation;
use argocd_wasm_plugin::object::ObjectId;
use argocd_wasm_plugin::{Limits, Runtime, pipeline};
use serde_json::Value;

use crate::support::*;

/// Where conformance cases live, relative to the repository.
const CONFORMANCE_ROOTS: &[&str] = &[
    "tests/conformance",
    "tests/fixtures/kustomize",
    "tests/fixtures/overlay",
    "tests/fixtures/image-tags/kustomize",
];

/// The fewest recorded cases the roots must hold together.
const MINIMUM_CASES: usize = 100;

/// kubectl's recorded answer for one case.
enum Recording {
    Objects(Vec<Value>),
    Failure,
}

struct Case {
    dir: PathBuf,
    recording: Recording,
    /// A piece of our error message the case demands.
    our_error: Option<String>,
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every recorded case below the roots, sorted.
fn cases() -> Vec<Case> {
    let mut dirs = Vec::new();
    for root in CONFORMANCE_ROOTS {
        collect_case_dirs(&repository().join(root), &mut dirs);
    }
    dirs.sort();
    dirs.into_iter().map(|dir| read_case(&dir)).collect()
}

fn collect_case_dirs(dir: &Path, found: &mut Vec<PathBuf>) {
    let is_case = ["expected.yaml", "kubectl-error.txt"]
        .iter()
        .any(|name| dir.join(name).is_file());
    if is_case {
        found.push(dir.to_path_buf());
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            collect_case_dirs(&entry.path(), found);
        }
    }
}

fn read_case(dir: &Path) -> Case {
    let text = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let recording = match text("expected.yaml") {
        Some(stdout) => Recording::Objects(read_manifests(&stdout)),
        None => Recording::Failure,
    };
    Case {
        dir: dir.to_path_buf(),
        recording,
        our_error: text("expected-error.txt").map(|t| t.trim().to_owned()),
    }
}

/// Our render of a case, in this process through the library (one runtime for every case),
/// or its error as `render` prints it.
fn ours(dir: &Path) -> Result<Vec<Value>, String> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    let runtime =
        RUNTIME.get_or_init(|| Runtime::new(Limits::default(), Some(&test_cache_dir())).unwrap());
    pipeline::render(runtime, dir, &Invocation::default())
        .map_err(|error| format!("{:#}", anyhow::Error::new(error)))
}

/// kubectl's stdout for a case, or its stderr when it fails.
fn kubectl_kustomize(dir: &Path) -> Result<String, String> {
    let flags = std::fs::read_to_string(dir.join("kubectl-flags.txt")).unwrap_or_default();
    let output = Command::new("kubectl")
        .arg("kustomize")
        .args(flags.split_whitespace())
        .arg(dir)
        .output()
        .unwrap();
    match output.status.success() {
        true => Ok(String::from_utf8(output.stdout).unwrap()),
        false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}

fn kubectl_installed() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn label(value: &Value) -> String {
    let id = ObjectId::of(value);
    format!("{} {id}", id.api_version)
}

/// What differs between kubectl's objects and ours, order included.
fn differences(expected: &[Value], actual: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let order = |objects: &[Value]| objects.iter().map(label).collect::<Vec<_>>();
    if order(expected) != order(actual) {
        problems.push(format!(
            "objects or their order differ:\n   want {:?}\n    got {:?}",
            order(expected),
            order(actual)
        ));
    }
    for (want, got) in expected.iter().zip(actual) {
        if want != got && label(want) == label(got) {
            problems.push(format!(
                "{} differs:\n   want {want}\n    got {got}",
                label(want)
            ));
        }
    }
    problems
}

fn check_case(case: &Case) -> Vec<String> {
    match (&case.recording, ours(&case.dir)) {
        (Recording::Objects(expected), Ok(actual)) => differences(expected, &actual),
        (Recording::Objects(_), Err(stderr)) => vec![format!("failed: {stderr}")],
        (Recording::Failure, Ok(_)) => vec!["succeeded where kubectl kustomize fails".into()],
        (Recording::Failure, Err(stderr)) => match &case.our_error {
            Some(wanted) if !stderr.contains(wanted.as_str()) => {
                vec![format!("stderr lacks {wanted:?}:\n{stderr}")]
            }
            _ => Vec::new(),
        },
    }
}

fn report(failures: &[String], total: usize, what: &str) {
    assert!(
        failures.is_empty(),
        "{} of {total} cases {what}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn relative(dir: &Path) -> String {
    let repository = repository().canonicalize().unwrap();
    let dir = dir.canonicalize().unwrap();
    dir.strip_prefix(&repository)
        .unwrap_or(&dir)
        .display()
        .to_string()
}

#[test]
fn kustomization_trees_render_as_kubectl_recorded() {
    let cases = cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let problems = check_case(case);
            (!problems.is_empty())
                .then(|| format!("{}:\n  {}", relative(&case.dir), problems.join("\n  ")))
        })
        .collect();
    let mut per_root: BTreeMap<String, usize> = BTreeMap::new();
    for case in &cases {
        let path = relative(&case.dir);
        let area: Vec<&str> = path.split('/').take(3).collect();
        *per_root.entry(area.join("/")).or_default() += 1;
    }
    println!("kustomize conformance cases per area: {per_root:?}");
    println!(
        "kustomize conformance: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    report(
        &failures,
        cases.len(),
        "differ from kubectl kustomize's recording",
    );
    assert!(
        cases.len() >= MINIMUM_CASES,
        "only {} conformance cases",
        cases.len()
    );
}

#[test]
fn recordings_match_kubectl_kustomize_live() {
    if !kubectl_installed() {
        eprintln!("kubectl is not installed: checking against the recordings only");
        return;
    }
    let cases = cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let recorded = std::fs::read_to_string(case.dir.join("expected.yaml")).ok();
            let stale = match (kubectl_kustomize(&case.dir), recorded) {
                (Ok(live), Some(recorded)) => live != recorded,
                (Err(_), None) => false,
                _ => true,
            };
            stale.then(|| {
                format!(
                    "{}: the recording is stale; run tests/conformance/record.sh {}",
                    relative(&case.dir),
                    relative(&case.dir)
                )
            })
        })
        .collect();
    report(&failures, cases.len(), "have stale recordings");
}
