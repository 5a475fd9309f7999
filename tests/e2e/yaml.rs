//! YAML in and out exactly as Kubernetes reads it: the reading matrix agrees with `kubectl
//! kustomize` (recorded, and live when kubectl is on PATH), every string of a 60-value
//! matrix survives YAML 1.1 and 1.2 readers on every path, merge keys apply, duplicate keys
//! fail with file, line and key.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::*;
use crate::yaml_readers::{yaml11, yaml12};

/// What kubectl kustomize makes of each scalar, recorded from kubectl v5.5.
const KUBECTL_SCALARS: &str = include_str!("../fixtures/yaml/kubectl-scalars.json");

/// A scalar of the reading matrix: its YAML text and kubectl's value (`None`: kubectl
/// refuses the file).
struct Case {
    yaml: String,
    kubectl: Option<Value>,
}

fn cases(section: &str) -> Vec<Case> {
    let matrix: Value = serde_json::from_str(KUBECTL_SCALARS).unwrap();
    matrix[section]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| Case {
            yaml: case["yaml"].as_str().unwrap().to_owned(),
            kubectl: case.get("kubectl").cloned(),
        })
        .collect()
}

const HEAD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: matrix\ndata:\n";

/// The manifest for a set of values (`data.vNNN: TEXT`) or keys (`TEXT: x`).
fn manifest(section: &str, texts: &[&String]) -> String {
    let lines: String = texts
        .iter()
        .enumerate()
        .map(|(index, text)| match section {
            "values" => format!("  v{index:03}: {text}\n"),
            _ => format!("  {text}: x\n"),
        })
        .collect();
    format!("{HEAD}{lines}")
}

/// What a reader made of the value case `index`; for keys, whether the expected key is
/// there (kubectl sorts keys, so their order says nothing).
fn found(section: &str, data: &Value, index: usize, expected: &Value) -> Value {
    match section {
        "values" => data[format!("v{index:03}")].clone(),
        _ => match expected.as_str().is_some_and(|key| data.get(key).is_some()) {
            true => expected.clone(),
            false => json!(format!(
                "missing among {:?}",
                data.as_object().map(|m| m.keys().collect::<Vec<_>>())
            )),
        },
    }
}

fn ours(manifest: &str) -> Result<Value, String> {
    let app = App::new();
    app.write("matrix.yaml", manifest);
    let output = app.render(&["--output", "json"]);
    match output.status.success() {
        true => Ok(objects(&success(&output))[0]["data"].clone()),
        false => Err(failure(&output)),
    }
}

