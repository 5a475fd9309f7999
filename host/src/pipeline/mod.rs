//! A render: load the manifests, run each step's module on the objects it matches, check
//! what comes back. Any failure fails the whole render; there is no partial output.

mod diagnostics;
mod error;
mod file;
mod guardrails;
mod kustomize;
mod select;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::Value;

use crate::builtins::{self, Builtin};
use crate::invocation::Invocation;
use crate::manifests::{self, Format, PIPELINE_FILE};
use crate::paths::{repo_root, resolve_inside};
use crate::runtime::{self, LoadedModule, ParameterAnnouncement, Runtime, RuntimeError};
use crate::text::{escape_control, quote};
pub use diagnostics::Findings;
use diagnostics::log_findings;
pub use error::{RenderError, StepError, StepId};
use file::{Allow, PipelineFile, StepSpec};
use select::Selector;

const BUILTIN_PREFIX: &str = "builtin:";
/// The largest module file read; anything bigger is refused before it is read.
const MAX_MODULE_BYTES: u64 = 64 << 20;

/// Renders the app in `app_dir`: its pipeline file if there is one, else its manifests
/// unchanged.
pub fn render(
    runtime: &Runtime,
    app_dir: &Path,
    invocation: &Invocation,
) -> Result<Vec<Value>, RenderError> {
    let root = repo_root(app_dir, &invocation.app.source_path).map_err(RenderError::Pipeline)?;
    let file = read_pipeline_file(&root, app_dir)?;
    let steps = file
        .steps
        .iter()
        .enumerate()
        .map(|(index, spec)| Step::prepare(runtime, app_dir, &root, index, spec, invocation))
        .collect::<Result<Vec<_>, _>>()?;
    let mut objects = source_objects(runtime, &root, app_dir, &file, invocation)?;
    for step in &steps {
        invocation
            .budget
            .check()
            .map_err(|stop| step.failed(RuntimeError::from(stop)))?;
        objects = step
            .run(runtime, invocation, objects)
            .map_err(|error| step.failed(error))?;
    }
    if objects.is_empty() && !file.allow_empty {
        return Err(RenderError::Pipeline(anyhow!(
            "the render produced no objects; Argo CD would prune every object of the app. \
             Set `allowEmpty: true` in {PIPELINE_FILE} if that is intended"
        )));
    }
    Ok(objects)
}

/// The app's pipeline file; an empty one (no steps) when there is none.
fn read_pipeline_file(root: &Path, app_dir: &Path) -> Result<PipelineFile, RenderError> {
    PipelineFile::read(root, &app_dir.join(PIPELINE_FILE))
        .map(Option::unwrap_or_default)
        .map_err(RenderError::Pipeline)
}

/// Renders and serializes the result: what `generate`, `render` and the daemon print.
pub fn render_stream(
    runtime: &Runtime,
    app_dir: &Path,
    invocation: &Invocation,
    format: Format,
) -> Result<String, RenderError> {
    let objects = render(runtime, app_dir, invocation)?;
    manifests::to_stream(&objects, format).map_err(RenderError::Pipeline)
}

/// The parameters the app's pipeline announces to Argo CD's UI: each step's module's
/// announcements, in step order, the first of a name winning.
pub fn announced_parameters(
    runtime: &Runtime,
    app_dir: &Path,
    source_path: &str,
) -> Result<Vec<ParameterAnnouncement>, RenderError> {
    let root = repo_root(app_dir, source_path).map_err(RenderError::Pipeline)?;
    let file = read_pipeline_file(&root, app_dir)?;
    let mut announced: Vec<ParameterAnnouncement> = Vec::new();
    for (index, spec) in file.steps.iter().enumerate() {
        let module = load_step_module(runtime, app_dir, &root, spec).map_err(|source| {
            RenderError::Step {
                step: StepId::Number(index + 1),
                module: escape_control(&spec.module),
                source,
            }
        })?;
        for parameter in &module.info.parameters {
            if !announced.iter().any(|known| known.name == parameter.name) {
                announced.push(parameter.clone());
            }
        }
    }
    Ok(announced)
}

