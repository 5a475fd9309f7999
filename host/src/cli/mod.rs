//! The command line: `generate`, `parameters` and `serve` for Argo CD; `render DIR`,
//! `test DIR` and `new module NAME` for people.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};

use serde_json::Value;

use argocd_wasm_plugin::invocation::Invocation;
use argocd_wasm_plugin::manifests::{self, Format};
use argocd_wasm_plugin::runtime::DEFAULT_RENDER_BUDGET;
use argocd_wasm_plugin::server::client::{self, Answer};
use argocd_wasm_plugin::server::protocol::{GenerateRequest, ParametersRequest, contract_env};
use argocd_wasm_plugin::server::{self, ServeOptions};
use argocd_wasm_plugin::{Limits, RenderBudget, Runtime, parameters, pipeline};

use diff::Side;
use inputs::LocalInputs;

mod diff;
mod golden;
mod inputs;
mod scaffold;

/// Renders Argo CD applications through sandboxed WebAssembly transform modules.
#[derive(Parser)]
#[command(name = "argocd-wasm-plugin", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    runtime: RuntimeOptions,
}

#[derive(Subcommand)]
enum Command {
    /// Argo CD's entry point: renders the app in the working directory from the
    /// environment Argo CD sets (ARGOCD_APP_*, ARGOCD_APP_PARAMETERS, ARGOCD_ENV_*).
    ///
    /// When the daemon's socket is given and its daemon answers its readiness probe within
    /// 2 s, the render runs there (warm); otherwise in this process. Both give the same
    /// bytes. A render the daemon accepted is never started again in-process.
    Generate {
        /// JSON by default: Argo CD reads a JSON stream exactly, with no YAML scalar typing
        /// for any reader version to get wrong (see docs/argocd.md).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        output: Format,
        /// The `serve` daemon's unix socket.
        #[arg(long, env = "ARGOCD_WASM_PLUGIN_SOCKET")]
        socket: Option<PathBuf>,
    },
    /// Renders an app directory locally, exactly as Argo CD would receive it.
    Render(Box<RenderArgs>),
    /// Runs golden test cases: renders each case directory and compares the result with
    /// its expected.yaml or expected-error.txt (see docs/modules.md).
    Test(golden::TestArgs),
    /// Creates something new from a template.
    New {
        #[command(subcommand)]
        what: NewCommand,
    },
    /// Prints the parameters the app's pipeline announces, as the JSON array Argo CD's
    /// `parameters.dynamic.command` expects (app directory: the working directory).
    ///
    /// When the daemon's socket is given and answers, the daemon answers (its modules are
    /// warm); otherwise this process does.
    Parameters {
        /// The app directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The `serve` daemon's unix socket.
        #[arg(long, env = "ARGOCD_WASM_PLUGIN_SOCKET")]
        socket: Option<PathBuf>,
    },
    /// Runs the warm daemon `generate` forwards to.
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// The unix socket to listen on.
    #[arg(
        long,
        env = "ARGOCD_WASM_PLUGIN_SOCKET",
        default_value = "/tmp/argocd-wasm-plugin.sock"
    )]
    socket: PathBuf,
    /// Also listen on this TCP address for `/metrics`, `/healthz` and `/readyz` (e.g.
    /// 0.0.0.0:9464 for scraping). Rendering is only ever offered on the unix socket.
    #[arg(long)]
    tcp: Option<std::net::SocketAddr>,
    /// Renders running at once [default: the number of cores].
    #[arg(long)]
    concurrency: Option<usize>,
    /// Renders one app (ARGOCD_APP_NAME) may run at once, so its slow modules cannot take
    /// every slot [default: half of --concurrency, at least 1].
    #[arg(long)]
    per_app_concurrency: Option<usize>,
    /// MiB of memory for the manifest files kept parsed for the next renders (their YAML
    /// text and its JSON, about twice the YAML): files read again with the same text (a
    /// shared base, the next commit) are not parsed again; 0 keeps none.
    #[arg(
        long,
        env = "ARGOCD_WASM_PLUGIN_REMEMBERED_YAML_MIB",
        default_value_t = 64
    )]
    remembered_yaml_mib: usize,
    /// Exit 0 if a daemon on --socket is ready, 1 if not (for readiness probes).
    #[arg(long)]
    check: bool,
    /// Compile every built-in module into the cache and exit (for image builds).
    #[arg(long, conflicts_with = "check")]
    precompile_builtins: bool,
}