/// kubectl's own JSON for the manifest: `kubectl kustomize`, turned into JSON by kubectl.
fn kubectls(manifest: &str) -> Result<Value, String> {
    let app = App::new();
    app.write("matrix.yaml", manifest)
        .write("kustomization.yaml", "resources: [matrix.yaml]\n");
    let built = Command::new("kubectl")
        .arg("kustomize")
        .arg(app.dir())
        .output()
        .unwrap();
    if !built.status.success() {
        return Err(String::from_utf8_lossy(&built.stderr).into_owned());
    }
    let mut annotate = Command::new("kubectl")
        .args(["annotate", "--local", "-f", "-", "-o", "json", "matrix=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut annotate.stdin.take().unwrap(), &built.stdout).unwrap();
    let json = annotate.wait_with_output().unwrap();
    Ok(serde_json::from_slice::<Value>(&json.stdout).unwrap()["data"].clone())
}

fn kubectl_on_path() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Equal values; kubectl's JSON carries numbers as 64-bit floats, so `loose` compares
/// numbers that way.
fn same(a: &Value, b: &Value, loose: bool) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if loose => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Runs one section of the matrix through `read` (all accepted cases in one manifest, each
/// refused case alone) and returns the disagreements with the recorded kubectl values.
fn disagreements(
    section: &str,
    read: fn(&str) -> Result<Value, String>,
    loose: bool,
) -> Vec<String> {
    let all = cases(section);
    let (accepted, refused): (Vec<&Case>, Vec<&Case>) =
        all.iter().partition(|case| case.kubectl.is_some());
    let mut wrong = Vec::new();
    let texts: Vec<&String> = accepted.iter().map(|case| &case.yaml).collect();
    match read(&manifest(section, &texts)) {
        Ok(data) => {
            for (index, case) in accepted.iter().enumerate() {
                let expected = case.kubectl.as_ref().unwrap();
                let got = found(section, &data, index, expected);
                if !same(&got, expected, loose) {
                    wrong.push(format!("`{}`: expected {expected}, got {got}", case.yaml));
                }
            }
        }
        Err(error) => wrong.push(format!("the accepted {section} were refused: {error}")),
    }
    for case in refused {
        if let Ok(data) = read(&manifest(section, &[&case.yaml])) {
            wrong.push(format!("`{}`: expected a refusal, got {data}", case.yaml));
        }
    }
    wrong
}

#[test]
fn the_reading_matrix_agrees_with_kubectl_value_for_value() {
    let mut wrong = disagreements("values", ours, false);
    wrong.extend(disagreements("keys", ours, false));
    assert!(
        wrong.is_empty(),
        "we read differently from kubectl:\n{}",
        wrong.join("\n")
    );
    assert!(cases("values").len() >= 120 && cases("keys").len() >= 19);
}

#[test]
fn the_recorded_matrix_is_what_kubectl_does_today() {
    if !kubectl_on_path() {
        eprintln!("kubectl is not on PATH: checked against the recorded matrix only");
        return;
    }
    let mut wrong = disagreements("values", kubectls, true);
    wrong.extend(disagreements("keys", kubectls, true));
    assert!(
        wrong.is_empty(),
        "kubectl no longer does what the fixture records:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn refused_scalars_name_the_file_line_and_what_to_do() {
    let app = App::new();
    app.write("matrix.yaml", &format!("{HEAD}  a: x\n  b: .inf\n"));
    let stderr = failure(&app.render(&[]));
    assert!(
        stderr.contains("matrix.yaml:7: `.inf` is not a number JSON can hold"),
        "{stderr}"
    );
    app.write("matrix.yaml", &format!("{HEAD}  1: x\n"));
    let stderr = failure(&app.render(&[]));
    assert!(
        stderr.contains("matrix.yaml:6: the key `1` is read as a number"),
        "{stderr}"
    );
}

const VOLUME: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      volumes:\n      - name: config\n        configMap:\n          name: config\n          defaultMode: 0644\n";

#[test]
fn default_mode_0644_renders_as_420_from_a_directory_and_a_kustomization() {
    let plain = App::new();
    plain.write("deployment.yaml", VOLUME);
    let tree = App::new();
    tree.write("deployment.yaml", VOLUME)
        .write("kustomization.yaml", "resources: [deployment.yaml]\n");
    for app in [plain, tree] {
        let rendered = success(&app.render(&[]));
        assert!(
            rendered.contains("\n          defaultMode: 420\n"),
            "{rendered}"
        );
    }
}

/// Strings some reader takes for something else unless they are quoted, and strings
/// YAML's syntax needs quoted, plus plain ones that must stay readable.
const STRINGS: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Yes",
    "NO",
    "On",
    "OFF",
    "Y",
    "N",
    "true",
    "False",
    "~",
    "null",
    "NULL",
    "",
    "0644",
    "0o644",
    "0x1F",
    "0b101",
    "1e3",
    "1_000",
    "08",
    "+12",
    "-0",
    "1.0",
    ".5",
    ".inf",
    "-.Inf",
    ".nan",
    "=",
    "<<",
    "1:20",
    "190:20:30",
    "2002-12-14",
    "2001-12-14 21:59:43.10 -5",
    "2001-12-14t21:59:43.10-05:00",
    "9223372036854775808",
    "18446744073709551616",
    "1e500",
    "0xFFFFFFFFFFFFFFFFF",
    "- a",
    "-",
    "a: b",
    "a:",
    "a #b",
    "#c",
    "'q'",
    "\"dq\"",
    "@at",
    "`tick",
    "%p",
    "!bang",
    "&amp",
    "*star",
    "|pipe",
    ">gt",
    "[x]",
    "{y}",
    ",z",
    "? q",
    "---",
    " lead",
    "trail ",
    "multi\nline\n",
    "keep\n\n",
    "strip\nx",
    "tab\there",
    "--appendonly",
    "é ☃",
    "a\u{85}b",
    "plain words",
];

/// The manifests holding every string of [`STRINGS`]: as label and annotation values,
/// ConfigMap keys and values, env values and container args.
fn carrier_objects() -> Value {
    let indexed = |prefix: &str| -> serde_json::Map<String, Value> {
        STRINGS
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{prefix}{i:02}"), json!(s)))
            .collect()
    };
    let data: serde_json::Map<String, Value> = STRINGS
        .iter()
        .map(|s| (format!("k{s}"), json!(s)))
        .chain(
            STRINGS
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| (s.to_string(), json!("v"))),
        )
        .collect();
    let env: Vec<Value> = STRINGS
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"name": format!("E{i:02}"), "value": s}))
        .collect();
    json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "strings", "labels": indexed("l"), "annotations": indexed("a")},
         "data": data},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
         "spec": {"template": {"spec": {"containers": [
             {"name": "app", "image": "app:1", "env": env, "args": STRINGS}]}}}},
    ]})
}

