//! The host's own model of what crosses the module boundary: the render context a module
//! is given, and what it says about itself and its findings.
//!
//! These types belong to the host, not to any version of the contract: the generated
//! bindings of each version (`bindings.rs`) convert to and from them at the edge, so the
//! pipeline, the parameters and the CLI never see a generated type, and a new contract
//! version changes `bindings.rs` and this file only.

/// Everything a transform may know besides the objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The pipeline step's name, for messages.
    pub step: String,
    pub app: AppInfo,
    /// The step's `with:` block as JSON text (`{}` when absent).
    pub config: String,
    /// The Application's parameters, in the order Argo CD sent them.
    pub parameters: Vec<Parameter>,
    /// The plugin env, names without the `ARGOCD_ENV_` prefix, sorted by name.
    pub env: Vec<(String, String)>,
}

/// The facts Argo CD gives about the Application (`ARGOCD_APP_*`, `KUBE_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppInfo {
    pub name: String,
    /// The destination namespace.
    pub namespace: String,
    pub project: String,
    pub revision: String,
    pub revision_short: String,
    pub source_path: String,
    pub source_repo_url: String,
    pub source_target_revision: String,
    pub kube_version: String,
    pub kube_api_versions: Vec<String>,
}

/// One parameter of the Application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub value: ParameterValue,
}

/// A parameter's value, in the three shapes Argo CD knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValue {
    String(String),
    Array(Vec<String>),
    /// Key/value pairs sorted by key.
    Map(Vec<(String, String)>),
}

/// The shape of an announced parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterKind {
    String,
    Array,
    Map,
}

/// A parameter a module reads, announced to Argo CD's UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterAnnouncement {
    pub name: String,
    /// The name is shown when empty.
    pub title: String,
    pub tooltip: String,
    pub required: bool,
    pub kind: ParameterKind,
    /// What the module uses when the Application sets none.
    pub default: Option<ParameterValue>,
}

/// What a module says about itself when it is loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub parameters: Vec<ParameterAnnouncement>,
    /// The kinds the module reads; empty or `*` means every kind its step grants.
    pub reads_kinds: Vec<String>,
}

/// How bad a finding is. Any error fails the render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Names one Kubernetes object in a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// A module's finding about its config or its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub object: Option<ObjectRef>,
    /// The field inside the object (or the step's config).
    pub field: Option<String>,
    /// A stable identifier of the kind of finding, `<module>/<kebab-case-name>` (contract
    /// 0.2.0 on); `None` from modules built for 0.1.0.
    pub code: Option<String>,
}

/// A successful transform: the objects replacing those given (JSON texts), and findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub resources: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The level of a line a module logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}
