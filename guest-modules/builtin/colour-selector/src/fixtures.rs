//! Runs the cases of `tests/fixtures/colour-selector/cases.json` natively; the host runs the
//! same file through the built component.

use std::collections::BTreeMap;

use argocd_wasm_sdk::testing::{TestOutput, TestRun};
use argocd_wasm_sdk::{ParameterValue, Severity};
use serde_json::{Value, json};

use super::*;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    rule: String,
    config: Option<Value>,
    #[serde(default)]
    parameters: Vec<Parameter>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    input: Vec<Value>,
    output: Option<Vec<Value>>,
    /// Substrings of the warnings, one per warning; infos are not counted.
    #[serde(default)]
    warnings: Vec<String>,
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
            _ => panic!("parameter `{}` needs one of string, array, map", self.name),
        }
    }
}

impl Case {
    /// Validates the config as the host does at load, then transforms.
    fn run(&self) -> std::result::Result<TestOutput, Vec<Diagnostic>> {
        let mut run = TestRun::new().config(self.config.clone().unwrap_or_else(|| json!({})));
        for parameter in &self.parameters {
            run = run.param(&parameter.name, parameter.value());
        }
        for (name, value) in &self.env {
            run = run.env(name, value);
        }
        let invalid = run.validate::<ColourSelector>();
        if !invalid.is_empty() {
            return Err(invalid);
        }
        run.run::<ColourSelector>(self.input.clone())
    }

    /// What is wrong with the outcome, if anything.
    fn check(&self) -> std::result::Result<(), String> {
        match (self.run(), &self.output) {
            (Ok(out), Some(expected)) if out.objects != *expected => Err(format!(
                "output differs; got\n{}",
                serde_json::to_string_pretty(&out.objects).unwrap()
            )),
            (Ok(out), Some(_)) => {
                let found: Vec<&Diagnostic> = out
                    .diagnostics
                    .iter()
                    .filter(|d| matches!(d.severity, Severity::Warning))
                    .collect();
                each_once(&found, &self.warnings)
            }
            (Err(errors), None) if !self.errors.is_empty() => {
                let found: Vec<&Diagnostic> = errors.iter().filter(|d| d.is_error()).collect();
                contains_all(&found, &self.errors)
            }
            (Ok(out), None) => Err(format!("succeeded with {:?}", out.objects)),
            (Err(errors), _) => Err(format!(
                "failed: {}",
                lines(&errors.iter().collect::<Vec<_>>())
            )),
        }
    }
}

/// Diagnostics as the host prints them: object, field, message.
fn lines(diagnostics: &[&Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

fn contains_all(found: &[&Diagnostic], wanted: &[String]) -> std::result::Result<(), String> {
    let text = lines(found);
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|w| !text.contains(w.as_str()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("found:\n{text}\nmissing {missing:?}"))
    }
}

/// As many diagnostics as wanted substrings, and each substring found.
fn each_once(found: &[&Diagnostic], wanted: &[String]) -> std::result::Result<(), String> {
    if found.len() != wanted.len() {
        return Err(format!("found:\n{}\nwanted {wanted:?}", lines(found)));
    }
    contains_all(found, wanted)
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../tests/fixtures/colour-selector/cases.json"
    );
    let text = std::fs::read_to_string(path).expect("the cases fixture exists");
    serde_json::from_str(&text).expect("the cases fixture is valid")
}

#[test]
fn fixture_cases() {
    let cases = fixture().cases;
    assert!(!cases.is_empty());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let problem = case.check().err()?;
            Some(format!("{} ({}): {problem}", case.name, case.rule))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
