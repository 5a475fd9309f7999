//! `argocd-wasm-plugin test DIR`: golden test cases, rendered by the same
//! [`pipeline::render`] as `render`.
//!
//! A case is a directory holding an app (a `wasm-pipeline.yaml` and manifests, or a
//! kustomization) plus these files, which are not part of the app:
//!
//! - `test.yaml` (optional): the render's inputs under the names of `render`'s flags:
//!   `params: [NAME=VALUE, …]`, `env: [NAME=VALUE, …]`, `app: {namespace: stage, …}`; and
//!   `expect-error: {code: MODULE/NAME}` when the render must fail with a finding of that
//!   code (matched on the findings, not their prose);
//! - `expected.yaml`: the objects the render must produce (compared normalized, see
//!   [`super::diff`]), or `expected-error.txt`: text the render's error must contain.
//!
//! Each case is rendered from a scratch copy of its directory without those files, so they
//! are never read as manifests. `--module PATH` copies a module under test into that copy as
//! `modules/FILE_NAME`, so a case's pipeline names it `modules/my_module.wasm` wherever the
//! build put it. A case is therefore self-contained: paths may not leave its directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde::Deserialize;
use serde_json::{Map, Value};

use argocd_wasm_plugin::manifests::{self, Format, PIPELINE_FILE};
use argocd_wasm_plugin::pipeline;
use argocd_wasm_plugin::{Runtime, yaml};

use super::diff::{self, Side};
use super::inputs::LocalInputs;

const SETTINGS_FILE: &str = "test.yaml";
const EXPECTED_OUTPUT: &str = "expected.yaml";
const EXPECTED_ERROR: &str = "expected-error.txt";
/// The files of a case that are not part of its app.
const CASE_FILES: [&str; 3] = [SETTINGS_FILE, EXPECTED_OUTPUT, EXPECTED_ERROR];
/// Where `--module` files go inside a case's scratch copy.
const MODULES_DIR: &str = "modules";

#[derive(Args)]
pub struct TestArgs {
    /// A case directory, or a directory whose subdirectories are cases.
    dir: PathBuf,
    /// Rewrite each case's expectation with what the render gives: expected.yaml on
    /// success, expected-error.txt on failure (kept when the error still contains it).
    #[arg(long)]
    update: bool,
    /// A built module under test, copied into every case as `modules/FILE_NAME`; a case's
    /// pipeline names it `module: modules/FILE_NAME`. Repeatable.
    #[arg(long = "module", value_name = "PATH")]
    modules: Vec<PathBuf>,
}

/// How one case ended.
enum Verdict {
    Passed,
    Updated,
    Failed(String),
}

/// What a case expects of its render.
enum Expectation {
    Objects(Vec<Value>),
    ErrorContaining(String),
    /// A failure with a finding of this code (`expect-error` in test.yaml).
    ErrorCoded(String),
    Nothing,
}

/// A render's result, its error as text with paths pointing at the case, not its copy.
type Rendered = std::result::Result<Vec<Value>, Failure>;

/// How a case's render failed.
struct Failure {
    message: String,
    /// The codes of the module findings that failed it.
    codes: Vec<String>,
}

/// `test.yaml`: the render's inputs, and what its error must be.
struct Settings {
    inputs: LocalInputs,
    expect_error: Option<ExpectedError>,
}

/// `expect-error:` in test.yaml.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedError {
    code: String,
}

/// The key of test.yaml that holds the expected error; every other key is an input.
const EXPECT_ERROR_KEY: &str = "expect-error";

/// Runs every case, prints one line per case (and a diff or message per failure), then
/// `N passed, M failed`. Fails when any case failed.
pub fn run(runtime: &Runtime, args: TestArgs) -> Result<ExitCode> {
    let cases = discover(&args.dir)?;
    let colour = diff::colour_stdout();
    let mut failed = 0;
    for case in &cases {
        let name = case_name(case, &args.dir);
        let verdict = run_case(runtime, case, &args, colour)
            .unwrap_or_else(|error| Verdict::Failed(format!("{error:#}")));
        match verdict {
            Verdict::Passed => println!("ok      {name}"),
            Verdict::Updated => println!("updated {name}"),
            Verdict::Failed(report) => {
                failed += 1;
                println!("FAILED  {name}\n{}", report.trim_end());
            }
        }
    }
    println!("{} passed, {failed} failed", cases.len() - failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `dir` itself when it is a case, else its subdirectories, sorted.
fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    let is_case = [PIPELINE_FILE, EXPECTED_OUTPUT, EXPECTED_ERROR]
        .iter()
        .any(|file| dir.join(file).is_file());
    if is_case {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries =
        fs::read_dir(dir).with_context(|| format!("cannot read directory {}", dir.display()))?;
    let mut cases = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            cases.push(path);
        }
    }
    if cases.is_empty() {
        bail!("{} holds no test cases", dir.display());
    }
    cases.sort();
    Ok(cases)
}

