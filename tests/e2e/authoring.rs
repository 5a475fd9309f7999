//! The module authoring kit end to end: `test` on golden cases, `render --diff-against`,
//! and `new module`, run from a copy of the binary outside this checkout, scaffolding a
//! crate that names its SDK version, builds offline, is clippy-clean and passes its own
//! golden case under that copy's `test`.
//!
//! The examples' golden cases name their module `modules/<crate>.wasm`; `test --module`
//! copies the component the build made (in GUEST_WASM_DIR) there, so the cases never
//! depend on where cargo put its target directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

/// A guest crate's golden cases directory.
fn example_cases(crate_name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../guest-modules/examples")
        .join(crate_name)
        .join("tests/cases")
}

/// `argocd-wasm-plugin test CASES --module WASM [extra]`.
fn run_test(cases: &Path, wasm: &Path, extra: &[&str]) -> Output {
    binary()
        .arg("test")
        .arg(cases)
        .arg("--module")
        .arg(wasm)
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts every case passed and returns how many ran, from the summary line.
fn all_passed(output: &Output) -> usize {
    let text = stdout(output);
    assert!(
        output.status.success(),
        "{text}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = text.lines().last().unwrap();
    let passed = summary.strip_suffix(" passed, 0 failed").expect(summary);
    passed.parse().unwrap()
}

#[test]
fn pdb_for_every_deployment_passes_its_golden_cases() {
    let crate_name = "pdb-for-every-deployment";
    let output = run_test(&example_cases(crate_name), &guest_wasm(crate_name), &[]);
    assert!(all_passed(&output) >= 4);
}

#[test]
fn require_non_root_and_limits_passes_its_golden_cases() {
    let crate_name = "require-non-root-and-limits";
    let output = run_test(&example_cases(crate_name), &guest_wasm(crate_name), &[]);
    assert!(all_passed(&output) >= 3);
}

/// A copy of one example case in a temporary directory, to break and update.
fn copied_case(crate_name: &str, case: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = example_cases(crate_name).join(case);
    let to = dir.path().join(case);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
    dir
}

#[test]
fn a_wrong_expectation_fails_with_a_diff_and_update_rewrites_it() {
    let crate_name = "pdb-for-every-deployment";
    let wasm = guest_wasm(crate_name);
    let cases = copied_case(crate_name, "adds-budgets");
    let expected = cases.path().join("adds-budgets/expected.yaml");
    let good = std::fs::read_to_string(&expected).unwrap();
    std::fs::write(
        &expected,
        good.replace("minAvailable: 1", "minAvailable: 2"),
    )
    .unwrap();

    let failed = run_test(cases.path(), &wasm, &[]);
    let report = stdout(&failed);
    assert!(!failed.status.success());
    assert!(report.contains("FAILED  adds-budgets"), "{report}");
    assert!(
        report.contains("--- expected.yaml\n+++ render\n@@"),
        "{report}"
    );
    assert!(
        report.contains("\n-  minAvailable: 2\n+  minAvailable: 1\n"),
        "{report}"
    );
    assert!(
        !report.contains("\x1b["),
        "no colours when stdout is not a terminal"
    );
    assert!(report.ends_with("0 passed, 1 failed\n"), "{report}");

    let updated = run_test(cases.path(), &wasm, &["--update"]);
    assert!(stdout(&updated).contains("updated adds-budgets"));
    assert_eq!(all_passed(&updated), 1);
    assert_eq!(std::fs::read_to_string(&expected).unwrap(), good);
    assert_eq!(all_passed(&run_test(cases.path(), &wasm, &[])), 1);
}

#[test]
fn an_expected_error_must_appear_and_update_records_a_new_one() {
    let crate_name = "require-non-root-and-limits";
    let wasm = guest_wasm(crate_name);
    let cases = copied_case(crate_name, "only-memory-limits");
    let case = cases.path().join("only-memory-limits");
    std::fs::remove_file(case.join("expected.yaml")).unwrap();
    std::fs::write(case.join("expected-error.txt"), "must set").unwrap();

    let failed = run_test(cases.path(), &wasm, &[]);
    assert!(!failed.status.success());
    assert!(stdout(&failed).contains("expected an error containing `must set`"));

    assert_eq!(all_passed(&run_test(cases.path(), &wasm, &["--update"])), 1);
    assert!(!case.join("expected-error.txt").exists());
    assert!(case.join("expected.yaml").is_file());
}

#[test]
fn a_case_expects_an_error_by_its_finding_s_code() {
    let cases = tempfile::tempdir().unwrap();
    let case = cases.path().join("refused");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(case.join("cm.yaml"), CONFIGMAP).unwrap();
    std::fs::write(
        case.join("wasm-pipeline.yaml"),
        "steps:\n  - module: modules/coded_findings.wasm\n    with: {refuse: true}\n",
    )
    .unwrap();
    let expect = |code: &str| {
        let settings = format!("app: {{namespace: shop}}\nexpect-error: {{code: {code}}}\n");
        std::fs::write(case.join("test.yaml"), settings).unwrap();
        run_test(cases.path(), &guest_wasm("coded-findings"), &[])
    };
    assert_eq!(all_passed(&expect("coded-findings/refused")), 1);
    let failed = expect("coded-findings/other");
    assert!(!failed.status.success());
    let report = stdout(&failed);
    assert!(
        report.contains("the error has no finding of code `coded-findings/other`; it is:\n"),
        "{report}"
    );
    assert!(report.contains("[coded-findings/refused]"), "{report}");
}

#[test]
fn diff_against_ignores_formatting_and_shows_real_changes() {
    let app = App::new();
    app.write("cm.yaml", CONFIGMAP);
    let same = "# committed\nkind: ConfigMap\ndata: {a: \"b\"}\nmetadata: {name: settings}\napiVersion: v1\n";
    app.write("../committed/all.yaml", same);
    let committed = app.repo().join("committed");
    let unchanged = app.render(&["--diff-against", committed.to_str().unwrap()]);
    assert!(unchanged.status.success(), "{unchanged:?}");
    assert!(unchanged.stdout.is_empty());

    app.write("../committed/all.yaml", &same.replace("\"b\"", "c"));
    let changed = app.render(&["--diff-against", committed.to_str().unwrap()]);
    assert!(!changed.status.success());
    let diff = stdout(&changed);
    assert!(diff.contains("+++ render"), "{diff}");
    assert!(diff.contains("\n-  a: c\n+  a: b\n"), "{diff}");
}

/// Where scaffolded crates are built: the target directory of the workspace's guest builds
/// (GUEST_WASM_DIR is `<it>/wasm32-wasip2/release`). The scaffold's Cargo.lock pins the
/// workspace's versions, so serde and wit-bindgen are already built there.
fn scaffold_target_dir() -> PathBuf {
    Path::new(env!("GUEST_WASM_DIR")).join("../..")
}

/// `cargo ARGS` in `dir`, as a module author would run it (none of this build's flags).
/// Its output is kept, and shown only when it fails.
fn cargo(dir: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", scaffold_target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo {args:?} failed in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A copy of the binary in `dir`, outside this checkout, as a team would install it.
fn installed_binary(dir: &Path) -> Command {
    let installed = dir.join("argocd-wasm-plugin");
    std::fs::copy(env!("CARGO_BIN_EXE_argocd-wasm-plugin"), &installed).unwrap();
    wait_until_executable(&installed);
    let mut command = Command::new(installed);
    command
        .current_dir(dir)
        .env("ARGOCD_WASM_PLUGIN_CACHE_DIR", test_cache_dir());
    command
}

/// The version in this checkout's `guest-modules/sdk/Cargo.toml`: the SDK the binary carries.
fn checkout_sdk_version() -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-modules/sdk/Cargo.toml");
    let text = std::fs::read_to_string(manifest).unwrap();
    let line = text
        .lines()
        .find(|line| line.starts_with("version = "))
        .unwrap();
    line.trim_start_matches("version = ")
        .trim_matches('"')
        .to_owned()
}

/// Waits until a freshly written binary can be run: a process another test forks while
/// the copy is open for writing keeps the file busy (ETXTBSY) until it execs.
fn wait_until_executable(binary: &Path) {
    for _ in 0..100 {
        match Command::new(binary).arg("--version").output() {
            Err(error) if error.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => {
                result.unwrap();
                return;
            }
        }
    }
    panic!("{} stayed busy", binary.display());
}

/// Every file under `dir` that mentions `needle`.
fn files_mentioning(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_mentioning(&path, needle));
        } else if std::fs::read_to_string(&path).is_ok_and(|text| text.contains(needle)) {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_module_scaffolded_by_an_installed_binary_builds_offline_and_passes_its_tests() {
    let outside = tempfile::tempdir().unwrap();
    let created = installed_binary(outside.path())
        .args(["new", "module", "team-label"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let crate_dir = outside.path().join("team-label");
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let checkout = checkout.canonicalize().unwrap();
    let leaks = files_mentioning(&crate_dir, checkout.to_str().unwrap());
    assert!(leaks.is_empty(), "files naming the checkout: {leaks:?}");

    cargo(&crate_dir, &["test", "--offline", "--quiet"]);
    cargo(
        &crate_dir,
        &[
            "clippy",
            "--offline",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    cargo(
        &crate_dir,
        &[
            "build",
            "--offline",
            "--target",
            "wasm32-wasip2",
            "--release",
        ],
    );
    let wasm = scaffold_target_dir().join("wasm32-wasip2/release/team_label.wasm");
    let output = installed_binary(outside.path())
        .arg("test")
        .arg(crate_dir.join("tests/cases"))
        .arg("--module")
        .arg(&wasm)
        .output()
        .unwrap();
    assert_eq!(all_passed(&output), 1);
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let sdk_dependency = format!(
        "argocd-wasm-sdk = {{ path = \"vendor/argocd-wasm-sdk\", version = \"{}\" }}",
        checkout_sdk_version()
    );
    assert!(manifest.contains(&sdk_dependency), "{manifest}");

    let again = installed_binary(outside.path())
        .args(["new", "module", "team-label"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
    let bad_name = installed_binary(outside.path())
        .args(["new", "module", "TeamLabel"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad_name.stderr).contains("not a kebab-case name"));
}
