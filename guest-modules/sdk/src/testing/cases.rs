//! Data-driven cases: one JSON file a module's native tests and the host's end-to-end tests
//! both run, so the component is checked against exactly what the logic was.
//!
//! The file is `{"cases": [...]}`. Each case has a `name`, a `rule` (what it shows), the
//! step's `config`, `parameters` (entries of Argo CD's `ARGOCD_APP_PARAMETERS`), `env` (plugin
//! env without the `ARGOCD_ENV_` prefix) and `input` objects, and either the `output`
//! objects (plus `warnings`: one substring per expected warning; none expected when absent)
//! or `errors`: substrings that must all appear among the error diagnostics.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{TestOutput, TestRun};
use crate::{Diagnostic, Module, ParameterValue, Severity};

#[derive(Deserialize)]
struct CaseFile {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    rule: String,
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    parameters: Vec<ArgocdParameter>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    input: Vec<Value>,
    #[serde(default)]
    output: Option<Vec<Value>>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    errors: Vec<String>,
}

/// One entry of `ARGOCD_APP_PARAMETERS`: a name and exactly one of the three shapes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArgocdParameter {
    name: String,
    string: Option<String>,
    array: Option<Vec<String>>,
    map: Option<BTreeMap<String, String>>,
}

impl ArgocdParameter {
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

/// Runs every case in the file at `path` against module `M` and returns how many ran.
/// Panics listing every failing case.
pub fn run_case_file<M: Module>(path: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let file: CaseFile =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not a case file: {e}"));
    let failures: Vec<String> = file
        .cases
        .iter()
        .filter_map(|case| {
            case.check::<M>()
                .err()
                .map(|problem| format!("{} ({}): {problem}", case.name, case.rule))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        file.cases.len(),
        failures.join("\n\n")
    );
    file.cases.len()
}

impl Case {
    /// Validates the config as the host does at load, then transforms.
    fn run<M: Module>(&self) -> Result<TestOutput, Vec<Diagnostic>> {
        let mut run = TestRun::new().config(self.config.clone().unwrap_or_else(|| json!({})));
        for parameter in &self.parameters {
            run = run.param(&parameter.name, parameter.value());
        }
        for (name, value) in &self.env {
            run = run.env(name, value);
        }
        let invalid = run.validate::<M>();
        if !invalid.is_empty() {
            return Err(invalid);
        }
        run.run::<M>(self.input.clone())
    }

    fn check<M: Module>(&self) -> Result<(), String> {
        match (self.run::<M>(), &self.output) {
            (Ok(out), Some(expected)) if out.objects != *expected => Err(format!(
                "output differs; got\n{}",
                serde_json::to_string_pretty(&out.objects).unwrap()
            )),
            (Ok(out), Some(_)) => {
                let warnings = of_severity(&out.diagnostics, Severity::Warning);
                if warnings.len() != self.warnings.len() {
                    return Err(format!(
                        "warnings:\n{}\nwanted {:?}",
                        lines(&warnings),
                        self.warnings
                    ));
                }
                contains_all(&warnings, &self.warnings)
            }
            (Err(diagnostics), None) if !self.errors.is_empty() => {
                contains_all(&of_severity(&diagnostics, Severity::Error), &self.errors)
            }
            (Ok(out), None) => Err(format!("succeeded with {:?}", out.objects)),
            (Err(diagnostics), _) => Err(format!(
                "failed:\n{}",
                lines(&diagnostics.iter().collect::<Vec<_>>())
            )),
        }
    }
}

fn of_severity(diagnostics: &[Diagnostic], severity: Severity) -> Vec<&Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .collect()
}

/// Diagnostics as the host prints them: object, field, message.
fn lines(diagnostics: &[&Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

fn contains_all(found: &[&Diagnostic], wanted: &[String]) -> Result<(), String> {
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