fn case_name(case: &Path, dir: &Path) -> String {
    let relative = case.strip_prefix(dir).unwrap_or(case);
    match relative.as_os_str().is_empty() {
        true => case.display().to_string(),
        false => relative.display().to_string(),
    }
}

fn run_case(runtime: &Runtime, case: &Path, args: &TestArgs, colour: bool) -> Result<Verdict> {
    let settings = read_settings(case)?;
    let expectation = Expectation::read(case, settings.expect_error)?;
    let rendered = render_case(runtime, case, settings.inputs, &args.modules)?;
    if args.update {
        update(case, &expectation, &rendered)
    } else {
        expectation.check(&rendered, colour)
    }
}

/// Renders a scratch copy of the case with its `test.yaml` inputs.
fn render_case(
    runtime: &Runtime,
    case: &Path,
    inputs: LocalInputs,
    modules: &[PathBuf],
) -> Result<Rendered> {
    let invocation = inputs.into_invocation()?;
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let app = scratch.path().join("app");
    copy_app(case, &app)?;
    for module in modules {
        add_module(module, &app.join(MODULES_DIR))?;
    }
    Ok(
        pipeline::render(runtime, &app, &invocation).map_err(|error| Failure {
            codes: error.codes().into_iter().map(str::to_owned).collect(),
            message: point_at_case(&format!("{:#}", anyhow::Error::new(error)), &app, case),
        }),
    )
}

fn read_settings(case: &Path) -> Result<Settings> {
    let path = case.join(SETTINGS_FILE);
    let Some(text) = read_optional(&path)? else {
        return Ok(Settings {
            inputs: LocalInputs::default(),
            expect_error: None,
        });
    };
    let origin = path.display().to_string();
    let mut keys: Map<String, Value> = yaml::from_str(&text, &origin)?;
    let expect_error = keys
        .remove(EXPECT_ERROR_KEY)
        .map(serde_json::from_value)
        .transpose()
        .with_context(|| format!("{origin}: {EXPECT_ERROR_KEY}"))?;
    let inputs = serde_json::from_value(Value::Object(keys)).with_context(|| origin.clone())?;
    Ok(Settings {
        inputs,
        expect_error,
    })
}

/// Copies a case's app, everything but the case's own files, into `to`.
fn copy_app(case: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(case).with_context(|| format!("cannot read {}", case.display()))? {
        let path = entry?.path();
        let is_case_file = CASE_FILES.iter().any(|file| path.ends_with(file));
        if !is_case_file {
            copy_tree(&path, &to.join(path.file_name().unwrap_or_default()))?;
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)? {
            let path = entry?.path();
            copy_tree(&path, &to.join(path.file_name().unwrap_or_default()))?;
        }
        return Ok(());
    }
    fs::copy(from, to).with_context(|| format!("cannot copy {}", from.display()))?;
    Ok(())
}

fn add_module(module: &Path, modules_dir: &Path) -> Result<()> {
    let file_name = module
        .file_name()
        .with_context(|| format!("--module {}: not a file", module.display()))?;
    let target = modules_dir.join(file_name);
    if target.exists() {
        bail!(
            "--module {}: the case already has {MODULES_DIR}/{}",
            module.display(),
            file_name.to_string_lossy()
        );
    }
    fs::create_dir_all(modules_dir)?;
    fs::copy(module, &target).with_context(|| format!("--module {}", module.display()))?;
    Ok(())
}

