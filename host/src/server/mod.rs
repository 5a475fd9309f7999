//! `serve`: a long-running daemon that keeps compiled modules warm and renders for
//! `generate` over a unix socket. Each request renders in its own fresh module stores on a
//! blocking thread, within its render budget (the time left of Argo CD's deadline), and is
//! stopped when its client goes away. A fair scheduler hands out the slots (one per core):
//! per-app queues served in turn, no app holding more than its share, so one app's looping
//! modules never delay another app's renders.
//!
//! Rendering is only ever offered on the unix socket (mode 0660: the sidecar's user and
//! group). The optional TCP listener serves only `/metrics`, `/healthz` and `/readyz`.

pub mod client;
mod metrics;
pub mod protocol;
mod scheduler;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::builtins;
use crate::invocation::Invocation;
use crate::parameters;
use crate::pipeline::{self, RenderError};
use crate::runtime::{RenderBudget, Runtime};
use metrics::{Failure, Metrics};
use protocol::{GENERATE_PATH, GenerateRequest, PARAMETERS_PATH, ParametersRequest, READY_PATH};
use scheduler::Scheduler;

/// The unix socket's permissions: the sidecar's user and group (Argo CD's 999) only.
const SOCKET_MODE: u32 = 0o660;

pub struct ServeOptions {
    pub socket: PathBuf,
    pub tcp: Option<SocketAddr>,
    /// Renders running at once; the number of cores when absent.
    pub concurrency: Option<usize>,
    /// Renders one app may run at once; half the slots (at least one) when absent.
    pub per_app: Option<usize>,
    /// The longest a request may take, queueing included; a request asking for less
    /// (the time left of Argo CD's deadline) gets less.
    pub render_budget: Duration,
    /// Bytes of YAML and JSON text of the manifest files kept parsed for later renders (see
    /// [`crate::yaml::remember_parsed_files`]); 0 keeps none.
    pub remembered_yaml: usize,
}

struct Daemon {
    runtime: Arc<Runtime>,
    metrics: Arc<Metrics>,
    scheduler: Arc<Scheduler>,
    render_budget: Duration,
    ready: AtomicBool,
}

/// Runs the daemon until SIGTERM or Ctrl-C.
pub fn run(runtime: Runtime, options: ServeOptions) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(runtime, options))
}

async fn serve(runtime: Runtime, options: ServeOptions) -> Result<()> {
    let daemon = Daemon::new(runtime, &options);
    if options.remembered_yaml > 0 {
        let metrics = daemon.metrics.clone();
        let looked_up = Box::new(move |remembered| metrics.manifest_file_read(remembered));
        crate::yaml::remember_parsed_files(options.remembered_yaml, looked_up);
    }
    tokio::task::spawn_blocking({
        let daemon = daemon.clone();
        move || daemon.warm_up()
    });
    if let Some(address) = options.tcp {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let probes = probes().with_state(daemon.clone());
        tokio::spawn(async move {
            axum::serve(listener, probes)
                .with_graceful_shutdown(shutdown())
                .await
        });
    }
    let renders = renders().with_state(daemon.clone());
    let (listener, socket) = SocketFile::bind(&options.socket)?;
    let (concurrency, per_app) = slots(&options);
    tracing::info!(socket = %options.socket.display(), concurrency, per_app, "serving");
    axum::serve(listener, renders)
        .with_graceful_shutdown(shutdown())
        .await?;
    socket.remove();
    Ok(())
}

/// Renders at once, and renders of one app at once.
fn slots(options: &ServeOptions) -> (usize, usize) {
    let concurrency = options
        .concurrency
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    (
        concurrency,
        options.per_app.unwrap_or(concurrency / 2).max(1),
    )
}

/// What the optional TCP listener serves: health, readiness and metrics.
fn probes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(READY_PATH, get(ready))
        .route("/metrics", get(metrics_text))
}

/// What the unix socket serves: the probes, renders and parameter announcements.
fn renders() -> Router<Arc<Daemon>> {
    probes()
        .route(GENERATE_PATH, post(generate))
        .route(PARAMETERS_PATH, post(announce))
}

/// The daemon's unix socket file, identified by its inode so that only this very file is
/// ever removed.
struct SocketFile {
    path: PathBuf,
    device: u64,
    inode: u64,
}