/// Every string placed by [`carrier_objects`] must come back from `objects` unchanged.
fn assert_every_string_survives(objects: &[Value], reader: &str) {
    let configmap = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap")
        .expect("the ConfigMap");
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("the Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let mut lost = Vec::new();
    for (i, s) in STRINGS.iter().enumerate() {
        let expected = json!(s);
        let places = [
            (
                "label",
                &configmap["metadata"]["labels"][format!("l{i:02}")],
            ),
            (
                "annotation",
                &configmap["metadata"]["annotations"][format!("a{i:02}")],
            ),
            ("ConfigMap value", &configmap["data"][format!("k{s}")]),
            ("env value", &container["env"][i]["value"]),
            ("arg", &container["args"][i]),
        ];
        for (place, got) in places {
            if *got != expected {
                lost.push(format!("{place} {expected} came back as {got}"));
            }
        }
        if !s.is_empty() && configmap["data"].get(*s).is_none() {
            lost.push(format!("ConfigMap key {expected} is missing"));
        }
    }
    assert!(
        lost.is_empty(),
        "the {reader} reader lost strings:\n{}",
        lost.join("\n")
    );
}

/// `render` of `app` as YAML, compiling modules once for the whole test run.
fn render_yaml(app: &App) -> String {
    success(&binary().arg("render").arg(app.dir()).output().unwrap())
}

/// Renders `app` as YAML and reads it back with both readers.
fn assert_round_trips(app: &App, path: &str) {
    let rendered = render_yaml(app);
    assert_every_string_survives(&yaml11(&rendered), &format!("YAML 1.1 ({path})"));
    assert_every_string_survives(&yaml12(&rendered), &format!("YAML 1.2 ({path})"));
}

#[test]
fn every_string_survives_yaml11_and_yaml12_readers_from_a_plain_directory() {
    let app = App::new();
    app.write("strings.json", &carrier_objects().to_string());
    assert_round_trips(&app, "plain directory");
}

#[test]
fn every_string_survives_a_module_step() {
    let app = App::new();
    app.write("strings.json", &carrier_objects().to_string())
        .write(
            "wasm-pipeline.yaml",
            "steps:\n- module: builtin:image-tags\n",
        );
    assert_round_trips(&app, "module step");
}

#[test]
fn every_string_survives_a_kustomization_also_as_common_labels_and_namespace() {
    let app = App::new();
    let labels: serde_json::Map<String, Value> = STRINGS
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("c{i:02}"), json!(s)))
        .collect();
    app.write("strings.json", &carrier_objects().to_string())
        .write(
            "kustomization.yaml",
            &json!({"resources": ["strings.json"], "commonLabels": labels}).to_string(),
        );
    assert_round_trips(&app, "kustomization");
    let rendered = render_yaml(&app);
    for objects in [yaml11(&rendered), yaml12(&rendered)] {
        let configmap = objects.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
        for (i, s) in STRINGS.iter().enumerate() {
            assert_eq!(
                configmap["metadata"]["labels"][format!("c{i:02}")],
                json!(s),
                "commonLabels"
            );
        }
    }
}