#[derive(Subcommand)]
enum NewCommand {
    /// Scaffolds a module crate on the SDK, with a golden test case.
    Module(scaffold::NewModuleArgs),
}

/// Bounds and caching for the module runtime. Every flag also reads an environment
/// variable, so the sidecar can be tuned in its Deployment.
#[derive(Args)]
struct RuntimeOptions {
    /// CPU deadline of one module call, e.g. `500ms`, `10s`, `1m`.
    #[arg(long, global = true, env = "ARGOCD_WASM_PLUGIN_MODULE_TIMEOUT", default_value_t = FlagDuration(Limits::DEFAULT.deadline), value_parser = parse_duration)]
    module_timeout: FlagDuration,
    /// Memory cap of one module call, in MiB.
    #[arg(
        long,
        global = true,
        env = "ARGOCD_WASM_PLUGIN_MODULE_MEMORY_MIB",
        default_value_t = Limits::DEFAULT.memory_bytes >> 20
    )]
    module_memory_mib: usize,
    /// Cap on the objects one module call returns, in MiB (below Argo CD's 100 MiB cap on
    /// a whole response).
    #[arg(
        long,
        global = true,
        env = "ARGOCD_WASM_PLUGIN_MODULE_OUTPUT_MIB",
        default_value_t = Limits::DEFAULT.output_bytes >> 20
    )]
    module_output_mib: usize,
    /// Time a whole render may take, all steps and (in the daemon) queueing included: a
    /// little under Argo CD's 60 s plugin deadline, so a slow render fails with a message
    /// instead of being killed.
    #[arg(long, global = true, env = "ARGOCD_WASM_PLUGIN_RENDER_BUDGET", default_value_t = FlagDuration(DEFAULT_RENDER_BUDGET), value_parser = parse_duration)]
    render_budget: FlagDuration,
    /// Where compiled modules are cached [default: $XDG_CACHE_HOME/argocd-wasm-plugin,
    /// else ~/.cache/argocd-wasm-plugin].
    #[arg(long, global = true, env = "ARGOCD_WASM_PLUGIN_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Read-only compiled modules to look up before the cache: what `serve
    /// --precompile-builtins` wrote when the container image was built.
    #[arg(long, global = true, env = "ARGOCD_WASM_PLUGIN_PRECOMPILED_DIR")]
    precompiled_dir: Option<PathBuf>,
    /// Compile modules on every run instead of caching them (the precompiled directory
    /// is not read either).
    #[arg(long, global = true)]
    no_cache: bool,
}

#[derive(Args)]
struct RenderArgs {
    /// The app directory (holding wasm-pipeline.yaml, or plain manifests).
    dir: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Yaml, conflicts_with = "diff_against")]
    output: Format,
    /// Instead of printing the render, compare it with committed manifests (a YAML file, or
    /// the *.yaml/*.yml/*.json files directly in a directory) and print a unified diff; exit
    /// non-zero when they differ. Both sides are normalized first (keys sorted, objects
    /// sorted by kind, namespace, name, apiVersion, `*List`s flattened), so comments,
    /// quoting, indentation and key or document order make no difference.
    #[arg(long, value_name = "PATH")]
    diff_against: Option<PathBuf>,
    #[command(flatten)]
    inputs: LocalInputs,
}

