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

/// The daemon keeps the files it parsed for its next renders: an unchanged base shared by
/// two apps gives what parsing it gives, a changed file is read again, and the metrics
/// count both.
#[test]
fn the_daemon_remembers_parsed_files_by_their_text() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    let config_map = |value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: {value}\n"
        )
    };
    for (path, text) in [
        (".git/HEAD", "ref: refs/heads/main\n".to_owned()),
        (
            "base/kustomization.yaml",
            "resources: [cm.yaml]\n".to_owned(),
        ),
        ("base/cm.yaml", config_map("blue")),
        (
            "a/kustomization.yaml",
            "resources: [../base]\nnamePrefix: a-\n".to_owned(),
        ),
        (
            "b/kustomization.yaml",
            "resources: [../base]\nnamePrefix: b-\n".to_owned(),
        ),
    ] {
        std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
        std::fs::write(root.join(path), text).unwrap();
    }
    let address = free_local_address();
    let daemon = Daemon::start(&["--tcp", &address]);
    let both_ways = |app: &str| {
        let dir = root.join(app);
        let in_process = success(&argocd_generate(&dir, &[]).output().unwrap());
        assert_eq!(success(&daemon.generate(&dir, &[])), in_process, "{app}");
        in_process
    };
    assert!(both_ways("a").contains(r#""name":"a-settings""#));
    assert!(both_ways("b").contains(r#""mode":"blue""#));
    std::fs::write(root.join("base/cm.yaml"), config_map("green")).unwrap();
    assert!(both_ways("a").contains(r#""mode":"green""#));
    let metrics = http_get(&address, "/metrics");
    for expected in [
        r#"argocd_wasm_plugin_manifest_files_total{result="parsed"} 2"#,
        r#"argocd_wasm_plugin_manifest_files_total{result="remembered"} 1"#,
    ] {
        assert!(
            metrics.contains(expected),
            "missing {expected:?} in:\n{metrics}"
        );
    }
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
    let address = free_local_address();
    let daemon = Daemon::start(&["--tcp", &address]);
    success(&daemon.generate(&magento(), ARGOCD_ENV));
    let get = |path: &str| http_get(&address, path);
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
fn a_parameter_without_a_value_or_with_several_shapes_is_accepted() {
    let with_extra_shapes = [(
        "ARGOCD_APP_PARAMETERS",
        r#"[{"name":"images"},{"name":"active-colour","string":"green","array":["blue"]}]"#,
    )];
    let generated = success(
        &argocd_generate(&magento(), &with_extra_shapes)
            .output()
            .unwrap(),
    );
    assert!(
        generated.contains(r#""color":"green""#),
        "the announced string shape wins"
    );
    assert!(
        generated.contains(r#""image":"magento:2.4.7""#),
        "no images: unchanged"
    );
}

/// Image Updater's two plugin write-back modes, as Argo CD passes them on.
#[test]
fn image_updater_env_sets_two_images_in_spec_and_name_tag_mode() {
    const DIGEST: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    let nginx_tag = format!("1.28@{DIGEST}");
    let env = [
        ("ARGOCD_APP_NAME", "magento-stage"),
        ("ARGOCD_APP_PARAMETERS", "null"),
        (
            "ARGOCD_ENV_MAGENTO_IMAGE",
            "123456789.dkr.ecr.eu-west-1.amazonaws.com/magento:2.4.8",
        ),
        ("ARGOCD_ENV_NGINX_NAME", "registry.example.com/nginx"),
        ("ARGOCD_ENV_NGINX_TAG", nginx_tag.as_str()),
    ];
    let generated = success(&argocd_generate(&magento(), &env).output().unwrap());
    for image in [
        r#""image":"123456789.dkr.ecr.eu-west-1.amazonaws.com/magento:2.4.8""#.to_owned(),
        format!(r#""image":"registry.example.com/nginx:1.28@{DIGEST}""#),
    ] {
        assert_eq!(generated.matches(&image).count(), 2, "both slots: {image}");
    }
    assert!(!generated.contains(r#""image":"magento:2.4.7""#));
}

#[test]
fn kustomization_only_and_plain_manifest_apps_generate_through_the_plugin() {
    let app = App::new();
    app.write("plain/configmap.yaml", CONFIGMAP);
    app.write("kustomized/base/configmap.yaml", CONFIGMAP);
    app.write(
        "kustomized/kustomization.yaml",
        "resources: [base/configmap.yaml]\nnamePrefix: stage-\n",
    );
    let mut plain = argocd_generate(
        &app.dir().join("plain"),
        &[("ARGOCD_APP_SOURCE_PATH", "app/plain")],
    );
    assert!(success(&plain.output().unwrap()).contains(r#""name":"settings""#));
    let mut kustomized = argocd_generate(
        &app.dir().join("kustomized"),
        &[("ARGOCD_APP_SOURCE_PATH", "app/kustomized")],
    );
    assert!(success(&kustomized.output().unwrap()).contains(r#""name":"stage-settings""#));
}

/// A module cache as in the pod: the built-ins precompiled into a read-only directory when
/// the image is built, an empty writable emptyDir for the rest.
struct PodCache {
    _dir: tempfile::TempDir,
    precompiled: PathBuf,
    writable: PathBuf,
}

impl PodCache {
    fn seeded_at_image_build() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let precompiled = dir.path().join("precompiled");
        let writable = dir.path().join("cache");
        let mut build = binary();
        build
            .args(["serve", "--precompile-builtins", "--cache-dir"])
            .arg(&precompiled);
        success(&build.output().unwrap());
        make_read_only(&precompiled);
        std::fs::create_dir(&writable).unwrap();
        Self {
            _dir: dir,
            precompiled,
            writable,
        }
    }

    /// Points `command` at this cache and turns the module-load log on.
    fn apply<'a>(&self, command: &'a mut std::process::Command) -> &'a mut std::process::Command {
        command
            .env("ARGOCD_WASM_PLUGIN_PRECOMPILED_DIR", &self.precompiled)
            .env("ARGOCD_WASM_PLUGIN_CACHE_DIR", &self.writable)
            .env("ARGOCD_WASM_PLUGIN_LOG", "info")
    }

    fn files(dir: &std::path::Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(Self::files(&path));
            } else {
                files.push(path);
            }
        }
        files
    }
}

impl Drop for PodCache {
    /// Lets the temporary directory be removed.
    fn drop(&mut self) {
        set_modes(&self.precompiled, 0o755, 0o644);
    }
}

fn make_read_only(dir: &std::path::Path) {
    set_modes(dir, 0o555, 0o444);
}

fn set_modes(dir: &std::path::Path, dir_mode: u32, file_mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    mode(dir, dir_mode);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            set_modes(&path, dir_mode, file_mode);
        } else {
            mode(&path, file_mode);
        }
    }
}

/// Asserts the log shows modules loaded from the precompiled directory and none compiled.
fn assert_nothing_compiled(stderr: &str) {
    assert!(
        stderr.contains("loaded from the precompiled directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("module compiled"), "{stderr}");
    assert!(!stderr.contains("WARN"), "{stderr}");
}

#[test]
fn generate_and_parameters_with_a_read_only_cache_seeded_at_image_build_compile_nothing() {
    let cache = PodCache::seeded_at_image_build();
    let seeded = PodCache::files(&cache.precompiled);
    assert!(!seeded.is_empty());

    let output = cache
        .apply(&mut argocd_generate(&magento(), ARGOCD_ENV))
        .output()
        .unwrap();
    assert_nothing_compiled(&String::from_utf8_lossy(&output.stderr));
    let reference = argocd_generate(&magento(), ARGOCD_ENV).output().unwrap();
    assert_eq!(success(&output), success(&reference));

    let mut parameters = binary();
    parameters.arg("parameters").current_dir(magento());
    let output = cache.apply(&mut parameters).output().unwrap();
    assert_nothing_compiled(&String::from_utf8_lossy(&output.stderr));
    assert!(success(&output).contains("\"active-colour\""));

    assert!(
        PodCache::files(&cache.writable).is_empty(),
        "nothing to store"
    );
    assert_eq!(PodCache::files(&cache.precompiled), seeded);
}

#[test]
fn parameters_are_answered_by_the_daemon_when_it_is_up() {
    let daemon = Daemon::start(&[]);
    let in_process = binary()
        .arg("parameters")
        .current_dir(magento())
        .output()
        .unwrap();
    let forwarded = binary()
        .arg("parameters")
        .current_dir(magento())
        .env("ARGOCD_WASM_PLUGIN_SOCKET", &daemon.socket)
        .env("ARGOCD_WASM_PLUGIN_LOG", "info")
        .output()
        .unwrap();
    assert_eq!(success(&forwarded), success(&in_process));
    let log = String::from_utf8_lossy(&forwarded.stderr);
    assert!(
        !log.contains("module"),
        "no module loaded in this process: {log}"
    );
}

/// deploy/plugin.yaml: no discover rule, so Applications name the plugin and Argo CD never
/// tars a repository just to ask whether the plugin matches.
#[test]
fn the_plugin_has_no_discover_rule() {
    let plugin = &yaml_documents(&read(&deploy().join("plugin.yaml")))[0];
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["metadata"]["name"], "argocd-wasm-plugin");
    assert!(plugin["spec"].get("discover").is_none(), "{plugin}");
    assert_eq!(
        plugin["spec"]["generate"]["command"],
        serde_json::json!(["argocd-wasm-plugin", "generate"])
    );
}

fn deploy() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml_documents(text: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize as _;
    serde_norway::Deserializer::from_str(text)
        .map(|document| serde_json::Value::deserialize(document).unwrap())
        .filter(|document| !document.is_null())
        .collect()
}

fn find<'a>(objects: &'a [serde_json::Value], kind: &str, name: &str) -> &'a serde_json::Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn named<'a>(list: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    list.as_array()?.iter().find(|item| item["name"] == name)
}

/// The install of docs/argocd.md on Argo CD's official manifest (v3.5.1, vendored): rendered
/// with `kubectl kustomize` when it is installed (and then equal to the recorded render),
/// else the recorded render, checked against deploy/.
fn installed() -> Vec<serde_json::Value> {
    let install = fixture("argocd-install");
    let recorded = yaml_documents(&read(&install.join("expected.yaml")));
    match std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(&install)
        .output()
    {
        Ok(output) => {
            let rendered = yaml_documents(&success(&output));
            assert_eq!(
                rendered, recorded,
                "re-record expected.yaml (see its header)"
            );
            rendered
        }
        Err(_) => {
            eprintln!("kubectl is not installed: checking the recorded render");
            recorded
        }
    }
}

#[test]
fn the_component_on_the_official_install_keeps_the_repo_server_whole() {
    let official = yaml_documents(&read(&fixture("argocd-install/install.yaml")));
    let installed = installed();
    // Every object of Argo CD's install is still there, unchanged but for the namespace;
    // the repo-server Deployment only gains what the Component adds.
    for original in &official {
        let (kind, name) = (
            original["kind"].as_str().unwrap(),
            original["metadata"]["name"].as_str().unwrap(),
        );
        let mut result = find(&installed, kind, name).clone();
        assert_eq!(result["metadata"]["namespace"], "argocd");
        result["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
        if (kind, name) != ("Deployment", "argocd-repo-server") {
            assert_eq!(&result, original, "{kind} {name} changed");
            continue;
        }
        let (before, after) = (
            &original["spec"]["template"]["spec"],
            &result["spec"]["template"]["spec"],
        );
        for list in ["containers", "initContainers", "volumes"] {
            for item in before[list].as_array().unwrap() {
                let name = item["name"].as_str().unwrap();
                assert_eq!(
                    named(&after[list], name),
                    Some(item),
                    "{list} {name} changed"
                );
            }
        }
        for (key, value) in before.as_object().unwrap() {
            if !["containers", "volumes"].contains(&key.as_str()) {
                assert_eq!(&after[key], value, "pod spec field {key} changed");
            }
        }
        let mut others = result.clone();
        others["spec"]["template"]["spec"] = original["spec"]["template"]["spec"].clone();
        assert_eq!(
            &others, original,
            "the Deployment changed outside its pod spec"
        );
    }
    // What the Component adds: the patch's containers and volumes as written, the daemon
    // with startup and liveness probes only, and the plugin's ConfigMap.
    let patch = &yaml_documents(&read(&deploy().join("repo-server-sidecar.yaml")))[0];
    let after = &find(&installed, "Deployment", "argocd-repo-server")["spec"]["template"]["spec"];
    for list in ["containers", "volumes"] {
        for item in patch["spec"]["template"]["spec"][list].as_array().unwrap() {
            let name = item["name"].as_str().unwrap();
            assert_eq!(named(&after[list], name), Some(item), "{list} {name}");
        }
    }
    let daemon = named(&after["containers"], "argocd-wasm-plugin-daemon").unwrap();
    assert!(daemon.get("startupProbe").is_some() && daemon.get("livenessProbe").is_some());
    assert!(
        daemon.get("readinessProbe").is_none(),
        "a readiness probe would gate the repo-server"
    );
    let config = find(&installed, "ConfigMap", "argocd-wasm-plugin");
    assert_eq!(config["metadata"]["namespace"], "argocd");
    assert_eq!(
        config["data"]["plugin.yaml"],
        read(&deploy().join("plugin.yaml"))
    );
    assert_eq!(
        installed.len(),
        official.len() + 1,
        "one ConfigMap added, nothing else"
    );
}
