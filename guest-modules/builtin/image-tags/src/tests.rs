//! Runs the cases of `tests/fixtures/image-tags/cases.json` natively; the host runs the same
//! file through the built component.

use std::collections::BTreeMap;

use argocd_wasm_sdk::testing::{TestOutput, TestRun};
use argocd_wasm_sdk::{ParameterKind, ParameterValue};
use serde_json::{Value, json};

use super::*;

/// The issue asks for at least this many cases.
const MIN_CASES: usize = 30;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[allow(dead_code, reason = "documents the case for readers of the fixture")]
    rule: String,
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    parameters: Vec<Parameter>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    input: Vec<Value>,
    #[serde(default)]
    output: Option<Vec<Value>>,
    #[serde(default)]
    warnings: Option<Vec<String>>,
    #[serde(default)]
    errors: Vec<String>,
}

/// One entry of `ARGOCD_APP_PARAMETERS`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Parameter {
    name: String,
    string: Option<String>,
    array: Option<Vec<String>>,
    map: Option<BTreeMap<String, String>>,
}

impl Parameter {
    fn value(&self) -> ParameterValue {
        match (&self.string, &self.array, &self.map) {
            (Some(text), None, None) => ParameterValue::String(text.clone()),
            (None, Some(items), None) => ParameterValue::Array(items.clone()),
            (None, None, Some(map)) => ParameterValue::Map(map.clone().into_iter().collect()),
            _ => panic!(
                "parameter `{}` needs exactly one of string, array, map",
                self.name
            ),
        }
    }
}

impl Case {
    /// Validates the config as the host does at load, then transforms.
    fn run(&self) -> std::result::Result<TestOutput, Vec<Diagnostic>> {
        let config = self.config.clone().unwrap_or_else(|| json!({}));
        let mut run = TestRun::new().config(config);
        for parameter in &self.parameters {
            run = run.param(&parameter.name, parameter.value());
        }
        for (name, value) in &self.env {
            run = run.env(name, value);
        }
        let invalid = run.validate::<ImageTags>();
        if !invalid.is_empty() {
            return Err(invalid);
        }
        run.run::<ImageTags>(self.input.clone())
    }

    /// What is wrong with the outcome, if anything.
    fn check(&self) -> std::result::Result<(), String> {
        match (self.run(), &self.output) {
            (Ok(out), Some(expected)) => self.check_output(&out, expected),
            (Err(errors), None) => check_errors(&errors, &self.errors),
            (Ok(out), None) => Err(format!("succeeded with {:?}", out.objects)),
            (Err(errors), Some(_)) => Err(format!("failed: {}", messages(&errors))),
        }
    }

    fn check_output(
        &self,
        out: &TestOutput,
        expected: &[Value],
    ) -> std::result::Result<(), String> {
        if out.objects != expected {
            let actual = serde_json::to_string_pretty(&out.objects).unwrap();
            return Err(format!("output differs; got\n{actual}"));
        }
        let Some(wanted) = &self.warnings else {
            return Ok(());
        };
        let found = messages(&out.diagnostics);
        let each_found = wanted.iter().all(|w| found.contains(w.as_str()));
        if out.diagnostics.len() != wanted.len() || !each_found {
            return Err(format!("warnings {found:?}, wanted {wanted:?}"));
        }
        Ok(())
    }
}

fn check_errors(errors: &[Diagnostic], wanted: &[String]) -> std::result::Result<(), String> {
    let found = messages(errors);
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|w| !found.contains(w.as_str()))
        .collect();
    if wanted.is_empty() || !missing.is_empty() || !errors.iter().all(Diagnostic::is_error) {
        return Err(format!("errors {found:?}, missing {missing:?}"));
    }
    Ok(())
}

fn messages(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    lines.join("\n")
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../tests/fixtures/image-tags/cases.json"
    );
    let text = std::fs::read_to_string(path).expect("the cases fixture exists");
    serde_json::from_str(&text).expect("the cases fixture is valid")
}

#[test]
fn fixture_cases() {
    let cases = fixture().cases;
    assert!(cases.len() >= MIN_CASES, "only {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            case.check()
                .err()
                .map(|problem| format!("{} ({}): {problem}", case.name, case.rule))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn announces_the_images_parameter() {
    let info = ImageTags::info();
    assert_eq!(info.name, "image-tags");
    assert!(info.reads_kinds.is_empty(), "images live in any kind");
    let [images] = info.parameters.as_slice() else {
        panic!("one parameter: {:?}", info.parameters);
    };
    assert_eq!(images.name, "images");
    assert!(matches!(images.kind, ParameterKind::Array));
    assert!(images.tooltip.contains("name=newName:newTag@digest"));
}
