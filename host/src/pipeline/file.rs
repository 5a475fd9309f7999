//! The pipeline file, `wasm-pipeline.yaml`: where the manifests come from and which steps
//! run on them.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};
use serde::Deserialize;
use serde_json::Value;

pub(super) const API_VERSION: &str = "argocd-wasm-plugin/v1alpha1";
pub(super) const KIND: &str = "Pipeline";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct PipelineFile {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    /// The manifests directory, relative to the app directory; the app directory if absent.
    pub source: Option<String>,
    /// Whether an empty result is acceptable. Off by default: an empty render makes Argo CD
    /// prune every object of the app.
    #[serde(default)]
    pub allow_empty: bool,
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    /// How a kustomization source is loaded.
    #[serde(default)]
    pub kustomize: KustomizeOptions,
}

/// `kustomize:` in the pipeline file: the equivalents of `kubectl kustomize` flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct KustomizeOptions {
    /// `LoadRestrictionsRootOnly` (kubectl's default) or `LoadRestrictionsNone`, as
    /// `--load-restrictor`. Unset: the sidecar's `ARGOCD_WASM_PLUGIN_KUSTOMIZE_LOAD_RESTRICTOR`,
    /// else `LoadRestrictionsRootOnly`.
    #[serde(default)]
    pub load_restrictor: Option<LoadRestrictor>,
}

/// Which files a kustomization may read. Either way no path leaves the repository.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(super) enum LoadRestrictor {
    /// Files a kustomization reads (resource files, patches, generator files,
    /// configurations, ...) must lie in or below its directory; bases in other directories
    /// are fine.
    #[default]
    #[serde(rename = "LoadRestrictionsRootOnly")]
    RootOnly,
    /// Files anywhere in the repository.
    #[serde(rename = "LoadRestrictionsNone")]
    None,
}