/// A step's module, its sha256 pin checked.
fn load_step_module(
    runtime: &Runtime,
    app_dir: &Path,
    root: &Path,
    spec: &StepSpec,
) -> Result<Arc<LoadedModule>, StepError> {
    let module = module_bytes(&spec.module, app_dir, root).map_err(StepError::Module)?;
    let digest = module.sha256();
    verify_pin(spec.sha256.as_deref(), &digest).map_err(StepError::Module)?;
    Ok(runtime.load(&digest, module.wasm())?)
}

/// The objects the steps start from, in the pipeline's `source:` (the app directory if
/// absent): a kustomization tree, built like `kustomize build`, or plain manifests.
fn source_objects(
    runtime: &Runtime,
    root: &Path,
    app_dir: &Path,
    file: &PipelineFile,
    invocation: &Invocation,
) -> Result<Vec<Value>, RenderError> {
    let source = file.source.as_deref().unwrap_or(".");
    let dir = resolve_inside(root, app_dir, source)
        .context("source")
        .map_err(RenderError::Pipeline)?;
    let restrictor = kustomize::load_restrictor(file.kustomize.load_restrictor)
        .map_err(RenderError::Pipeline)?;
    match kustomize::kustomization_file(&dir).map_err(RenderError::Pipeline)? {
        Some(_) => kustomize::build(runtime, root, &dir, invocation, restrictor),
        None => manifests::load_dir(root, &dir).map_err(RenderError::Pipeline),
    }
}

/// A pipeline step, ready to run: module loaded, config validated, selector compiled.
struct Step {
    /// Escaped.
    name: String,
    module_ref: String,
    module: Arc<LoadedModule>,
    config: String,
    selector: Selector,
    allow: Allow,
}

impl Step {
    /// Loads and checks everything a step needs before any object is touched, so a
    /// misconfigured step is reported by name up front.
    fn prepare(
        runtime: &Runtime,
        app_dir: &Path,
        root: &Path,
        index: usize,
        spec: &StepSpec,
        invocation: &Invocation,
    ) -> Result<Self, RenderError> {
        let config = spec
            .with
            .as_ref()
            .map_or_else(|| "{}".to_owned(), Value::to_string);
        let step = Self::load(runtime, app_dir, root, index, spec, config)?;
        step.validate_config(runtime, invocation)
            .map_err(|error| step.failed(error))?;
        Ok(step)
    }

    /// Loads a step's module and compiles its selector; `config` is its `with:` block as
    /// JSON text. The module has not checked the config yet.
    fn load(
        runtime: &Runtime,
        app_dir: &Path,
        root: &Path,
        index: usize,
        spec: &StepSpec,
        config: String,
    ) -> Result<Self, RenderError> {
        let module_ref = escape_control(&spec.module);
        let unnamed = |source| RenderError::Step {
            step: StepId::Number(index + 1),
            module: module_ref.clone(),
            source,
        };
        let module = load_step_module(runtime, app_dir, root, spec).map_err(unnamed)?;
        let selector = Selector::new(&spec.selector, &spec.allow, &module.info.reads_kinds)
            .map_err(|error| unnamed(StepError::Module(error)))?;
        Ok(Self {
            name: escape_control(spec.name.as_deref().unwrap_or(&module.info.name)),
            module_ref,
            selector,
            config,
            allow: spec.allow.clone(),
            module,
        })
    }

    /// The render's error for this step failing with `source`.
    fn failed(&self, source: impl Into<StepError>) -> RenderError {
        RenderError::Step {
            step: StepId::Name(self.name.clone()),
            module: self.module_ref.clone(),
            source: source.into(),
        }
    }

