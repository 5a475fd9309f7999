//! Hostile modules, apps and clients (issue #13): each numbered problem has a test here.
//! The `hostile` test module (tests/modules/hostile) does what `with: {do: …}` says.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// An app with a ConfigMap, a Secret and one `hostile` step doing `action`.
fn hostile_app(action: &str, step_extra: &str) -> App {
    let app = App::new();
    app.with_module("hostile")
        .write("cm.yaml", CONFIGMAP)
        .write("secret.yaml", SECRET)
        .write(
            "wasm-pipeline.yaml",
            &format!(
                "steps:\n  - name: evil\n    module: modules/hostile.wasm\n    with: {{{action}}}\n{step_extra}"
            ),
        );
    app
}

fn with_namespace<'a>(args: &[&'a str]) -> Vec<&'a str> {
    [&["--namespace", "stage"][..], args].concat()
}

// 1. The TCP listener renders nothing.

#[test]
fn the_tcp_listener_serves_only_probes_and_metrics() {
    let address = free_local_address();
    let daemon = Daemon::start(&["--tcp", &address]);
    let app = App::new();
    app.write("cm.yaml", CONFIGMAP);
    let body = format!(
        r#"{{"dir":{},"env":{{}},"format":"yaml"}}"#,
        serde_json::to_string(&app.dir()).unwrap()
    );
    let request = format!(
        "POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = http_over_tcp(&address, &request);
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(!answer.contains("settings"), "{answer}");
    let metrics = http_over_tcp(
        &address,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    // The unix socket still renders, and only its owner and group may use it.
    success(&daemon.generate(&app.dir(), &[]));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&daemon.socket)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660, "{mode:o}");
}

