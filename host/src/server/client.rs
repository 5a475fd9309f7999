//! `generate`'s side of the daemon: ask whether it is there, then forward the request over
//! the unix socket. `generate` renders in-process only when the daemon cannot be reached:
//! a render the daemon started is never started a second time.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;

use serde::Serialize;

use super::protocol::{
    GENERATE_PATH, GenerateRequest, PARAMETERS_PATH, ParametersRequest, READY_PATH,
};

/// How long a daemon may take to answer its readiness probe. One that takes longer is hung
/// (stopped, deadlocked) or overloaded: `generate` renders in-process instead, with almost
/// all of Argo CD's deadline left.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long past the render budget `generate` waits for the daemon's answer: the daemon
/// stops the render at the budget and answers with the reason.
const ANSWER_GRACE: Duration = Duration::from_secs(1);

/// What the daemon said about a request.
pub enum Answer {
    /// The rendered stream (or, for `parameters`, the announcement).
    Rendered(String),
    /// The render failed; the message names step, module and object.
    Failed(String),
    /// The daemon is absent, not ready or hung: render in-process. The text says why.
    Unreachable(String),
}

/// Sends `request` to the daemon on `socket` after checking that it is ready, with the
/// time left until `deadline` as its budget, and waits at most that (plus a grace) for the
/// answer.
pub fn generate(socket: &Path, request: &mut GenerateRequest, deadline: Instant) -> Result<Answer> {
    if let Err(why) = probe(socket) {
        return Ok(Answer::Unreachable(format!("{why:#}")));
    }
    let budget = deadline.saturating_duration_since(Instant::now());
    request.budget_ms = Some(budget.as_millis().try_into().unwrap_or(u64::MAX));
    post(
        socket,
        GENERATE_PATH,
        request,
        budget.saturating_add(ANSWER_GRACE),
    )
}

/// Asks the daemon on `socket` for the app's parameter announcement, after checking that it
/// is ready. Announcing runs no module, so a daemon that takes longer than its probe is as
/// good as hung.
pub fn parameters(socket: &Path, request: &ParametersRequest) -> Result<Answer> {
    if let Err(why) = probe(socket) {
        return Ok(Answer::Unreachable(format!("{why:#}")));
    }
    post(socket, PARAMETERS_PATH, request, PROBE_TIMEOUT)
}

/// Posts `request` to a daemon that answered its probe, waiting at most `wait`.
fn post(socket: &Path, path: &str, request: &impl Serialize, wait: Duration) -> Result<Answer> {
    let body = serde_json::to_vec(request)?;
    let (status, text) = call(socket, "POST", path, body, wait).with_context(|| {
        format!(
            "the daemon on {} accepted the request but did not answer",
            socket.display()
        )
    })?;
    match status {
        StatusCode::OK => Ok(Answer::Rendered(text)),
        StatusCode::UNPROCESSABLE_ENTITY => Ok(Answer::Failed(text)),
        other => bail!("the daemon answered {other}: {text}"),
    }
}

/// `Ok` when the daemon on `socket` is up and has its built-in modules warm.
pub fn probe(socket: &Path) -> Result<()> {
    match call(socket, "GET", READY_PATH, Vec::new(), PROBE_TIMEOUT)? {
        (StatusCode::OK, _) => Ok(()),
        (status, text) => bail!("the daemon is not ready ({status}: {})", text.trim()),
    }
}

fn call(
    socket: &Path,
    method: &str,
    path: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(StatusCode, String)> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            tokio::time::timeout(timeout, exchange(socket, method, path, body))
                .await
                .map_err(|_| anyhow!("no answer within {timeout:?}"))?
        })
}

async fn exchange(
    socket: &Path,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<(StatusCode, String)> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .with_context(|| format!("cannot connect to {}", socket.display()))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "argocd-wasm-plugin")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8(bytes.to_vec())?))
}