    /// How log lines name the step: ``step `tags` (builtin:image-tags)``.
    fn label(&self) -> String {
        format!("step `{}` ({})", self.name, self.module_ref)
    }

    fn validate_config(&self, runtime: &Runtime, invocation: &Invocation) -> Result<(), StepError> {
        let findings = runtime.validate_config(
            &self.module,
            &self.label(),
            &self.config,
            &invocation.budget,
        )?;
        log_findings(&self.label(), &findings);
        match Findings::errors(&findings) {
            Some(errors) => Err(StepError::Config(errors)),
            None => Ok(()),
        }
    }

    /// Runs the module on the objects it matches and checks its output against the
    /// guardrails. The output replaces them where the first of them stood (at the end if it
    /// matched none, as a generator's output does).
    fn run(
        &self,
        runtime: &Runtime,
        invocation: &Invocation,
        objects: Vec<Value>,
    ) -> Result<Vec<Value>, StepError> {
        let namespaces = guardrails::Namespaces::of(&invocation.app.namespace, &objects);
        let (matched, kept): (Vec<Positioned>, Vec<Positioned>) = objects
            .into_iter()
            .enumerate()
            .partition(|(_, object)| self.selector.matches(object));
        let insert_at = matched
            .first()
            .map_or(usize::MAX, |(position, _)| *position);
        let given: Vec<Value> = matched.into_iter().map(|(_, object)| object).collect();
        let resources: Vec<String> = given.iter().map(Value::to_string).collect();
        let ctx = runtime::Context {
            step: self.name.clone(),
            app: invocation.app.clone(),
            config: self.config.clone(),
            parameters: invocation.parameters_for(&self.module.info.parameters),
            env: invocation.env.clone(),
        };
        let label = self.label();
        let output =
            match runtime.transform(&self.module, &label, &ctx, &resources, &invocation.budget)? {
                Ok(output) => output,
                Err(findings) => {
                    log_findings(&self.label(), &findings);
                    return Err(match Findings::errors(&findings) {
                        Some(errors) => StepError::Findings(errors),
                        None => StepError::Unexplained,
                    });
                }
            };
        log_findings(&self.label(), &output.diagnostics);
        if let Some(errors) = Findings::errors(&output.diagnostics) {
            return Err(errors.into());
        }
        let produced = parse_output(&output.resources).map_err(StepError::Output)?;
        drop(output); // a large app holds its output twice otherwise
        guardrails::check(&self.allow, &namespaces, &given, &produced)
            .map_err(StepError::Output)?;
        Ok(merge(kept, produced, insert_at))
    }
}

/// An object and its position in the render's list.
type Positioned = (usize, Value);

/// A step's module: embedded in the binary, or read from the repository.
enum ModuleBytes {
    Builtin(&'static Builtin),
    File(Vec<u8>),
}

impl ModuleBytes {
    fn wasm(&self) -> &[u8] {
        match self {
            ModuleBytes::Builtin(builtin) => builtin.wasm,
            ModuleBytes::File(bytes) => bytes,
        }
    }

    /// Hex sha256: from the build for built-ins, hashed once here for files.
    fn sha256(&self) -> String {
        match self {
            ModuleBytes::Builtin(builtin) => builtin.sha256.to_owned(),
            ModuleBytes::File(bytes) => runtime::sha256_hex(bytes),
        }
    }
}

/// The module `builtin:NAME` or the `.wasm` file inside the repository.
fn module_bytes(reference: &str, app_dir: &Path, root: &Path) -> Result<ModuleBytes> {
    if let Some(name) = reference.strip_prefix(BUILTIN_PREFIX) {
        return builtins::get(name)
            .map(ModuleBytes::Builtin)
            .with_context(|| {
                let known: Vec<String> = builtins::names()
                    .map(|n| format!("{BUILTIN_PREFIX}{n}"))
                    .collect();
                format!(
                    "there is no built-in module `{name}`; the built-ins are {}",
                    known.join(", ")
                )
            });
    }
    let path = resolve_inside(root, app_dir, reference)?;
    let bytes = read_capped(&path, MAX_MODULE_BYTES)?;
    Ok(ModuleBytes::File(bytes))
}

/// Reads a file of at most `max` bytes, checking its size before reading it.
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let cannot_read = || format!("cannot read {}", path.display());
    let file = std::fs::File::open(path).with_context(cannot_read)?;
    let size = file.metadata().with_context(cannot_read)?.len();
    if size > max {
        bail!(
            "{} is {} MiB; a module may be at most {} MiB",
            path.display(),
            size >> 20,
            max >> 20
        );
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max)
        .read_to_end(&mut bytes)
        .with_context(cannot_read)?;
    Ok(bytes)
}

