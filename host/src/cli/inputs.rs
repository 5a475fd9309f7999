//! What Argo CD would pass `generate`, given by hand: `render`'s flags, and a golden case's
//! `test.yaml` under the same names.

use anyhow::Result;
use clap::Args;
use serde::Deserialize;

use argocd_wasm_plugin::invocation::{self, Invocation};
use argocd_wasm_plugin::{AppInfo, RenderBudget};

/// The inputs of one render.
#[derive(Args, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalInputs {
    /// A plugin env variable, as the Application's `spec.source.plugin.env` sets it
    /// (`IMAGES=…` or `ARGOCD_ENV_IMAGES=…`). Repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// A parameter: `NAME=VALUE` (split at the first `=`); repeat a name for an array;
    /// `NAME.KEY=VALUE` for a map.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    #[command(flatten)]
    app: AppFlags,
}

impl LocalInputs {
    pub fn into_invocation(self) -> Result<Invocation> {
        Ok(Invocation {
            parameters: invocation::parse_cli_parameters(&self.params)?,
            env: invocation::parse_cli_env(&self.env)?,
            app: self.app.into_app_info(),
            budget: RenderBudget::unlimited(),
        })
    }
}

/// The Argo CD app facts a render may use; empty unless given.
#[derive(Args, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
struct AppFlags {
    /// ARGOCD_APP_NAME.
    #[arg(long)]
    app_name: Option<String>,
    /// ARGOCD_APP_NAMESPACE: the destination namespace.
    #[arg(long)]
    namespace: Option<String>,
    /// ARGOCD_APP_PROJECT_NAME.
    #[arg(long)]
    project: Option<String>,
    /// ARGOCD_APP_REVISION.
    #[arg(long)]
    revision: Option<String>,
    /// ARGOCD_APP_REVISION_SHORT.
    #[arg(long)]
    revision_short: Option<String>,
    /// ARGOCD_APP_SOURCE_PATH: the app's path in the repository.
    #[arg(long)]
    source_path: Option<String>,
    /// ARGOCD_APP_SOURCE_REPO_URL.
    #[arg(long)]
    repo_url: Option<String>,
    /// ARGOCD_APP_SOURCE_TARGET_REVISION.
    #[arg(long)]
    target_revision: Option<String>,
    /// KUBE_VERSION.
    #[arg(long)]
    kube_version: Option<String>,
    /// KUBE_API_VERSIONS, comma separated.
    #[arg(long, value_delimiter = ',')]
    kube_api_versions: Vec<String>,
}

impl AppFlags {
    fn into_app_info(self) -> AppInfo {
        AppInfo {
            name: self.app_name.unwrap_or_default(),
            namespace: self.namespace.unwrap_or_default(),
            project: self.project.unwrap_or_default(),
            revision: self.revision.unwrap_or_default(),
            revision_short: self.revision_short.unwrap_or_default(),
            source_path: self.source_path.unwrap_or_default(),
            source_repo_url: self.repo_url.unwrap_or_default(),
            source_target_revision: self.target_revision.unwrap_or_default(),
            kube_version: self.kube_version.unwrap_or_default(),
            kube_api_versions: self.kube_api_versions,
        }
    }
}
