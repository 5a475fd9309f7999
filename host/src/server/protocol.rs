//! What `generate` sends the daemon: the app directory and Argo CD's environment, so the
//! daemon builds the very same inputs `generate` would have built itself.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::manifests::Format;

pub const GENERATE_PATH: &str = "/v1/generate";
pub const PARAMETERS_PATH: &str = "/v1/parameters";
pub const READY_PATH: &str = "/readyz";

#[derive(Debug, Serialize, Deserialize)]
pub struct GenerateRequest {
    /// The app directory, absolute: the daemon shares the sidecar's /tmp.
    pub dir: PathBuf,
    /// The variables of the CMP contract (ARGOCD_*, KUBE_*), nothing else.
    pub env: BTreeMap<String, String>,
    pub format: Format,
    /// How long the render may still take (what is left of Argo CD's deadline), in
    /// milliseconds; the daemon's own budget when absent.
    #[serde(default)]
    pub budget_ms: Option<u64>,
}

/// What `parameters` sends the daemon: the app directory and Argo CD's environment (the
/// announcement depends on `ARGOCD_APP_SOURCE_PATH`, which locates the repository).
#[derive(Debug, Serialize, Deserialize)]
pub struct ParametersRequest {
    /// The app directory, absolute: the daemon shares the sidecar's /tmp.
    pub dir: PathBuf,
    /// The variables of the CMP contract (ARGOCD_*, KUBE_*), nothing else.
    pub env: BTreeMap<String, String>,
}

/// Keeps the variables Argo CD sets for a plugin; the sidecar's own environment (tokens,
/// credentials, paths) never travels.
pub fn contract_env(vars: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    vars.into_iter()
        .filter(|(name, _)| name.starts_with("ARGOCD_") || name.starts_with("KUBE_"))
        .collect()
}