impl LoadRestrictor {
    /// Parses the flag value kubectl takes.
    pub(super) fn parse(text: &str) -> Result<Self> {
        match text {
            "LoadRestrictionsRootOnly" => Ok(Self::RootOnly),
            "LoadRestrictionsNone" => Ok(Self::None),
            other => bail!(
                "unknown load restrictor `{other}`; use LoadRestrictionsRootOnly or LoadRestrictionsNone"
            ),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct StepSpec {
    /// Defaults to the module's name.
    pub name: Option<String>,
    /// `builtin:NAME`, or a path to a `.wasm` component relative to the app directory.
    pub module: String,
    /// Hex sha256 the module's bytes must have.
    pub sha256: Option<String>,
    /// The module's config, handed to it as JSON.
    #[serde(default)]
    pub with: Option<Value>,
    /// Which objects the module sees; all of them if absent.
    #[serde(default, rename = "match")]
    pub selector: MatchSpec,
    /// What the module may do beyond the guardrails; nothing if absent.
    #[serde(default)]
    pub allow: Allow,
}

/// Lifts the guardrails of a step, one at a time (docs/modules.md, "Guardrails"). Every
/// field is off by default: the app's owner grants each in the pipeline file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Allow {
    /// The module sees the Secrets its `match` selects (as naming `Secret` in
    /// `match.kinds` does); what the module itself declares never grants them.
    #[serde(default)]
    pub read_secrets: bool,
    /// The module may return more Secrets than it was given.
    #[serde(default)]
    pub new_secrets: bool,
    /// The module may return more cluster-scoped objects than it was given.
    #[serde(default)]
    pub cluster_scoped: bool,
    /// Namespaces besides the app's that the module may put objects into or move objects
    /// out of; `*` allows every namespace.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// The module may create or change RoleBindings and ClusterRoleBindings that bind a
    /// ClusterRole.
    #[serde(default)]
    pub cluster_role_bindings: bool,
}

impl Allow {
    /// Everything: for the steps the host runs itself on the app's own kustomization,
    /// whose content the app's owner wrote.
    pub(super) fn everything() -> Self {
        Self {
            read_secrets: true,
            new_secrets: true,
            cluster_scoped: true,
            namespaces: vec![ANY_NAMESPACE.into()],
            cluster_role_bindings: true,
        }
    }

    /// Whether objects may be put into or taken out of `namespace`.
    pub(super) fn namespace(&self, namespace: &str) -> bool {
        self.namespaces
            .iter()
            .any(|allowed| allowed == ANY_NAMESPACE || allowed == namespace)
    }
}

/// What `allow.namespaces` says to allow every namespace.
const ANY_NAMESPACE: &str = "*";

/// Limits the objects a step sees. Every given criterion must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MatchSpec {
    /// Object kinds, exactly (`Deployment`).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Regular expressions anchored at both ends, matched against `metadata.name`.
    #[serde(default)]
    pub names: Vec<String>,
    /// Labels the object must carry.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl PipelineFile {
    /// Reads `path` (which must resolve inside `root`), or returns `None` when there is
    /// nothing there.
    pub(super) fn read(root: &Path, path: &Path) -> Result<Option<Self>> {
        if path.symlink_metadata().is_err() {
            return Ok(None);
        }
        let text = crate::paths::read_inside(root, path)?;
        let file = Self::parse(&text, &path.display().to_string())?;
        Ok(Some(file))
    }

    /// Parses the file's text; `origin` names it in errors.
    pub(super) fn parse(text: &str, origin: &str) -> Result<Self> {
        let file: Self = crate::yaml::from_str(text, origin)?;
        if let Some(api_version) = &file.api_version
            && api_version != API_VERSION
        {
            bail!(
                "apiVersion is `{api_version}`; this version of the plugin reads `{API_VERSION}`"
            );
        }
        if let Some(kind) = &file.kind
            && kind != KIND
        {
            bail!("kind is `{kind}`, expected `{KIND}`");
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let file = PipelineFile::parse(
            "apiVersion: argocd-wasm-plugin/v1alpha1\nkind: Pipeline\nsource: overlays/stage\nsteps:\n  - name: tags\n    module: builtin:image-tags\n    with: {images: []}\n    match: {kinds: [Deployment], names: [magento-.*], labels: {color: green}}\n",
            "p.yaml",
        )
        .unwrap();
        assert_eq!(file.source.as_deref(), Some("overlays/stage"));
        assert!(!file.allow_empty);
        assert_eq!(file.steps[0].selector.kinds, ["Deployment"]);
        assert_eq!(file.steps[0].selector.labels["color"], "green");
        assert!(!file.steps[0].allow.read_secrets);
    }

    #[test]
    fn parses_allowances() {
        let file = PipelineFile::parse(
            "steps:\n  - module: builtin:x\n    allow: {readSecrets: true, namespaces: [monitoring]}\n",
            "p.yaml",
        )
        .unwrap();
        let allow = &file.steps[0].allow;
        assert!(allow.read_secrets && !allow.new_secrets);
        assert!(allow.namespace("monitoring") && !allow.namespace("kube-system"));
        assert!(Allow::everything().namespace("kube-system"));
        let typo = PipelineFile::parse(
            "steps:\n  - module: builtin:x\n    allow: {secrets: true}\n",
            "p.yaml",
        )
        .unwrap_err();
        assert!(
            format!("{typo:#}").contains("unknown field `secrets`"),
            "{typo:#}"
        );
    }

    #[test]
    fn rejects_unknown_fields_and_foreign_kinds() {
        let typo = PipelineFile::parse("steps:\n  - module: builtin:x\n    whith: {}\n", "p.yaml")
            .unwrap_err();
        assert!(
            format!("{typo:#}").contains("unknown field `whith`"),
            "{typo:#}"
        );
        assert!(PipelineFile::parse("kind: Kustomization\n", "p.yaml").is_err());
        assert!(PipelineFile::parse("apiVersion: v2\n", "p.yaml").is_err());
    }

    #[test]
    fn the_load_restrictor_takes_kubectl_names() {
        let file = PipelineFile::parse(
            "kustomize:\n  loadRestrictor: LoadRestrictionsNone\n",
            "p.yaml",
        )
        .unwrap();
        assert_eq!(file.kustomize.load_restrictor, Some(LoadRestrictor::None));
        assert!(PipelineFile::parse("kustomize: {loadRestrictor: none}\n", "p.yaml").is_err());
        assert_eq!(
            LoadRestrictor::parse("LoadRestrictionsRootOnly").unwrap(),
            LoadRestrictor::RootOnly
        );
        assert!(LoadRestrictor::parse("x").is_err());
    }
}