/// Runs the command line; on failure prints the error on stderr and nothing on stdout.
pub fn run() -> ExitCode {
    let started = Instant::now();
    init_logging();
    let cli = Cli::parse();
    match execute(cli, started) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli, started: Instant) -> Result<ExitCode> {
    match cli.command {
        Command::Generate { output, socket } => {
            generate(&cli.runtime, output, socket.as_deref(), started)
        }
        Command::Render(args) => render(&cli.runtime, *args),
        Command::Parameters { dir, socket } => announce(&cli.runtime, &dir, socket.as_deref()),
        Command::Serve(args) => serve(&cli.runtime, args),
        Command::Test(args) => golden::run(&cli.runtime.build()?, args),
        Command::New {
            what: NewCommand::Module(args),
        } => scaffold::new_module(&args).map(|()| ExitCode::SUCCESS),
    }
}

/// Argo CD's entry point: the daemon if it can be reached, else in-process. Either way the
/// render's budget counts from this process's start.
fn generate(
    options: &RuntimeOptions,
    format: Format,
    socket: Option<&Path>,
    started: Instant,
) -> Result<ExitCode> {
    let deadline = started + options.render_budget.0;
    let mut request = GenerateRequest {
        dir: std::env::current_dir().context("cannot read the working directory")?,
        env: contract_env(utf8_vars()),
        format,
        budget_ms: None,
    };
    let forwarded = ask_daemon(socket, "rendering", |socket| {
        client::generate(socket, &mut request, deadline)
    })?;
    if let Some(stream) = forwarded {
        return write_stdout(&stream);
    }
    let mut invocation = Invocation::from_argocd_env(std::mem::take(&mut request.env))?;
    invocation.budget =
        RenderBudget::starting_now(deadline.saturating_duration_since(Instant::now()));
    write_stdout(&pipeline::render_stream(
        &options.build()?,
        &request.dir,
        &invocation,
        format,
    )?)
}

/// The process's environment, minus variables whose name or value is not UTF-8 (never
/// ones Argo CD sets): reading them must not abort the render.
fn utf8_vars() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
}

/// `parameters.dynamic.command`: the daemon if it answers, else in-process.
fn announce(options: &RuntimeOptions, dir: &Path, socket: Option<&Path>) -> Result<ExitCode> {
    let request = ParametersRequest {
        dir: std::env::current_dir()
            .context("cannot read the working directory")?
            .join(dir),
        env: contract_env(utf8_vars()),
    };
    if let Some(json) = ask_daemon(socket, "announcing", |socket| {
        client::parameters(socket, &request)
    })? {
        return write_stdout(&json);
    }
    write_stdout(&parameters::announce(&options.build()?, &request)?)
}

/// The daemon's answer when there is a daemon on `socket` that can be reached; `None` (with
/// a warning naming what now happens `in-process`) when the caller must do the work itself.
/// A failure the daemon reports is the caller's failure: it is never retried in-process.
fn ask_daemon(
    socket: Option<&Path>,
    in_process: &str,
    ask: impl FnOnce(&Path) -> Result<Answer>,
) -> Result<Option<String>> {
    let Some(socket) = socket.filter(|socket| socket.exists()) else {
        return Ok(None);
    };
    match ask(socket)? {
        Answer::Rendered(text) => Ok(Some(text)),
        Answer::Failed(message) => bail!(message),
        Answer::Unreachable(why) => {
            tracing::warn!(
                "the daemon on {} cannot be reached ({why}); {in_process} in-process",
                socket.display()
            );
            Ok(None)
        }
    }
}

