//! The foundation: pipeline, sandbox, caching, determinism, Argo CD's entry point.

use std::time::{Duration, Instant};

use crate::support::*;

fn add_label_pipeline(extra: &str) -> String {
    format!(
        "steps:\n  - name: team-label\n    module: modules/add-label.wasm\n    with: {{key: team, value: payments}}\n{extra}"
    )
}

#[test]
fn a_directory_without_pipeline_renders_unchanged() {
    let app = App::new();
    app.write("b.yaml", CONFIGMAP).write(
        "a.json",
        r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"stage"}}"#,
    );
    let out = success(&app.render(&[]));
    assert_eq!(
        out,
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: stage\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n"
    );
}

#[test]
fn the_example_module_transforms_objects_as_a_component() {
    let app = App::new();
    app.with_module("add-label")
        .write("cm.yaml", CONFIGMAP)
        .write("wasm-pipeline.yaml", &add_label_pipeline(""));
    let out = success(&app.render(&["--output", "json"]));
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["metadata"]["labels"]["team"], "payments");
}

#[test]
fn match_limits_what_a_step_sees_and_secrets_are_withheld() {
    let app = App::new();
    app.with_module("add-label")
        .write("cm.yaml", CONFIGMAP)
        .write("secret.yaml", SECRET)
        .write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n")
        .write("wasm-pipeline.yaml", &add_label_pipeline("    match: {kinds: [ConfigMap, Secret]}\n  - module: modules/add-label.wasm\n    with: {key: all, value: 'yes'}\n"));
    let out = success(&app.render(&["--output", "json"]));
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let labels = |kind: &str| {
        objects.iter().find(|o| o["kind"] == kind).unwrap()["metadata"]["labels"].clone()
    };
    assert_eq!(
        labels("ConfigMap"),
        serde_json::json!({"team": "payments", "all": "yes"})
    );
    // The first step names Secret, so it sees it; the second does not, so it must not.
    assert_eq!(labels("Secret"), serde_json::json!({"team": "payments"}));
    assert_eq!(labels("Service"), serde_json::json!({"all": "yes"}));
}

