//! Run a module natively in `cargo test`, through the same code path the host uses.
//!
//! ```
//! # use argocd_wasm_sdk::prelude::*;
//! # #[derive(Deserialize)] struct Noop {}
//! # impl Module for Noop {
//! #     fn info() -> Info { Info::new("noop", "0.1.0", "") }
//! #     fn transform(&self, _: &Context, _: &mut Objects) -> Result<()> { Ok(()) }
//! # }
//! use argocd_wasm_sdk::testing::TestRun;
//!
//! let out = TestRun::new()
//!     .config(json!({}))
//!     .param_list("images", &["nginx:1.27"])
//!     .run::<Noop>(vec![json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})])
//!     .unwrap();
//! assert_eq!(out.objects[0]["kind"], "ConfigMap");
//! ```

mod cases;

pub use cases::run_case_file;

use serde_json::Value;

use crate::types::{Parameter, RawContext};
use crate::{Diagnostic, Module, ParameterValue, runner};

/// A transform's result in tests: the objects as JSON values plus non-fatal diagnostics.
#[derive(Debug)]
pub struct TestOutput {
    /// The objects the transform returned, in order.
    pub objects: Vec<Value>,
    /// The warnings and notes it reported (errors make the run an `Err`).
    pub diagnostics: Vec<Diagnostic>,
}

/// Builds the context of one test run.
pub struct TestRun {
    raw: RawContext,
}

impl Default for TestRun {
    fn default() -> Self {
        Self::new()
    }
}

impl TestRun {
    /// A run with `{}` config, no parameters, no env and empty app facts.
    pub fn new() -> Self {
        Self {
            raw: RawContext::empty("test"),
        }
    }

    /// The step's `with:` block.
    pub fn config(mut self, config: Value) -> Self {
        self.raw.config = config.to_string();
        self
    }

    /// Adds an Argo CD parameter of any shape.
    pub fn param(mut self, name: &str, value: ParameterValue) -> Self {
        self.raw.parameters.push(Parameter {
            name: name.to_owned(),
            value,
        });
        self
    }

    /// Adds a string parameter.
    pub fn param_str(self, name: &str, value: &str) -> Self {
        self.param(name, ParameterValue::String(value.to_owned()))
    }

    /// Adds an array parameter.
    pub fn param_list(self, name: &str, items: &[&str]) -> Self {
        let items = items.iter().map(|item| item.to_string()).collect();
        self.param(name, ParameterValue::Array(items))
    }

    /// A plugin env variable, named without the `ARGOCD_ENV_` prefix.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.raw.env.push((name.to_owned(), value.to_owned()));
        self.raw.env.sort();
        self
    }

    /// What the host's load-time check of the step's config would report.
    pub fn validate<M: Module>(&self) -> Vec<Diagnostic> {
        runner::validate_config::<M>(&self.raw.config)
    }

    /// Runs the transform on these objects.
    pub fn run<M: Module>(self, objects: Vec<Value>) -> Result<TestOutput, Vec<Diagnostic>> {
        let resources = objects.iter().map(Value::to_string).collect();
        let output = runner::transform::<M>(self.raw, resources)?;
        let objects = output
            .resources
            .iter()
            .map(|text| serde_json::from_str(text).expect("the runner emits valid JSON"))
            .collect();
        Ok(TestOutput {
            objects,
            diagnostics: output.diagnostics,
        })
    }
}