/// Refuses a module whose sha256 (`actual`) differs from the pinned one.
fn verify_pin(pin: Option<&str>, actual: &str) -> Result<()> {
    let Some(pin) = pin else { return Ok(()) };
    let pin = pin
        .trim()
        .trim_start_matches("sha256:")
        .to_ascii_lowercase();
    if actual != pin {
        bail!("the module's sha256 is {actual}, but the pipeline pins {pin}: refusing to run it");
    }
    Ok(())
}

/// Parses and checks a module's output: every item must be a Kubernetes object with
/// `apiVersion`, `kind` and `metadata.name`.
fn parse_output(resources: &[String]) -> Result<Vec<Value>> {
    resources
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let object: Value = serde_json::from_str(text)
                .with_context(|| format!("returned object {} is not valid JSON", index + 1))?;
            for field in ["/apiVersion", "/kind", "/metadata/name"] {
                let present = object
                    .pointer(field)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty());
                if !present {
                    bail!(
                        "returned object {} has no `{}`: {}",
                        index + 1,
                        field[1..].replace('/', "."),
                        quote(text, 200)
                    );
                }
            }
            Ok(object)
        })
        .collect()
}

/// Puts `produced` where the first matched object stood, between the objects the step did
/// not see.
fn merge(kept: Vec<Positioned>, produced: Vec<Value>, insert_at: usize) -> Vec<Value> {
    let split = kept.partition_point(|(position, _)| *position < insert_at);
    let mut kept = kept.into_iter().map(|(_, object)| object);
    let mut objects: Vec<Value> = kept.by_ref().take(split).collect();
    objects.extend(produced);
    objects.extend(kept);
    objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_keeps_unmatched_objects_around_the_output() {
        let kept = vec![(0, json!("a")), (2, json!("c")), (4, json!("e"))];
        let merged = merge(kept.clone(), vec![json!("B"), json!("D")], 1);
        assert_eq!(
            merged,
            [json!("a"), json!("B"), json!("D"), json!("c"), json!("e")]
        );
        let appended = merge(kept, vec![json!("new")], usize::MAX);
        assert_eq!(appended, [json!("a"), json!("c"), json!("e"), json!("new")]);
    }

    #[test]
    fn output_objects_need_identity_fields() {
        let missing_name =
            parse_output(&[r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#.into()]);
        assert!(
            missing_name
                .unwrap_err()
                .to_string()
                .contains("no `metadata.name`")
        );
        assert!(parse_output(&["[1]".into()]).is_err());
        assert!(parse_output(&["not json".into()]).is_err());
    }

    #[test]
    fn pins_are_compared_case_insensitively_with_optional_prefix() {
        let digest = runtime::sha256_hex(b"x");
        assert!(verify_pin(Some(&digest.to_uppercase()), &digest).is_ok());
        assert!(verify_pin(Some(&format!("sha256:{digest}")), &digest).is_ok());
        let error = verify_pin(Some(&"0".repeat(64)), &digest).unwrap_err();
        assert!(error.to_string().contains("refusing to run it"));
    }
}