fn serve(options: &RuntimeOptions, args: ServeArgs) -> Result<ExitCode> {
    if args.check {
        return match client::probe(&args.socket) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(why) => bail!("no ready daemon on {}: {why:#}", args.socket.display()),
        };
    }
    let runtime = options.build()?;
    if args.precompile_builtins {
        server::precompile_builtins(&runtime)?;
        return Ok(ExitCode::SUCCESS);
    }
    server::run(
        runtime,
        ServeOptions {
            socket: args.socket,
            tcp: args.tcp,
            concurrency: args.concurrency,
            per_app: args.per_app_concurrency,
            render_budget: options.render_budget.0,
            remembered_yaml: args.remembered_yaml_mib.saturating_mul(1 << 20),
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn render(options: &RuntimeOptions, args: RenderArgs) -> Result<ExitCode> {
    let runtime = options.build()?;
    let mut invocation = args.inputs.into_invocation()?;
    invocation.budget = RenderBudget::starting_now(options.render_budget.0);
    let objects = pipeline::render(&runtime, &args.dir, &invocation)?;
    match &args.diff_against {
        Some(committed) => diff_against(committed, &objects),
        None => print_stream(&objects, args.output),
    }
}

fn print_stream(objects: &[Value], format: Format) -> Result<ExitCode> {
    write_stdout(&manifests::to_stream(objects, format)?)
}

/// Prints the diff from the committed manifests to the render; fails when there is one.
fn diff_against(committed_path: &Path, rendered: &[Value]) -> Result<ExitCode> {
    let committed = manifests::load_path(committed_path)?;
    let label = committed_path.display().to_string();
    let committed = Side {
        label: &label,
        objects: &committed,
    };
    let rendered = Side {
        label: "render",
        objects: rendered,
    };
    match diff::compare(committed, rendered, diff::colour_stdout())? {
        Some(diff) => write_stdout(&diff).map(|_| ExitCode::FAILURE),
        None => {
            eprintln!("no differences from {label}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes the whole result at once: a failure never leaves half a stream on stdout.
fn write_stdout(text: &str) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush().context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

impl RuntimeOptions {
    fn build(&self) -> Result<Runtime> {
        let limits = Limits {
            deadline: self.module_timeout.0,
            memory_bytes: self.module_memory_mib << 20,
            output_bytes: self.module_output_mib << 20,
        };
        let cache_dir = match (&self.cache_dir, self.no_cache) {
            (_, true) => None,
            (Some(dir), false) => Some(dir.clone()),
            (None, false) => default_cache_dir(),
        };
        let runtime = Runtime::new(limits, cache_dir.as_deref())?;
        Ok(match (&self.precompiled_dir, self.no_cache) {
            (Some(dir), false) => runtime.with_precompiled_dir(dir),
            _ => runtime,
        })
    }
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(base.join("argocd-wasm-plugin"))
}

/// A duration flag, shown in `--help` as it is written (`10s`, `250ms`).
#[derive(Clone, Copy, Debug, PartialEq)]
struct FlagDuration(Duration);

impl std::fmt::Display for FlagDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.subsec_millis() {
            0 => write!(f, "{}s", self.0.as_secs()),
            _ => write!(f, "{}ms", self.0.as_millis()),
        }
    }
}

/// Parses `250ms`, `10s`, `2m`; a bare number means seconds.
fn parse_duration(text: &str) -> Result<FlagDuration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .with_context(|| format!("`{text}` is not a duration such as 500ms, 10s or 1m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => bail!("`{text}`: unknown unit `{unit}` (use ms, s or m)"),
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        bail!("`{text}`: the duration must be positive");
    }
    Ok(FlagDuration(Duration::from_secs_f64(seconds)))
}

/// Logs go to stderr (stdout is the manifest stream); `ARGOCD_WASM_PLUGIN_LOG` sets the
/// filter, `warn` by default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARGOCD_WASM_PLUGIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        let parsed = |text| parse_duration(text).unwrap().0;
        assert_eq!(parsed("250ms"), Duration::from_millis(250));
        assert_eq!(parsed("10"), Duration::from_secs(10));
        assert_eq!(parsed("1m"), Duration::from_secs(60));
        for shown in ["10s", "250ms", "55s"] {
            assert_eq!(parse_duration(shown).unwrap().to_string(), shown);
        }
        for bad in ["", "0s", "-1s", "5h", "abc"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