#[test]
fn every_string_survives_as_a_kustomization_namespace() {
    // One level per namespace, all under one root: one render.
    let app = App::new();
    let namespaces: Vec<&str> = STRINGS.iter().copied().filter(|s| !s.is_empty()).collect();
    let levels: Vec<String> = (0..namespaces.len()).map(|i| format!("ns{i:02}")).collect();
    for (level, namespace) in levels.iter().zip(&namespaces) {
        let configmap =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": level}});
        app.write(&format!("{level}/configmap.json"), &configmap.to_string())
            .write(
                &format!("{level}/kustomization.yaml"),
                &json!({"resources": ["configmap.json"], "namespace": namespace}).to_string(),
            );
    }
    app.write(
        "kustomization.yaml",
        &json!({"resources": levels}).to_string(),
    );
    let rendered = render_yaml(&app);
    for (reader, objects) in [
        ("YAML 1.1", yaml11(&rendered)),
        ("YAML 1.2", yaml12(&rendered)),
    ] {
        // kustomize's legacy order sorts the ConfigMaps by namespace: match them by name.
        for (level, namespace) in levels.iter().zip(&namespaces) {
            let object = objects
                .iter()
                .find(|o| o["metadata"]["name"] == json!(level))
                .unwrap_or_else(|| panic!("{reader}: no ConfigMap {level}"));
            assert_eq!(
                object["metadata"]["namespace"],
                json!(namespace),
                "{reader}"
            );
        }
        assert_eq!(objects.len(), namespaces.len(), "{reader}");
    }
}

#[test]
fn merge_keys_are_applied() {
    let app = App::new();
    app.write(
        "app.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: &common\n    team: web\n    tier: front\ndata:\n  <<: *common\n  tier: own\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels:\n    <<: [{x: '1'}, {x: '2', y: '2'}]\n",
    );
    let rendered = objects(&success(&app.render(&["--output", "json"])));
    assert_eq!(rendered[0]["data"], json!({"team": "web", "tier": "own"}));
    assert_eq!(
        rendered[1]["metadata"]["labels"],
        json!({"x": "1", "y": "2"})
    );
}

const DUPLICATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nkind: Secret\n";

#[test]
fn duplicate_keys_fail_with_file_line_and_key_and_nothing_on_stdout() {
    let plain = App::new();
    plain.write("app.yaml", DUPLICATE);
    let stderr = failure(&plain.render(&[]));
    assert!(
        stderr.contains("app.yaml:5: duplicate key `kind` (first at line 2)"),
        "{stderr}"
    );

    let tree = App::new();
    tree.write("base/app.yaml", DUPLICATE)
        .write("base/kustomization.yaml", "resources: [app.yaml]\n")
        .write(
            "kustomization.yaml",
            "resources: [base]\nresources: [base]\n",
        );
    let stderr = failure(&tree.render(&[]));
    assert!(
        stderr.contains("kustomization.yaml:2: duplicate key `resources` (first at line 1)"),
        "{stderr}"
    );
    tree.write("kustomization.yaml", "resources: [base]\n");
    let stderr = failure(&tree.render(&[]));
    assert!(
        stderr.contains("app/base/app.yaml:5: duplicate key `kind`"),
        "{stderr}"
    );

    let pipeline = App::new();
    pipeline.write("app.yaml", CONFIGMAP).write(
        "wasm-pipeline.yaml",
        "steps:\n- module: builtin:image-tags\n  module: builtin:image-tags\n",
    );
    let stderr = failure(&pipeline.render(&[]));
    assert!(
        stderr.contains("wasm-pipeline.yaml:3: duplicate key `module`"),
        "{stderr}"
    );
}
