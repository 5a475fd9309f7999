//! `serve`: a long-running daemon that keeps compiled modules warm and renders for
//! `generate` over a unix socket (optionally TCP). Each request renders in its own fresh
//! module stores on a blocking thread; a semaphore sized to the cores bounds how many run at
//! once, so one hostile or failing request never starves or breaks another.

pub mod client;
mod metrics;
pub mod protocol;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context as _, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Semaphore;

use crate::builtins;
use crate::invocation::Invocation;
use crate::runtime::Runtime;
use crate::{parameters, pipeline};
use metrics::{Failure, Metrics};
use protocol::{GENERATE_PATH, GenerateRequest, PARAMETERS_PATH, ParametersRequest, READY_PATH};

pub struct ServeOptions {
    pub socket: PathBuf,
    pub tcp: Option<SocketAddr>,
    /// Renders running at once; the number of cores when absent.
    pub concurrency: Option<usize>,
}

struct Daemon {
    runtime: Arc<Runtime>,
    metrics: Arc<Metrics>,
    permits: Arc<Semaphore>,
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
    let metrics = Arc::new(Metrics::new());
    let concurrency = options
        .concurrency
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let daemon = Arc::new(Daemon {
        runtime: Arc::new(runtime.observed_by(metrics.clone())),
        metrics,
        permits: Arc::new(Semaphore::new(concurrency)),
        ready: AtomicBool::new(false),
    });
    tokio::task::spawn_blocking({
        let daemon = daemon.clone();
        move || daemon.warm_up()
    });
    let router = Router::new()
        .route(GENERATE_PATH, post(generate))
        .route(PARAMETERS_PATH, post(announce))
        .route("/healthz", get(|| async { "ok" }))
        .route(READY_PATH, get(ready))
        .route("/metrics", get(metrics_text))
        .with_state(daemon);
    if let Some(address) = options.tcp {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let router = router.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown())
                .await
        });
    }
    let listener = bind_socket(&options.socket)?;
    tracing::info!(socket = %options.socket.display(), concurrency, "serving");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await?;
    let _ = std::fs::remove_file(&options.socket);
    Ok(())
}

/// Binds the unix socket, replacing a stale one left by a previous run.
fn bind_socket(path: &Path) -> Result<tokio::net::UnixListener> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let _ = std::fs::remove_file(path);
    tokio::net::UnixListener::bind(path)
        .with_context(|| format!("cannot listen on {}", path.display()))
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

    fn render(&self, request: GenerateRequest) -> Result<String> {
        let invocation = Invocation::from_argocd_env(request.env)?;
        pipeline::render_stream(&self.runtime, &request.dir, &invocation, request.format)
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
    let permit = daemon
        .permits
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    let rendering = daemon.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        rendering.render(request)
    })
    .await;
    let (failure, response) = match outcome {
        Ok(Ok(stream)) => (None, (StatusCode::OK, stream).into_response()),
        Ok(Err(error)) => (
            Some(Failure::Render),
            (StatusCode::UNPROCESSABLE_ENTITY, format!("{error:#}")).into_response(),
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
    daemon.metrics.request_done(started.elapsed(), failure);
    response
}

/// `parameters` for an app: loads the steps' modules like a render does, so it waits for
/// a permit too.
async fn announce(State(daemon): State<Arc<Daemon>>, body: Bytes) -> Response {
    let request: ParametersRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            let message = format!("not a parameters request: {error}");
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
    };
    let permit = daemon
        .permits
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        parameters::announce(&daemon.runtime, &request)
    })
    .await;
    match outcome {
        Ok(Ok(json)) => (StatusCode::OK, json).into_response(),
        Ok(Err(error)) => (StatusCode::UNPROCESSABLE_ENTITY, format!("{error:#}")).into_response(),
        Err(panic) => {
            let message = format!("the announcement panicked: {panic}");
            (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
        }
    }
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
