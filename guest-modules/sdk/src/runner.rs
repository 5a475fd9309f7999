//! Runs a [`Module`] on the contract's inputs. The wasm export and the native test harness
//! both go through here, so what `cargo test` checks is what the host runs.

use std::marker::PhantomData;

use crate::bindings::Guest;
use crate::types::{Output, RawContext};
use crate::{Context, Diagnostic, Error, Info, Module, Object, Objects, Result};

/// Parses a step's `with:` JSON into the module; `null` or empty means `{}`.
fn parse_config<M: Module>(config: &str) -> Result<M> {
    let config = match config.trim() {
        "" | "null" => "{}",
        text => text,
    };
    serde_json::from_str(config).map_err(|e| {
        Diagnostic::error(format!("invalid config: {e}"))
            .at("with")
            .code("invalid-config")
            .into()
    })
}

/// The `validate-config` export: what deserializing finds, else what [`Module::validate`]
/// finds.
pub(crate) fn validate_config<M: Module>(config: &str) -> Vec<Diagnostic> {
    let findings = match parse_config::<M>(config) {
        Ok(module) => module.validate(),
        Err(error) => error.into_diagnostics(),
    };
    qualified::<M>(findings)
}

/// The `transform` export.
pub(crate) fn transform<M: Module>(
    raw: RawContext,
    resources: Vec<String>,
) -> std::result::Result<Output, Vec<Diagnostic>> {
    run::<M>(raw, resources)
        .map(|output| Output {
            diagnostics: qualified::<M>(output.diagnostics),
            ..output
        })
        .map_err(qualified::<M>)
}

fn run<M: Module>(
    raw: RawContext,
    resources: Vec<String>,
) -> std::result::Result<Output, Vec<Diagnostic>> {
    let module = parse_config::<M>(&raw.config).map_err(Error::into_diagnostics)?;
    refuse_invalid(&module).map_err(Error::into_diagnostics)?;
    let mut objects = parse_objects(&resources).map_err(Error::into_diagnostics)?;
    let ctx = Context::new(raw);
    let outcome = module.transform(&ctx, &mut objects);
    let mut diagnostics = ctx.into_diagnostics();
    if let Err(error) = outcome {
        diagnostics.extend(failing(error));
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    let resources = objects.iter().map(Object::to_json).collect();
    discard(objects);
    discard(module);
    Ok(Output {
        resources,
        diagnostics,
    })
}

/// Drops what a call is done with, except inside the host: there every call runs in a fresh
/// instance whose memory is thrown away whole afterwards, so freeing a large app's objects
/// one by one would only cost time.
fn discard<T>(done_with: T) {
    if cfg!(target_family = "wasm") {
        std::mem::forget(done_with);
    }
}

/// The config's errors, checked again before every transform: the host validates at load,
/// but a module must never run on a config it refuses, whoever calls it. Warnings are left
/// out, as the load-time check reported them already.
fn refuse_invalid<M: Module>(module: &M) -> Result<()> {
    let errors = module
        .validate()
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    Error::unless_empty(errors)
}

fn parse_objects(resources: &[String]) -> Result<Objects> {
    resources
        .iter()
        .enumerate()
        .map(|(i, text)| {
            Object::from_json(text).map_err(|error| {
                Diagnostic::error(format!("input object {i}: {}", error.message()))
                    .code("invalid-input-object")
                    .into()
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Objects::new)
}

/// A transform's error as diagnostics that fail the render: an `Err` fails it even when its
/// diagnostics are only warnings, or there are none.
fn failing(error: Error) -> Vec<Diagnostic> {
    let mut diagnostics = error.into_diagnostics();
    if !diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.push(
            Diagnostic::error("the transform failed without naming an error")
                .code("failed-without-error"),
        );
    }
    diagnostics
}

/// The diagnostics with their codes prefixed by the module's name.
fn qualified<M: Module>(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let module = M::info().name;
    diagnostics
        .into_iter()
        .map(|diagnostic| diagnostic.qualified(&module))
        .collect()
}

/// The component export for module `M`; [`crate::register!`] names it.
pub struct Shell<M>(PhantomData<M>);

impl<M: Module> Guest for Shell<M> {
    fn describe() -> Info {
        M::info()
    }

    fn validate_config(config: String) -> Vec<Diagnostic> {
        validate_config::<M>(&config)
    }

    fn transform(
        ctx: RawContext,
        resources: Vec<String>,
    ) -> std::result::Result<Output, Vec<Diagnostic>> {
        transform::<M>(ctx, resources)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::prelude::*;
    use crate::testing::TestRun;

    /// Fails its config when `limit` is 0, and fails the render with one error per object
    /// over the limit, after a warning.
    #[derive(Deserialize)]
    struct Limit {
        limit: usize,
    }

    impl Module for Limit {
        fn info() -> Info {
            Info::new("limit", "0.0.0", "")
        }

        fn validate(&self) -> Vec<Diagnostic> {
            match self.limit {
                0 => vec![Diagnostic::error("no objects allowed").code("zero-limit")],
                _ => vec![Diagnostic::warning("a limit").code("has-limit")],
            }
        }

        fn transform(&self, ctx: &Context, objects: &mut Objects) -> Result<()> {
            assert!(self.limit > 0, "the runner validates first");
            ctx.report(Diagnostic::warning("counting").code("counting"));
            let over: Vec<Diagnostic> = objects
                .iter()
                .skip(self.limit)
                .map(|object| {
                    Diagnostic::error("over the limit")
                        .on(object)
                        .code("shared/over")
                })
                .collect();
            Error::unless_empty(over)
        }
    }

    fn objects(count: usize) -> Vec<Value> {
        (0..count)
            .map(|i| json!({"kind": "ConfigMap", "metadata": {"name": format!("c{i}")}}))
            .collect()
    }

    fn codes(diagnostics: &[Diagnostic]) -> Vec<&str> {
        diagnostics
            .iter()
            .filter_map(|d| d.code.as_deref())
            .collect()
    }

    #[test]
    fn a_config_with_errors_never_reaches_transform() {
        let run = TestRun::new().config(json!({"limit": 0}));
        assert_eq!(codes(&run.validate::<Limit>()), ["limit/zero-limit"]);
        let errors = run.run::<Limit>(objects(1)).unwrap_err();
        assert_eq!(codes(&errors), ["limit/zero-limit"]);
        let invalid = TestRun::new().config(json!({"limit": "x"}));
        assert_eq!(
            codes(&invalid.validate::<Limit>()),
            ["limit/invalid-config"]
        );
    }

    #[test]
    fn every_error_fails_the_render_and_codes_get_the_module_name() {
        let run = || TestRun::new().config(json!({"limit": 1}));
        let errors = run().run::<Limit>(objects(3)).unwrap_err();
        assert_eq!(
            codes(&errors),
            ["limit/counting", "shared/over", "shared/over"]
        );
        let out = run().run::<Limit>(objects(1)).unwrap();
        assert_eq!(codes(&out.diagnostics), ["limit/counting"]);
    }

    #[test]
    fn an_error_without_an_error_diagnostic_still_fails() {
        let failing = super::failing(Error::from(Diagnostic::warning("odd")));
        assert!(failing.iter().any(Diagnostic::is_error));
    }
}
