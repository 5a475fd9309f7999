//! `generate`'s side of the daemon: forward the request over the unix socket, or report
//! that the daemon is not there so the caller renders in-process.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;

use serde::Serialize;

use super::protocol::{
    GENERATE_PATH, GenerateRequest, PARAMETERS_PATH, ParametersRequest, READY_PATH,
};

/// Longer than any render the module deadlines allow, shorter than Argo CD's 60 s.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(50);

/// What the daemon said about a request.
pub enum Answer {
    /// The rendered stream (or, for `parameters`, the announcement).
    Rendered(String),
    /// The render failed; the message names step, module and object.
    Failed(String),
}

/// Sends `request` to the daemon on `socket`. `Err` means the daemon could not be asked
/// (absent, not ready, broken): the caller falls back to rendering in-process.
pub fn generate(socket: &Path, request: &GenerateRequest) -> Result<Answer> {
    post(socket, GENERATE_PATH, request)
}

/// Asks the daemon on `socket` for the app's parameter announcement; `Err` as for
/// [`generate`].
pub fn parameters(socket: &Path, request: &ParametersRequest) -> Result<Answer> {
    post(socket, PARAMETERS_PATH, request)
}

fn post(socket: &Path, path: &str, request: &impl Serialize) -> Result<Answer> {
    let body = serde_json::to_vec(request)?;
    let (status, text) = call(socket, "POST", path, body)?;
    match status {
        StatusCode::OK => Ok(Answer::Rendered(text)),
        StatusCode::UNPROCESSABLE_ENTITY => Ok(Answer::Failed(text)),
        other => bail!("the daemon answered {other}: {text}"),
    }
}

/// Whether the daemon on `socket` is up and has its built-in modules warm.
pub fn is_ready(socket: &Path) -> bool {
    matches!(
        call(socket, "GET", READY_PATH, Vec::new()),
        Ok((StatusCode::OK, _))
    )
}

fn call(socket: &Path, method: &str, path: &str, body: Vec<u8>) -> Result<(StatusCode, String)> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            tokio::time::timeout(REQUEST_TIMEOUT, exchange(socket, method, path, body))
                .await
                .map_err(|_| anyhow!("the daemon did not answer within {REQUEST_TIMEOUT:?}"))?
        })
}

async fn exchange(
    socket: &Path,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<(StatusCode, String)> {
    let stream = tokio::net::UnixStream::connect(socket).await?;
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
