//! Helpers for the end-to-end tests: run the real binary on app directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The host binary under test, caching compiled modules in a directory private to this
/// test run (not the user's cache).
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_argocd-wasm-plugin"));
    command.env("ARGOCD_WASM_PLUGIN_CACHE_DIR", test_cache_dir());
    command
}

/// One module cache for the whole test run, so each module compiles once. It lives in
/// cargo's scratch directory for integration tests (under target/), not in /tmp.
pub fn test_cache_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "argocd-wasm-plugin-e2e-cache-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A guest module the build compiled to a component (`add_label`, `spin`, …).
pub fn guest_wasm(crate_name: &str) -> PathBuf {
    Path::new(env!("GUEST_WASM_DIR")).join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// The repository's fixtures directory.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(relative)
}

/// An app directory in a temporary repository (it has a `.git` so paths resolve inside it).
pub struct App {
    repo: tempfile::TempDir,
}

impl App {
    pub fn new() -> Self {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        std::fs::create_dir_all(repo.path().join("app/modules")).unwrap();
        Self { repo }
    }

    pub fn dir(&self) -> PathBuf {
        self.repo.path().join("app")
    }

    pub fn repo(&self) -> &Path {
        self.repo.path()
    }

    /// Writes a file relative to the app directory.
    pub fn write(&self, relative: &str, text: &str) -> &Self {
        let path = self.dir().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Copies a built guest module into `modules/NAME.wasm`.
    pub fn with_module(&self, crate_name: &str) -> &Self {
        std::fs::copy(
            guest_wasm(crate_name),
            self.dir().join(format!("modules/{crate_name}.wasm")),
        )
        .unwrap();
        self
    }

    /// `render` on this app with extra arguments, caching compiled modules in the repo.
    pub fn render(&self, args: &[&str]) -> Output {
        binary()
            .arg("render")
            .arg(self.dir())
            .args(["--cache-dir"])
            .arg(self.repo.path().join("cache"))
            .args(args)
            .output()
            .unwrap()
    }
}

/// Stdout of a run that must have succeeded.
pub fn success(output: &Output) -> String {
    assert!(
        output.status.success(),
        "expected success, got {:?}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Stderr of a run that must have failed cleanly: non-zero exit and nothing on stdout.
pub fn failure(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "expected failure, but it succeeded"
    );
    assert!(
        output.stdout.is_empty(),
        "a failed render must print nothing on stdout, got:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stderr.clone()).unwrap()
}

pub const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n";
pub const SECRET: &str =
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n";

/// The objects of a YAML stream as the plugin reads manifests (kubectl's typing): the
/// stream rendered as a plain directory.
pub fn read_manifests(yaml: &str) -> Vec<serde_json::Value> {
    if yaml.trim().is_empty() {
        return Vec::new();
    }
    let app = App::new();
    app.write("stream.yaml", yaml);
    objects(&success(&app.render(&["--output", "json"])))
}

/// Parses `--output json` (one object per line).
pub fn objects(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The leaves that differ between two renders, as `Kind name: path: before -> after`.
/// Objects are paired by kind and name; both renders must hold the same objects.
pub fn changed_fields(before: &[serde_json::Value], after: &[serde_json::Value]) -> Vec<String> {
    assert_eq!(
        before.len(),
        after.len(),
        "the renders hold different numbers of objects"
    );
    let mut changes = Vec::new();
    for (old, new) in before.iter().zip(after) {
        let label = format!(
            "{} {}",
            old["kind"].as_str().unwrap(),
            old["metadata"]["name"].as_str().unwrap()
        );
        diff_values(&label, "", old, new, &mut changes);
    }
    changes
}

fn diff_values(
    label: &str,
    path: &str,
    old: &serde_json::Value,
    new: &serde_json::Value,
    changes: &mut Vec<String>,
) {
    use serde_json::Value;
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let null = Value::Null;
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff_values(
                    label,
                    &child,
                    a.get(key).unwrap_or(&null),
                    b.get(key).unwrap_or(&null),
                    changes,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_values(label, &format!("{path}[{i}]"), x, y, changes);
            }
        }
        _ if old != new => changes.push(format!("{label}: {path}: {old} -> {new}")),
        _ => {}
    }
}

/// A local TCP address nothing listens on, e.g. `127.0.0.1:41234`.
pub fn free_local_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// The whole HTTP/1.1 response to `GET path` from `address` (a daemon's `--tcp`).
pub fn http_get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// A `serve` daemon for the duration of a test; killed on drop.
pub struct Daemon {
    child: std::process::Child,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts `serve` with extra arguments and waits until it is ready.
    pub fn start(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("serve.sock");
        let child = binary()
            .args(["serve", "--socket"])
            .arg(&socket)
            .args(args)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let daemon = Self {
            child,
            socket,
            _dir: dir,
        };
        // Patient: warming up compiles every built-in module, slow on a loaded machine.
        for _ in 0..600 {
            let check = binary()
                .args(["serve", "--check", "--socket"])
                .arg(&daemon.socket)
                .output()
                .unwrap();
            if check.status.success() {
                return daemon;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the daemon did not become ready");
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `generate` in `dir` with Argo CD's environment, forwarded to this daemon.
    pub fn generate(&self, dir: &Path, env: &[(&str, &str)]) -> Output {
        argocd_generate(dir, env)
            .env("ARGOCD_WASM_PLUGIN_SOCKET", &self.socket)
            .output()
            .unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `generate` as Argo CD runs it: in the app directory, with only the given environment
/// (plus the test's module cache). It prints JSON lines, as Argo CD receives them.
pub fn argocd_generate(dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = binary();
    command
        .arg("generate")
        .current_dir(dir)
        .env_clear()
        .env("ARGOCD_WASM_PLUGIN_CACHE_DIR", test_cache_dir())
        .envs(env.iter().copied());
    command
}

/// `render --output json` of the magento stage fixture with extra flags.
pub fn render_magento(args: &[&str]) -> Vec<serde_json::Value> {
    let mut command = binary();
    command
        .args(["render", "--output", "json"])
        .arg(fixture("magento-stage"))
        .args(args);
    objects(&success(&command.output().unwrap()))
}

/// The stderr of a magento render that must fail, checked to name `step`.
pub fn magento_failure(args: &[&str], step: &str) -> String {
    let mut command = binary();
    command
        .arg("render")
        .arg(fixture("magento-stage"))
        .args(args);
    let stderr = failure(&command.output().unwrap());
    assert!(stderr.contains(step), "{stderr}");
    stderr
}