#[test]
fn a_module_that_loops_forever_is_stopped_at_the_deadline() {
    let app = App::new();
    app.with_module("spin").write("cm.yaml", CONFIGMAP).write(
        "wasm-pipeline.yaml",
        "steps:\n  - module: modules/spin.wasm\n",
    );
    let started = Instant::now();
    let stderr = failure(&app.render(&["--module-timeout", "500ms"]));
    let elapsed = started.elapsed();
    assert!(
        stderr.contains("step `spin` (modules/spin.wasm)"),
        "{stderr}"
    );
    assert!(stderr.contains("CPU deadline of 500ms"), "{stderr}");
    // Generous bound: it includes compiling the module on a busy CI machine.
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

#[test]
fn a_module_that_allocates_without_bound_hits_the_memory_cap() {
    let app = App::new();
    app.with_module("alloc-bomb")
        .write("cm.yaml", CONFIGMAP)
        .write(
            "wasm-pipeline.yaml",
            "steps:\n  - module: modules/alloc-bomb.wasm\n",
        );
    let stderr = failure(&app.render(&["--module-memory-mib", "64"]));
    assert!(
        stderr.contains("step `alloc-bomb` (modules/alloc-bomb.wasm)"),
        "{stderr}"
    );
    assert!(stderr.contains("memory cap exceeded"), "{stderr}");
    assert!(stderr.contains("the cap is 64 MiB"), "{stderr}");
}

#[test]
fn a_module_sees_no_files_no_environment_and_no_real_time() {
    let app = App::new();
    app.with_module("sneaky-io")
        .write("cm.yaml", CONFIGMAP)
        .write(
            "wasm-pipeline.yaml",
            "steps:\n  - module: modules/sneaky-io.wasm\n",
        );
    let mut command_env_leak = app.render(&["--output", "json"]);
    let first = success(&command_env_leak);
    let object: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    let annotations = &object["metadata"]["annotations"];
    assert_eq!(
        annotations["sneaky/files"],
        "/etc/passwd:denied,/proc/self/environ:denied,.:denied,/:denied"
    );
    assert_eq!(annotations["sneaky/environment"], "vars=[] args=[]");
    assert!(
        annotations["sneaky/entropy"]
            .as_str()
            .unwrap()
            .starts_with("now=0 "),
        "{annotations}"
    );
    // Same again: seeded randomness and a frozen clock make the module deterministic.
    command_env_leak = app.render(&["--output", "json"]);
    assert_eq!(success(&command_env_leak), first);
}

#[test]
fn the_same_input_renders_byte_identical_output() {
    let app = App::new();
    app.with_module("add-label")
        .write("cm.yaml", CONFIGMAP)
        .write(
            "deploy.yaml",
            &std::fs::read_to_string(fixture("magento-stage/magento-web.yaml")).unwrap(),
        )
        .write("wasm-pipeline.yaml", &add_label_pipeline(""));
    let first = success(&app.render(&[]));
    let second = success(&app.render(&[]));
    assert_eq!(first, second);
    assert!(first.contains("team: payments"));
}

#[test]
fn a_wrong_sha256_pin_is_refused_and_a_right_one_accepted() {
    let app = App::new();
    app.with_module("add-label").write("cm.yaml", CONFIGMAP);
    let wrong = "0".repeat(64);
    app.write(
        "wasm-pipeline.yaml",
        &add_label_pipeline(&format!("    sha256: \"{wrong}\"\n")),
    );
    let stderr = failure(&app.render(&[]));
    assert!(
        stderr.contains("step 1 (modules/add-label.wasm)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("the pipeline pins {wrong}: refusing to run it")),
        "{stderr}"
    );

    let right = sha256_of(&guest_wasm("add-label"));
    app.write(
        "wasm-pipeline.yaml",
        &add_label_pipeline(&format!("    sha256: {right}\n")),
    );
    success(&app.render(&[]));
}

fn sha256_of(path: &std::path::Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn an_invalid_config_is_reported_before_any_object_is_touched() {
    let app = App::new();
    app.with_module("add-label")
        .write("cm.yaml", CONFIGMAP)
        .write(
            "wasm-pipeline.yaml",
            "steps:\n  - name: labels\n    module: modules/add-label.wasm\n    with: {value: x}\n",
        );
    let stderr = failure(&app.render(&[]));
    assert!(
        stderr.contains("step `labels` (modules/add-label.wasm): invalid `with:` config"),
        "{stderr}"
    );
    assert!(stderr.contains("missing field `key`"), "{stderr}");
}

#[test]
fn module_paths_may_not_leave_the_repository() {
    let app = App::new();
    app.write("cm.yaml", CONFIGMAP).write(
        "wasm-pipeline.yaml",
        "steps:\n  - module: ../../outside.wasm\n",
    );
    let stderr = failure(&app.render(&[]));
    assert!(
        stderr.contains("does not exist") || stderr.contains("outside the repository"),
        "{stderr}"
    );
}

#[test]
fn an_empty_render_is_an_error_unless_allowed() {
    let app = App::new();
    app.write("wasm-pipeline.yaml", "steps: []\n");
    let stderr = failure(&app.render(&[]));
    assert!(
        stderr.contains("Argo CD would prune every object"),
        "{stderr}"
    );
    app.write("wasm-pipeline.yaml", "allowEmpty: true\n");
    assert_eq!(success(&app.render(&[])), "");
}

#[test]
fn a_second_run_loads_the_compiled_module_from_the_cache() {
    let app = App::new();
    app.with_module("add-label")
        .write("cm.yaml", CONFIGMAP)
        .write("wasm-pipeline.yaml", &add_label_pipeline(""));
    let logs = |output: std::process::Output| String::from_utf8(output.stderr).unwrap();
    let run = || {
        binary()
            .env("ARGOCD_WASM_PLUGIN_LOG", "info")
            .args(["render", app.dir().to_str().unwrap(), "--cache-dir"])
            .arg(app.repo().join("cache"))
            .output()
            .unwrap()
    };
    assert!(logs(run()).contains("module compiled in"));
    assert!(logs(run()).contains("module loaded from the cache in"));
}

#[test]
fn generate_with_argocd_env_equals_render_with_flags() {
    let app = App::new();
    app.with_module("add-label")
        .write("cm.yaml", CONFIGMAP)
        .write("wasm-pipeline.yaml", &add_label_pipeline(""));
    let rendered = success(&app.render(&[
        "--app-name",
        "argocd_shop",
        "--param",
        "images=a=b",
        "--output",
        "json",
    ]));
    let generated = binary()
        .arg("generate")
        .current_dir(app.dir())
        .env_clear()
        .env("ARGOCD_WASM_PLUGIN_CACHE_DIR", app.repo().join("cache"))
        .env("ARGOCD_APP_NAME", "argocd_shop")
        .env("ARGOCD_APP_SOURCE_PATH", "app")
        .env(
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"images","string":"a=b"}]"#,
        )
        .output()
        .unwrap();
    assert_eq!(success(&generated), rendered);
}