impl SocketFile {
    /// Binds `path` with [`SOCKET_MODE`]. An old socket nobody listens on (a previous run's)
    /// is replaced; a live daemon's socket, or any other file, is left alone.
    fn bind(path: &Path) -> Result<(tokio::net::UnixListener, Self)> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        remove_stale_socket(path)?;
        let listener = tokio::net::UnixListener::bind(path)
            .with_context(|| format!("cannot listen on {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
            .with_context(|| format!("cannot set the permissions of {}", path.display()))?;
        let metadata = std::fs::symlink_metadata(path)?;
        let socket = Self {
            path: path.to_owned(),
            device: metadata.dev(),
            inode: metadata.ino(),
        };
        Ok((listener, socket))
    }

    /// Removes the socket, if the file at its path is still this one.
    fn remove(self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|metadata| metadata.dev() == self.device && metadata.ino() == self.inode);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn remove_stale_socket(path: &Path) -> Result<()> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot inspect {}", path.display()));
        }
    };
    if !metadata.file_type().is_socket() {
        bail!(
            "{} exists and is not a socket: refusing to replace it (choose another --socket)",
            path.display()
        );
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        bail!("another daemon is already listening on {}", path.display());
    }
    std::fs::remove_file(path).with_context(|| format!("cannot replace {}", path.display()))
}

async fn shutdown() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("cannot install the SIGTERM handler");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

impl Daemon {
    fn new(runtime: Runtime, options: &ServeOptions) -> Arc<Self> {
        let metrics = Arc::new(Metrics::new());
        let (concurrency, per_app) = slots(options);
        Arc::new(Daemon {
            runtime: Arc::new(runtime.observed_by(metrics.clone())),
            metrics,
            scheduler: Scheduler::new(concurrency, per_app),
            render_budget: options.render_budget,
            ready: AtomicBool::new(false),
        })
    }

    /// Compiles (or loads from the cache) every built-in module before saying ready, so the
    /// first request is as fast as the rest.
    fn warm_up(&self) {
        for builtin in builtins::BUILTINS {
            if let Err(error) = self.runtime.load(builtin.sha256, builtin.wasm) {
                tracing::error!("cannot load builtin:{}: {error:#}", builtin.name);
            }
        }
        self.ready.store(true, Ordering::Release);
    }

    fn render(
        &self,
        request: GenerateRequest,
        budget: RenderBudget,
    ) -> Result<String, RenderError> {
        let mut invocation =
            Invocation::from_argocd_env(request.env).map_err(RenderError::Pipeline)?;
        invocation.budget = budget;
        pipeline::render_stream(&self.runtime, &request.dir, &invocation, request.format)
    }

    /// A request's budget: what it asks for (the time left of Argo CD's deadline), at most
    /// the daemon's own, counted from its arrival so queueing counts too.
    fn budget_for(&self, request: &GenerateRequest) -> RenderBudget {
        let asked = request.budget_ms.map(Duration::from_millis);
        RenderBudget::starting_now(asked.map_or(self.render_budget, |a| a.min(self.render_budget)))
    }
}

/// A generate request being answered. Dropped before it answered (hyper drops a handler
/// whose client disconnected), it cancels the render, which then stops within milliseconds
/// and frees its slot, and counts the request as cancelled.
struct InFlight {
    daemon: Arc<Daemon>,
    budget: RenderBudget,
    started: Instant,
    answered: bool,
}

impl InFlight {
    /// Counts the request and hands back its response.
    fn answer(mut self, failure: Option<Failure>, response: Response) -> Response {
        self.answered = true;
        self.daemon
            .metrics
            .request_done(self.started.elapsed(), failure);
        response
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.answered {
            self.budget.cancel();
            self.daemon
                .metrics
                .request_done(self.started.elapsed(), Some(Failure::Cancelled));
        }
    }
}

