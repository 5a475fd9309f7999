//! Runs a built-in module's data-driven cases (the same files its native tests read)
//! through the real host, as a component, via Argo CD's entry point `generate`.
//!
//! A case file is `{"cases": [...]}`; each case has `config` (the step's `with:`),
//! `parameters` (entries of ARGOCD_APP_PARAMETERS), `env` (plugin env without the
//! `ARGOCD_ENV_` prefix), `input` objects, and either `output` objects (plus optional
//! `warnings` substrings) or `errors` substrings.

use serde_json::{Value, json};

use crate::support::*;

/// Runs every case in `cases_file` (relative to tests/fixtures) against `module`, and
/// returns how many ran. Collects all mismatches before failing, so one run shows them all.
pub fn run_cases(module: &str, cases_file: &str) -> usize {
    let text = std::fs::read_to_string(fixture(cases_file)).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let cases = file["cases"].as_array().expect("a `cases` array");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| run_case(module, case).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    cases.len()
}

fn run_case(module: &str, case: &Value) -> Result<(), String> {
    let name = case["name"].as_str().unwrap_or("?");
    let app = App::new();
    let input = json!({"apiVersion": "v1", "kind": "List", "items": case["input"]});
    let pipeline = json!({
        "allowEmpty": true,
        "steps": [{"module": module, "with": case.get("config").cloned().unwrap_or(json!({}))}],
    });
    app.write("input.json", &input.to_string())
        .write("wasm-pipeline.yaml", &pipeline.to_string());
    let mut command = binary();
    command
        .args(["generate", "--output", "json"])
        .current_dir(app.dir())
        .env_clear()
        .env("ARGOCD_WASM_PLUGIN_CACHE_DIR", test_cache_dir())
        .env(
            "ARGOCD_APP_PARAMETERS",
            case.get("parameters")
                .map_or("null".into(), Value::to_string),
        );
    for (key, value) in case["env"].as_object().into_iter().flatten() {
        command.env(format!("ARGOCD_ENV_{key}"), value.as_str().unwrap());
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let fail = |why: String| Err(format!("case `{name}`: {why}\nstderr: {stderr}"));
    if let Some(errors) = case["errors"].as_array() {
        if output.status.success() || !stdout.is_empty() {
            return fail("expected a failure with empty stdout".into());
        }
        let missing: Vec<&Value> = errors
            .iter()
            .filter(|e| !stderr.contains(e.as_str().unwrap()))
            .collect();
        return if missing.is_empty() {
            Ok(())
        } else {
            fail(format!("stderr lacks {missing:?}"))
        };
    }
    if !output.status.success() {
        return fail("expected success".into());
    }
    let objects: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    if objects != case["output"].as_array().cloned().unwrap_or_default() {
        return fail(format!(
            "output differs:\n got: {}\nwant: {}",
            Value::from(objects),
            case["output"]
        ));
    }
    let missing: Vec<&Value> = case["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|w| !stderr.contains(w.as_str().unwrap()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        fail(format!("stderr lacks warnings {missing:?}"))
    }
}

#[test]
fn image_tags_cases_pass_through_the_host() {
    let count = run_cases("builtin:image-tags", "image-tags/cases.json");
    assert!(count >= 30, "only {count} image-tags cases");
}

#[test]
fn colour_selector_cases_pass_through_the_host() {
    let count = run_cases("builtin:colour-selector", "colour-selector/cases.json");
    assert!(count >= 30, "only {count} colour-selector cases");
}