/// Error messages name the scratch copy; make them name the case, so they are the same on
/// every run and lead the reader to the right file.
fn point_at_case(message: &str, scratch_app: &Path, case: &Path) -> String {
    let case = case.display().to_string();
    let canonical = scratch_app.canonicalize().unwrap_or_default();
    message
        .replace(&canonical.display().to_string(), &case)
        .replace(&scratch_app.display().to_string(), &case)
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

impl Expectation {
    fn read(case: &Path, expected_error: Option<ExpectedError>) -> Result<Self> {
        let output = read_optional(&case.join(EXPECTED_OUTPUT))?;
        let error = read_optional(&case.join(EXPECTED_ERROR))?;
        match (output, error, expected_error) {
            (Some(_), Some(_), _) => {
                bail!("has both {EXPECTED_OUTPUT} and {EXPECTED_ERROR}; keep one")
            }
            (Some(_), None, Some(_)) | (None, Some(_), Some(_)) => bail!(
                "has both {EXPECT_ERROR_KEY} in {SETTINGS_FILE} and {EXPECTED_OUTPUT} or \
                 {EXPECTED_ERROR}; keep one"
            ),
            (Some(text), None, None) => {
                let origin = case.join(EXPECTED_OUTPUT).display().to_string();
                manifests::parse_stream(&text, &origin).map(Self::Objects)
            }
            (None, Some(text), None) => Ok(Self::ErrorContaining(text.trim().to_owned())),
            (None, None, Some(expected)) => Ok(Self::ErrorCoded(expected.code)),
            (None, None, None) => Ok(Self::Nothing),
        }
    }

    fn check(&self, rendered: &Rendered, colour: bool) -> Result<Verdict> {
        let verdict = match (self, rendered) {
            (Self::Objects(expected), Ok(objects)) => {
                let expected = Side {
                    label: EXPECTED_OUTPUT,
                    objects: expected,
                };
                let actual = Side {
                    label: "render",
                    objects,
                };
                match diff::compare(expected, actual, colour)? {
                    Some(diff) => Verdict::Failed(diff),
                    None => Verdict::Passed,
                }
            }
            (Self::Objects(_), Err(error)) => Verdict::Failed(format!(
                "expected objects, but the render failed: {}",
                error.message
            )),
            (Self::ErrorContaining(wanted), Err(error)) if error.message.contains(wanted) => {
                Verdict::Passed
            }
            (Self::ErrorContaining(wanted), Err(error)) => Verdict::Failed(format!(
                "the error does not contain `{wanted}`; it is:\n{}",
                error.message
            )),
            (Self::ErrorCoded(code), Err(error)) if error.codes.contains(code) => Verdict::Passed,
            (Self::ErrorCoded(code), Err(error)) => Verdict::Failed(format!(
                "the error has no finding of code `{code}`; it is:\n{}",
                error.message
            )),
            (Self::ErrorContaining(wanted), Ok(objects)) => Verdict::Failed(format!(
                "expected an error containing `{wanted}`, but the render gave {} objects",
                objects.len()
            )),
            (Self::ErrorCoded(code), Ok(objects)) => Verdict::Failed(format!(
                "expected an error with a finding of code `{code}`, but the render gave {} \
                 objects",
                objects.len()
            )),
            (Self::Nothing, _) => Verdict::Failed(format!(
                "no {EXPECTED_OUTPUT} or {EXPECTED_ERROR}: run with --update to record one"
            )),
        };
        Ok(verdict)
    }
}

/// Makes the case expect what the render gave. Expectations that still hold are left as
/// written, so a hand-picked error substring or hand-formatted YAML survives.
fn update(case: &Path, expectation: &Expectation, rendered: &Rendered) -> Result<Verdict> {
    let verdict = expectation.check(rendered, false)?;
    if let Verdict::Passed = verdict {
        return Ok(Verdict::Passed);
    }
    if let Expectation::ErrorCoded(_) = expectation {
        // test.yaml is written by hand; --update does not rewrite it.
        return Ok(verdict);
    }
    let (keep, text, remove) = match rendered {
        Ok(objects) => (
            EXPECTED_OUTPUT,
            manifests::to_stream(objects, Format::Yaml)?,
            EXPECTED_ERROR,
        ),
        Err(error) => (
            EXPECTED_ERROR,
            format!("{}\n", error.message),
            EXPECTED_OUTPUT,
        ),
    };
    let path = case.join(keep);
    fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    match fs::remove_file(case.join(remove)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove {}", case.join(remove).display()))
        }
        _ => Ok(Verdict::Updated),
    }
}