async fn generate(State(daemon): State<Arc<Daemon>>, body: Bytes) -> Response {
    let started = Instant::now();
    let request: GenerateRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            daemon
                .metrics
                .request_done(started.elapsed(), Some(Failure::BadRequest));
            return (
                StatusCode::BAD_REQUEST,
                format!("not a generate request: {error}"),
            )
                .into_response();
        }
    };
    let budget = daemon.budget_for(&request);
    let in_flight = InFlight {
        daemon: daemon.clone(),
        budget: budget.clone(),
        started,
        answered: false,
    };
    let app = fairness_key(&request.env, &request.dir);
    let waiting = budget.remaining().unwrap_or(daemon.render_budget);
    let Ok(slot) = tokio::time::timeout(waiting, daemon.scheduler.acquire(&app)).await else {
        let message = format!(
            "the daemon was busy for the whole render budget ({waiting:?}); \
             see its argocd_wasm_plugin_request_duration_seconds metric"
        );
        let response = (StatusCode::UNPROCESSABLE_ENTITY, message).into_response();
        return in_flight.answer(Some(Failure::Busy), response);
    };
    let rendering = daemon.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        rendering.render(request, budget)
    })
    .await;
    let (failure, response) = match outcome {
        Ok(Ok(stream)) => (None, (StatusCode::OK, stream).into_response()),
        Ok(Err(error)) => (
            Some(Failure::Render(error.kind())),
            (StatusCode::UNPROCESSABLE_ENTITY, report(error)).into_response(),
        ),
        Err(panic) => (
            Some(Failure::Internal),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the render panicked: {panic}"),
            )
                .into_response(),
        ),
    };
    in_flight.answer(failure, response)
}

/// Whose turn a request waits for: its Argo CD app, or its directory when it names none.
fn fairness_key(env: &BTreeMap<String, String>, dir: &Path) -> String {
    match env.get("ARGOCD_APP_NAME") {
        Some(name) if !name.is_empty() => name.clone(),
        _ => dir.display().to_string(),
    }
}

/// `parameters` for an app: loads the steps' modules like a render does, so it waits for
/// its app's turn at a slot too.
async fn announce(State(daemon): State<Arc<Daemon>>, body: Bytes) -> Response {
    let request: ParametersRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            let message = format!("not a parameters request: {error}");
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
    };
    let slot = daemon
        .scheduler
        .acquire(&fairness_key(&request.env, &request.dir))
        .await;
    let outcome = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        parameters::announce(&daemon.runtime, &request)
    })
    .await;
    match outcome {
        Ok(Ok(json)) => (StatusCode::OK, json).into_response(),
        Ok(Err(error)) => (StatusCode::UNPROCESSABLE_ENTITY, report(error)).into_response(),
        Err(panic) => {
            let message = format!("the announcement panicked: {panic}");
            (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
        }
    }
}

/// An error with its causes, as `generate` prints it: `step `x` (m): cause: cause`.
fn report(error: impl Into<anyhow::Error>) -> String {
    format!("{:#}", error.into())
}

async fn ready(State(daemon): State<Arc<Daemon>>) -> impl IntoResponse {
    if daemon.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "warming up")
    }
}

