//! The Argo CD side: generate under Argo CD's exact environment, the warm daemon, the
//! parameters announcement, and the deploy/ manifests.

use std::path::PathBuf;

use crate::support::*;

/// Argo CD's environment for the magento app, with parameters of every shape.
const ARGOCD_ENV: &[(&str, &str)] = &[
    ("ARGOCD_APP_NAME", "team-a_magento-stage"),
    ("ARGOCD_APP_NAMESPACE", "stage"),
    ("ARGOCD_APP_PROJECT_NAME", "default"),
    (
        "ARGOCD_APP_REVISION",
        "0123456789abcdef0123456789abcdef01234567",
    ),
    ("ARGOCD_APP_REVISION_SHORT", "0123456"),
    ("ARGOCD_APP_SOURCE_PATH", "tests/fixtures/magento-stage"),
    (
        "ARGOCD_APP_SOURCE_REPO_URL",
        "https://gitlab.example.com/platform/magento-platform.git",
    ),
    ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main"),
    ("KUBE_VERSION", "1.31"),
    ("KUBE_API_VERSIONS", "v1,apps/v1,batch/v1"),
    (
        "ARGOCD_APP_PARAMETERS",
        r#"[{"name":"images","array":["magento=registry.example.com/magento:2.4.8","nginx=nginx:1.28"]},{"name":"active-colour","string":"green"},{"name":"slot-images","map":{"blue":"nginx=nginx:1.27-alpine"}}]"#,
    ),
];

/// The same inputs as `render` flags.
const RENDER_FLAGS: &[&str] = &[
    "--param",
    "images=magento=registry.example.com/magento:2.4.8",
    "--param",
    "images=nginx=nginx:1.28",
    "--param",
    "active-colour=green",
    "--param",
    "slot-images.blue=nginx=nginx:1.27-alpine",
];

fn magento() -> PathBuf {
    fixture("magento-stage")
}