fn http_over_tcp(address: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serve_never_deletes_a_file_that_is_not_its_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("important.txt");
    std::fs::write(&path, "keep me").unwrap();
    let output = binary()
        .args(["serve", "--socket"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = failure(&output);
    assert!(
        stderr.contains("is not a socket: refusing to replace it"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
}

// 2. Symlinks out of the repository.

#[test]
fn manifest_and_pipeline_symlinks_may_not_leave_the_repository() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.yaml");
    std::fs::write(&secret, SECRET).unwrap();
    let app = App::new();
    app.write("cm.yaml", CONFIGMAP);
    std::os::unix::fs::symlink(&secret, app.dir().join("evil.yaml")).unwrap();
    let stderr = failure(&app.render(&[]));
    assert!(
        stderr.contains("evil.yaml` points outside the repository"),
        "{stderr}"
    );
    let generated = argocd_generate(&app.dir(), &[]).output().unwrap();
    assert!(failure(&generated).contains("outside the repository"));

    let app = App::new();
    app.write("cm.yaml", CONFIGMAP);
    let pipeline = outside.path().join("wasm-pipeline.yaml");
    std::fs::write(&pipeline, "steps: []\n").unwrap();
    std::os::unix::fs::symlink(&pipeline, app.dir().join("wasm-pipeline.yaml")).unwrap();
    assert!(failure(&app.render(&[])).contains("outside the repository"));

    let app = App::new();
    let kustomization = outside.path().join("kustomization.yaml");
    std::fs::write(&kustomization, "resources: [cm.yaml]\n").unwrap();
    app.write("cm.yaml", CONFIGMAP);
    std::os::unix::fs::symlink(&kustomization, app.dir().join("kustomization.yaml")).unwrap();
    assert!(failure(&app.render(&[])).contains("outside the repository"));
}

#[test]
fn symlinks_inside_the_repository_still_work() {
    let app = App::new();
    app.write("../shared/cm.yaml", CONFIGMAP);
    std::os::unix::fs::symlink(app.repo().join("shared/cm.yaml"), app.dir().join("cm.yaml"))
        .unwrap();
    assert!(success(&app.render(&[])).contains("name: settings"));
}

// 3. Secrets only when the step grants them.

#[test]
fn a_module_cannot_grant_itself_secrets() {
    let app = hostile_app("do: label-everything", "");
    let rendered = objects(&success(&app.render(&["--output", "json"])));
    let secret = rendered.iter().find(|o| o["kind"] == "Secret").unwrap();
    let config = rendered.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
    assert_eq!(config["metadata"]["labels"]["hostile"], "saw-it");
    assert!(secret["metadata"]["labels"].is_null(), "{secret}");

    let granted = hostile_app("do: label-everything", "    allow: {readSecrets: true}\n");
    let rendered = objects(&success(&granted.render(&["--output", "json"])));
    let secret = rendered.iter().find(|o| o["kind"] == "Secret").unwrap();
    assert_eq!(secret["metadata"]["labels"]["hostile"], "saw-it");
}

// 4. Guardrails on every step's output.

#[test]
fn guardrails_stop_new_secrets_cluster_objects_namespace_moves_and_cluster_role_bindings() {
    let cases = [
        ("do: add-secret", "Secret planted", "newSecrets: true"),
        (
            "do: add-namespace",
            "Namespace planted",
            "clusterScoped: true",
        ),
        (
            "do: move-to-kube-system",
            "ConfigMap kube-system/settings: moved from namespace `stage` to `kube-system`",
            "namespaces: [kube-system]",
        ),
        (
            "do: bind-cluster-admin",
            "binds the ClusterRole `cluster-admin`",
            "clusterRoleBindings: true, clusterScoped: true",
        ),
    ];
    for (action, violation, allowance) in cases {
        let app = hostile_app(action, "");
        let stderr = failure(&app.render(&with_namespace(&[])));
        assert!(
            stderr.contains("step `evil` (modules/hostile.wasm)"),
            "{stderr}"
        );
        assert!(stderr.contains("breaks the guardrails"), "{stderr}");
        assert!(stderr.contains(violation), "{action}: {stderr}");
        let allowed = hostile_app(action, &format!("    allow: {{{allowance}}}\n"));
        success(&allowed.render(&with_namespace(&[])));
    }
}

// 5. Fairness: one app's looping modules, killed clients, a hung daemon.

/// An app whose only step loops until stopped.
fn looping_app() -> App {
    let app = App::new();
    app.with_module("spin").write("cm.yaml", CONFIGMAP).write(
        "wasm-pipeline.yaml",
        "steps:\n  - module: modules/spin.wasm\n",
    );
    app
}

fn quick_app() -> App {
    let app = App::new();
    app.write("cm.yaml", CONFIGMAP);
    app
}

/// `generate` for app `app_name` in `dir`, forwarded to `daemon`.
fn forwarded(daemon: &Daemon, dir: &Path, app_name: &str) -> Command {
    let mut command = argocd_generate(dir, &[("ARGOCD_APP_NAME", app_name)]);
    command.env("ARGOCD_WASM_PLUGIN_SOCKET", &daemon.socket);
    command
}

fn spawn_generate(daemon: &Daemon, dir: &Path, app_name: &str) -> std::process::Child {
    forwarded(daemon, dir, app_name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn timed(mut command: Command) -> (Duration, std::process::Output) {
    let started = Instant::now();
    let output = command.output().unwrap();
    (started.elapsed(), output)
}

#[test]
fn one_apps_looping_modules_do_not_delay_other_apps() {
    let daemon = Daemon::start(&["--concurrency", "2", "--module-timeout", "20s"]);
    let loops = looping_app();
    let mut spinning: Vec<_> = (0..4)
        .map(|_| spawn_generate(&daemon, &loops.dir(), "loops"))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let (elapsed, output) = timed(forwarded(&daemon, &quick_app().dir(), "shop"));
    success(&output);
    assert!(
        elapsed < Duration::from_secs(5),
        "another app waited {elapsed:?}"
    );
    for child in &mut spinning {
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn a_killed_client_frees_its_slot_at_once() {
    let address = free_local_address();
    let daemon = Daemon::start(&[
        "--concurrency",
        "1",
        "--module-timeout",
        "30s",
        "--tcp",
        &address,
    ]);
    let loops = looping_app();
    let mut client = spawn_generate(&daemon, &loops.dir(), "loops");
    std::thread::sleep(Duration::from_millis(700));
    client.kill().unwrap();
    client.wait().unwrap();
    let (elapsed, output) = timed(forwarded(&daemon, &quick_app().dir(), "loops"));
    success(&output);
    assert!(
        elapsed < Duration::from_secs(5),
        "the slot was freed after {elapsed:?}"
    );
    let metrics = http_over_tcp(
        &address,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        metrics.contains("argocd_wasm_plugin_failures_total{reason=\"cancelled\"} 1"),
        "{metrics}"
    );
}

#[test]
fn a_hung_daemon_costs_generate_only_the_probe_timeout() {
    let daemon = Daemon::start(&[]);
    let quick = quick_app();
    let pid = daemon.pid().to_string();
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut command = argocd_generate(&quick.dir(), &[]);
    command
        .env("ARGOCD_WASM_PLUGIN_SOCKET", &daemon.socket)
        .env("ARGOCD_WASM_PLUGIN_LOG", "warn");
    let (elapsed, output) = timed(command);
    Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be reached"));
    assert!(success(&output).contains(r#""name":"settings""#));
    assert!(
        elapsed < Duration::from_secs(10),
        "generate took {elapsed:?}"
    );
}

#[test]
fn a_render_budget_bounds_all_steps_together() {
    let app = App::new();
    app.with_module("spin").write("cm.yaml", CONFIGMAP).write(
        "wasm-pipeline.yaml",
        &format!("steps:\n{}", "  - module: modules/spin.wasm\n".repeat(3)),
    );
    let started = Instant::now();
    let stderr = failure(&app.render(&["--module-timeout", "2s", "--render-budget", "1500ms"]));
    assert!(
        stderr.contains("the render ran past its budget of 1.5s"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

// 6. Bounded diagnostics and stderr.

#[test]
fn diagnostics_and_stderr_are_bounded() {
    let app = hostile_app("do: huge-diagnostic, mib: 4", "");
    let stderr = failure(&app.render(&[]));
    assert!(stderr.len() < 16 << 10, "{} bytes of stderr", stderr.len());
    assert!(
        stderr.contains("more bytes)"),
        "{}",
        &stderr[..500.min(stderr.len())]
    );
    assert!(!stderr.contains('\x1b'), "escapes are quoted, not written");

    let app = hostile_app("do: many-warnings, count: 100000", "");
    let output = app.render(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    success(&output);
    assert!(stderr.len() < 16 << 10, "{} bytes of stderr", stderr.len());
    assert!(stderr.contains("… 99980 more"), "{stderr}");
}

// 7. The output cap, as documented.

#[test]
fn the_output_cap_names_itself_and_its_flag() {
    let app = hostile_app("do: huge-output, mib: 3", "");
    let stderr = failure(&app.render(&["--module-output-mib", "2"]));
    assert!(
        stderr.contains("more than the output cap of 2 MiB"),
        "{stderr}"
    );
    assert!(stderr.contains("--module-output-mib"), "{stderr}");
    assert!(!stderr.contains("fuel"), "{stderr}");
    let app = hostile_app("do: huge-output, mib: 3", "");
    success(&app.render(&["--module-output-mib", "8", "--output", "json"]));
}

// 8. The smaller ones.

#[test]
fn generate_survives_an_environment_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let app = quick_app();
    let output = argocd_generate(&app.dir(), &[])
        .env("ODD", std::ffi::OsStr::from_bytes(b"\xff\xfe"))
        .output()
        .unwrap();
    assert!(success(&output).contains(r#""name":"settings""#));
}

#[test]
fn a_module_file_is_size_checked_before_it_is_read() {
    let app = App::new();
    app.write("cm.yaml", CONFIGMAP).write(
        "wasm-pipeline.yaml",
        "steps:\n  - module: modules/big.wasm\n",
    );
    let file = std::fs::File::create(app.dir().join("modules/big.wasm")).unwrap();
    file.set_len(3 << 30).unwrap(); // sparse: takes no disk
    let stderr = failure(&app.render(&[]));
    assert!(
        stderr.contains("is 3072 MiB; a module may be at most 64 MiB"),
        "{stderr}"
    );
}

#[test]
fn traps_say_what_happened_and_quote_stderr_escaped() {
    let stderr = failure(&hostile_app("do: recurse", "").render(&[]));
    assert!(stderr.contains("overflowed its stack"), "{stderr}");
    let stderr = failure(&hostile_app("do: escape-and-panic", "").render(&[]));
    assert!(stderr.contains("hostile panic"), "{stderr}");
    assert!(stderr.contains("\\u{1b}[2J"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

#[test]
fn logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let app = hostile_app("do: many-warnings, count: 1", "");
    let output = app.render(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    success(&output);
    assert!(stderr.contains("warning 0"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

// A module built against contract 0.1.0 before these changes still loads and runs.

#[test]
fn a_module_built_before_the_containment_changes_still_runs() {
    let app = App::new();
    std::fs::copy(
        fixture("modules/contract-0.1.0/add_label.wasm"),
        app.dir().join("modules/add-label.wasm"),
    )
    .unwrap();
    app.write("cm.yaml", CONFIGMAP).write(
        "wasm-pipeline.yaml",
        "steps:\n  - module: modules/add-label.wasm\n    with: {key: team, value: payments}\n",
    );
    assert!(success(&app.render(&[])).contains("team: payments"));
}