async fn metrics_text(State(daemon): State<Arc<Daemon>>) -> impl IntoResponse {
    (
        [(
            "content-type",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        daemon.metrics.encode(),
    )
}

/// Compiles every built-in module into the disk cache (for the container image's build).
pub fn precompile_builtins(runtime: &Runtime) -> Result<()> {
    for builtin in builtins::BUILTINS {
        runtime
            .load(builtin.sha256, builtin.wasm)
            .with_context(|| format!("builtin:{}", builtin.name))?;
    }
    Ok(())
}

/// The router in process: requests go through axum's routing and handlers, no socket.
#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use crate::manifests::Format;
    use crate::runtime::Limits;

    fn daemon() -> Arc<Daemon> {
        daemon_with(Limits::default())
    }

    fn daemon_with(limits: Limits) -> Arc<Daemon> {
        let options = ServeOptions {
            socket: PathBuf::new(),
            tcp: None,
            concurrency: Some(2),
            per_app: None,
            render_budget: Duration::from_secs(30),
            remembered_yaml: 0,
        };
        Daemon::new(Runtime::new(limits, None).unwrap(), &options)
    }

    /// A repository whose app runs the test module `crate_name` (built by build.rs).
    fn running(crate_name: &str) -> tempfile::TempDir {
        let file = format!("{}.wasm", crate_name.replace('-', "_"));
        let pipeline = format!("steps:\n  - module: {file}\n");
        let repo = repository(Some(&pipeline));
        let built = Path::new(env!("GUEST_WASM_DIR")).join(&file);
        std::fs::copy(built, repo.path().join("app").join(&file)).unwrap();
        repo
    }

    /// A repository holding `app/` with a ConfigMap and, if given, a pipeline file.
    fn repository(pipeline: Option<&str>) -> tempfile::TempDir {
        let repo = tempfile::tempdir().unwrap();
        let app = repo.path().join("app");
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        std::fs::create_dir_all(&app).unwrap();
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n";
        std::fs::write(app.join("cm.yaml"), cm).unwrap();
        if let Some(pipeline) = pipeline {
            std::fs::write(app.join("wasm-pipeline.yaml"), pipeline).unwrap();
        }
        repo
    }

    fn generate_request(repo: &tempfile::TempDir) -> String {
        let request = GenerateRequest {
            dir: repo.path().join("app"),
            env: BTreeMap::new(),
            format: Format::Json,
            budget_ms: None,
        };
        serde_json::to_string(&request).unwrap()
    }

    async fn send(daemon: &Arc<Daemon>, request: Request<Body>) -> (StatusCode, String) {
        let response = renders()
            .with_state(daemon.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn post(daemon: &Arc<Daemon>, path: &str, body: String) -> (StatusCode, String) {
        send(daemon, Request::post(path).body(Body::from(body)).unwrap()).await
    }

    async fn get(daemon: &Arc<Daemon>, path: &str) -> (StatusCode, String) {
        send(daemon, Request::get(path).body(Body::empty()).unwrap()).await
    }

    #[tokio::test]
    async fn generate_renders_and_counts_failures_by_kind() {
        let daemon = daemon();
        let plain = repository(None);
        let (status, body) = post(&daemon, GENERATE_PATH, generate_request(&plain)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#""name":"settings""#), "{body}");

        let unknown = repository(Some("steps:\n  - module: builtin:nope\n"));
        let (status, body) = post(&daemon, GENERATE_PATH, generate_request(&unknown)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.starts_with("step 1 (builtin:nope): there is no built-in module `nope`"),
            "{body}"
        );

        let empty = repository(Some("source: nowhere\n"));
        let (status, _) = post(&daemon, GENERATE_PATH, generate_request(&empty)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        let (status, _) = post(&daemon, GENERATE_PATH, "{".into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (_, metrics) = get(&daemon, "/metrics").await;
        for reason in ["module", "io", "bad-request"] {
            let line = format!("argocd_wasm_plugin_failures_total{{reason=\"{reason}\"}} 1");
            assert!(metrics.contains(&line), "no {line} in\n{metrics}");
        }
        assert!(
            metrics.contains("argocd_wasm_plugin_requests_total 4"),
            "{metrics}"
        );
    }

    /// The runtime's failures reach the metrics as their kind, from the error's type.
    #[tokio::test]
    async fn a_module_stopped_by_a_limit_is_counted_by_that_limit() {
        let daemon = daemon_with(Limits {
            deadline: Duration::from_millis(200),
            memory_bytes: 64 << 20,
            ..Limits::DEFAULT
        });
        for (module, message) in [
            ("alloc-bomb", "memory cap exceeded"),
            ("spin", "ran past its CPU deadline of 200ms"),
        ] {
            let repo = running(module);
            let (status, body) = post(&daemon, GENERATE_PATH, generate_request(&repo)).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert!(body.contains(message), "{body}");
        }
        let (_, metrics) = get(&daemon, "/metrics").await;
        for reason in ["memory-cap", "deadline"] {
            let line = format!("argocd_wasm_plugin_failures_total{{reason=\"{reason}\"}} 1");
            assert!(metrics.contains(&line), "no {line} in\n{metrics}");
        }
    }

    #[tokio::test]
    async fn parameters_and_probes_answer_in_process() {
        let daemon = daemon();
        let repo = repository(None);
        let request = ParametersRequest {
            dir: repo.path().join("app"),
            env: BTreeMap::new(),
        };
        let body = serde_json::to_string(&request).unwrap();
        assert_eq!(
            post(&daemon, PARAMETERS_PATH, body).await,
            (StatusCode::OK, "[]\n".to_owned())
        );
        assert_eq!(get(&daemon, "/healthz").await.0, StatusCode::OK);
        assert_eq!(
            get(&daemon, READY_PATH).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        daemon.ready.store(true, Ordering::Release);
        assert_eq!(get(&daemon, READY_PATH).await.0, StatusCode::OK);
    }
}