#[test]
fn generate_under_argocd_env_equals_render_with_the_same_parameters() {
    let generated = success(&argocd_generate(&magento(), ARGOCD_ENV).output().unwrap());
    let mut render = binary();
    render.arg("render").arg(magento()).args(RENDER_FLAGS);
    let json = success(&render.args(["--output", "json"]).output().unwrap());
    assert_eq!(
        generated, json,
        "generate hands Argo CD JSON, one object a line"
    );
    assert!(generated.contains(r#""image":"registry.example.com/magento:2.4.8""#));
    assert!(
        generated.contains(r#""image":"nginx:1.27-alpine""#),
        "the blue slot's own nginx"
    );
    assert!(generated.contains(r#""color":"green""#));
}

#[test]
fn null_parameters_and_env_values_with_equals_signs_work() {
    let env = [
        ("ARGOCD_APP_PARAMETERS", "null"),
        ("ARGOCD_APP_NAME", "magento-stage"),
        (
            "ARGOCD_ENV_IMAGES",
            "magento=registry.example.com/magento:a=b",
        ),
    ];
    let output = argocd_generate(&magento(), &env).output().unwrap();
    // `a=b` is not a valid tag: the error must name the input, proving the value arrived whole.
    let stderr = failure(&output);
    assert!(stderr.contains("ARGOCD_ENV_IMAGES item 1"), "{stderr}");
    let env = [
        ("ARGOCD_APP_PARAMETERS", "null"),
        ("ARGOCD_ENV_ACTIVE_COLOUR", "green"),
    ];
    let generated = success(&argocd_generate(&magento(), &env).output().unwrap());
    assert!(generated.contains(r#""color":"green""#));
}

#[test]
fn the_daemon_and_the_in_process_path_give_identical_bytes() {
    let daemon = Daemon::start(&[]);
    let in_process = success(&argocd_generate(&magento(), ARGOCD_ENV).output().unwrap());
    assert_eq!(
        success(&daemon.generate(&magento(), ARGOCD_ENV)),
        in_process
    );
    // A render error travels back whole, with nothing on stdout.
    let bad = [(
        "ARGOCD_APP_PARAMETERS",
        r#"[{"name":"active-colour","string":"purple"}]"#,
    )];
    assert!(failure(&daemon.generate(&magento(), &bad)).contains("purple"));
}

#[test]
fn generate_falls_back_to_in_process_when_the_socket_is_dead() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("serve.sock");
    std::os::unix::net::UnixListener::bind(&stale).unwrap(); // bound, then dropped: nobody answers
    let forwarded = argocd_generate(&magento(), ARGOCD_ENV)
        .env("ARGOCD_WASM_PLUGIN_SOCKET", &stale)
        .output()
        .unwrap();
    let in_process = argocd_generate(&magento(), ARGOCD_ENV).output().unwrap();
    assert_eq!(success(&forwarded), success(&in_process));
}

/// Twenty apps: the magento app under different parameters, plus hostile and broken ones.
fn twenty_apps() -> (App, Vec<(PathBuf, String)>) {
    let app = App::new();
    let magento = std::fs::read_dir(magento())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect::<Vec<_>>();
    let mut apps = Vec::new();
    for i in 0..20 {
        let dir = format!("apps/app-{i:02}");
        for file in &magento {
            app.write(
                &format!("{dir}/{}", file.file_name().unwrap().to_str().unwrap()),
                &std::fs::read_to_string(file).unwrap(),
            );
        }
        let parameters = match i % 4 {
            0 => format!(
                r#"[{{"name":"images","array":["magento=registry.example.com/magento:{i}"]}}]"#
            ),
            1 => r#"[{"name":"active-colour","string":"green"}]"#.to_owned(),
            2 => format!(
                r#"[{{"name":"slot-images","map":{{"green":"magento=registry.example.com/magento:{i}"}}}}]"#
            ),
            _ => r#"[{"name":"active-colour","string":"purple"}]"#.to_owned(), // fails
        };
        apps.push((app.dir().join(&dir), parameters));
    }
    // One app's module loops forever: it must fail alone, at its deadline.
    std::fs::copy(guest_wasm("spin"), app.dir().join("apps/app-07/spin.wasm")).unwrap();
    app.write(
        "apps/app-07/wasm-pipeline.yaml",
        "steps:\n  - module: spin.wasm\n",
    );
    (app, apps)
}

#[test]
fn two_hundred_parallel_requests_over_twenty_apps_match_the_sequential_results() {
    let daemon = Daemon::start(&["--module-timeout", "1s"]);
    let (_repo, apps) = twenty_apps();
    let run = |(dir, parameters): &(PathBuf, String)| {
        let output = daemon.generate(dir, &[("ARGOCD_APP_PARAMETERS", parameters)]);
        (output.status.success(), output.stdout)
    };
    let sequential: Vec<_> = apps.iter().map(run).collect();
    assert_eq!(
        sequential.iter().filter(|(ok, _)| !ok).count(),
        5,
        "app-03/07/11/15/19 fail"
    );
    let requests: Vec<usize> = (0..200).map(|i| i % apps.len()).collect();
    let parallel: Vec<(usize, (bool, Vec<u8>))> = std::thread::scope(|scope| {
        let workers: Vec<_> = requests
            .chunks(25)
            .map(|chunk| {
                scope.spawn(|| {
                    chunk
                        .iter()
                        .map(|&i| (i, run(&apps[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(parallel.len(), 200);
    for (index, outcome) in parallel {
        assert_eq!(outcome, sequential[index], "app {index} differs under load");
    }
}

#[test]
fn the_daemon_serves_health_and_metrics() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let daemon = Daemon::start(&["--tcp", &address]);
    success(&daemon.generate(&magento(), ARGOCD_ENV));
    let get = |path: &str| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    assert!(get("/healthz").ends_with("ok"));
    assert!(get("/readyz").ends_with("ready"));
    let metrics = get("/metrics");
    for expected in [
        "argocd_wasm_plugin_requests_total 1",
        "argocd_wasm_plugin_request_duration_seconds_count 1",
        "argocd_wasm_plugin_module_duration_seconds_count{module=\"colour-selector\"} 1",
        "argocd_wasm_plugin_module_loads_total{source=\"memory\"}",
    ] {
        assert!(
            metrics.contains(expected),
            "missing {expected:?} in:\n{metrics}"
        );
    }
}

#[test]
fn parameters_announce_every_step_module_parameter_for_argocd() {
    let output = binary()
        .arg("parameters")
        .current_dir(magento())
        .output()
        .unwrap();
    let announced: serde_json::Value = serde_json::from_str(&success(&output)).unwrap();
    let names: Vec<&str> = announced
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["images", "active-colour", "slot-images"]);
    assert_eq!(announced[0]["collectionType"], "array");
    assert_eq!(announced[2]["collectionType"], "map");
    assert_eq!(announced[1]["itemType"], "string");
}

#[test]
fn the_deploy_directory_renders_with_kubectl_kustomize() {
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let Ok(output) = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(&deploy)
        .output()
    else {
        eprintln!("kubectl is not installed: skipping");
        return;
    };
    let rendered = success(&output);
    for expected in [
        "command:\n        - /var/run/argocd/argocd-cmp-server",
        "runAsUser: 999",
        "readOnlyRootFilesystem: true",
        "subPath: plugin.yaml",
        "mountPath: /var/run/argocd-wasm-plugin",
        "name: argocd-wasm-plugin-daemon",
        "fileName: wasm-pipeline.yaml",
    ] {
        assert!(
            rendered.contains(expected),
            "missing {expected:?} in:\n{rendered}"
        );
    }
}
