//! Runs a [`Module`] on the contract's inputs. The wasm export and the native test harness
//! both go through here, so what `cargo test` checks is what the host runs.

use std::marker::PhantomData;

use crate::bindings::Guest;
use crate::types::Output;
use crate::{Context, Diagnostic, Info, Module, Object, Objects, RawContext, Result};

/// Parses a step's `with:` JSON into the module; `null` or empty means `{}`.
fn parse_config<M: Module>(config: &str) -> Result<M> {
    let config = match config.trim() {
        "" | "null" => "{}",
        text => text,
    };
    serde_json::from_str(config)
        .map_err(|e| Diagnostic::error(format!("invalid config: {e}")).at("with"))
}

pub(crate) fn validate_config<M: Module>(config: &str) -> Vec<Diagnostic> {
    match parse_config::<M>(config) {
        Ok(module) => module.validate(),
        Err(diagnostic) => vec![diagnostic],
    }
}

fn parse_objects(resources: &[String]) -> Result<Objects> {
    resources
        .iter()
        .enumerate()
        .map(|(i, text)| {
            Object::from_json(text)
                .map_err(|d| Diagnostic::error(format!("input object {i}: {}", d.message)))
        })
        .collect::<Result<Vec<_>>>()
        .map(Objects::new)
}

pub(crate) fn transform<M: Module>(
    raw: RawContext,
    resources: Vec<String>,
) -> std::result::Result<Output, Vec<Diagnostic>> {
    let module = parse_config::<M>(&raw.config).map_err(|d| vec![d])?;
    let mut objects = parse_objects(&resources).map_err(|d| vec![d])?;
    let ctx = Context::new(raw);
    let outcome = module.transform(&ctx, &mut objects);
    let mut diagnostics = ctx.into_diagnostics();
    if let Err(fatal) = outcome {
        diagnostics.push(fatal);
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    Ok(Output {
        resources: objects.iter().map(Object::to_json).collect(),
        diagnostics,
    })
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
