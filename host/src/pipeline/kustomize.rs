//! Kustomization trees, built like `kubectl kustomize`: the host LOADS the whole tree (every
//! kustomization, the files each names, every path checked) into a [`Tree`], and the built-in
//! `overlay` module builds it in one call. The host never interprets a kustomization beyond
//! finding the files it names; the module never touches a file or parses YAML.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use kustomization::{Documents, FileData, GeneratorArgs, Kustomization, Resource, Tree};
use serde_json::Value;

use super::file::{Allow, LoadRestrictor, StepSpec};
use super::{RenderError, Step};
use crate::invocation::Invocation;
use crate::paths::resolve_inside;
use crate::runtime::Runtime;

/// A level's loaded files, keyed as its kustomization writes them.
type Files = std::collections::BTreeMap<String, FileData>;

/// The file names kustomize accepts.
const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The sidecar's environment variable that sets the load restrictor when the pipeline file
/// does not (as Argo CD's `kustomize.buildOptions: --load-restrictor LoadRestrictionsNone`).
pub(super) const LOAD_RESTRICTOR_ENV: &str = "ARGOCD_WASM_PLUGIN_KUSTOMIZE_LOAD_RESTRICTOR";

/// The kustomization file in `dir`, if it has one; two of them is kustomize's error.
pub(super) fn kustomization_file(dir: &Path) -> Result<Option<PathBuf>> {
    let found: Vec<PathBuf> = KUSTOMIZATION_FILES
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.is_file())
        .collect();
    match &found[..] {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        _ => bail!(
            "found multiple kustomization files in {}: keep one of {}",
            dir.display(),
            KUSTOMIZATION_FILES.join(", ")
        ),
    }
}

/// The load restrictor: the pipeline file's, else the sidecar's environment variable, else
/// kubectl's default.
pub(super) fn load_restrictor(from_pipeline: Option<LoadRestrictor>) -> Result<LoadRestrictor> {
    if let Some(restrictor) = from_pipeline {
        return Ok(restrictor);
    }
    match std::env::var(LOAD_RESTRICTOR_ENV) {
        Ok(value) if !value.is_empty() => LoadRestrictor::parse(&value)
            .with_context(|| format!("environment variable {LOAD_RESTRICTOR_ENV}")),
        _ => Ok(LoadRestrictor::default()),
    }
}

/// Loads the kustomization tree rooted at `dir` and builds it with `builtin:overlay`.
pub(super) fn build(
    runtime: &Runtime,
    root: &Path,
    dir: &Path,
    invocation: &Invocation,
    restrictor: LoadRestrictor,
) -> Result<Vec<Value>, RenderError> {
    let tree = load(root, dir, restrictor).map_err(RenderError::Pipeline)?;
    let spec = StepSpec {
        name: Some(format!("kustomize {}", tree.file)),
        module: "builtin:overlay".into(),
        sha256: None,
        with: None,
        selector: Default::default(),
        // The app's owner wrote its kustomization: the guardrails are for modules.
        allow: Allow::everything(),
    };
    // The tree is the config, serialized once and dropped. There is no separate
    // `validate-config` call: the tree is the loader's own output, the module checks it again
    // when it builds, and it is megabytes of JSON for a large app.
    let config =
        serde_json::to_string(&tree).map_err(|error| RenderError::Pipeline(error.into()))?;
    drop(tree);
    if config.len() >= RELEASE_FREED_MEMORY_FROM {
        release_freed_memory();
    }
    let step = Step::load(runtime, root, root, 0, &spec, config)?;
    step.run(runtime, invocation, Vec::new())
        .map_err(|error| step.failed(error))
}

/// The size of a tree's JSON from which its parsed form, once dropped, is handed back to the
/// operating system before the build. Below it there is little to gain, and the daemon's
/// next render would only fault the pages in again.
const RELEASE_FREED_MEMORY_FROM: usize = 1 << 20;

/// Hands freed heap pages back to the operating system. A large tree's parsed objects are
/// tens of megabytes of small allocations; glibc keeps freed ones resident, so without this
/// the module's memory would come on top of them and double the render's peak RSS.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's arenas to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Reads the tree rooted at `dir`: every kustomization, and every file each one names.
pub(super) fn load(root: &Path, dir: &Path, restrictor: LoadRestrictor) -> Result<Tree> {
    Loader {
        root,
        restrictor,
        visiting: Vec::new(),
    }
    .tree(dir)
}

struct Loader<'a> {
    root: &'a Path,
    restrictor: LoadRestrictor,
    /// The kustomization directories being loaded, outermost first.
    visiting: Vec<PathBuf>,
}

impl Loader<'_> {
    /// One kustomization directory and everything below it.
    fn tree(&mut self, dir: &Path) -> Result<Tree> {
        self.check_cycle(dir)?;
        let file = kustomization_file(dir)?.with_context(|| {
            format!(
                "{} has none of {}",
                self.display(dir),
                KUSTOMIZATION_FILES.join(", ")
            )
        })?;
        let shown = self.display(&file);
        crate::paths::inside(self.root, &file)?;
        let kustomization = read_kustomization(&file).with_context(|| shown.clone())?;
        refuse_out_of_scope(&kustomization).with_context(|| shown.clone())?;
        self.visiting.push(dir.to_path_buf());
        let tree = self
            .contents(dir, shown.clone(), kustomization)
            .with_context(|| shown.clone());
        self.visiting.pop();
        tree
    }

    /// kustomize refuses a directory that is, or contains, one being loaded.
    fn check_cycle(&self, dir: &Path) -> Result<()> {
        if self
            .visiting
            .iter()
            .any(|visiting| visiting.starts_with(dir))
        {
            let chain: Vec<String> = self
                .visiting
                .iter()
                .map(|d| self.display(d))
                .chain([self.display(dir)])
                .collect();
            bail!(
                "cycle detected: {} contains a kustomization being built ({})",
                self.display(dir),
                chain.join(" -> ")
            );
        }
        Ok(())
    }

    fn contents(&mut self, dir: &Path, file: String, kustomization: Kustomization) -> Result<Tree> {
        let mut tree = Tree {
            file,
            ..Tree::default()
        };
        let k = &kustomization;
        for (field, entries) in [("resources", &k.resources), ("bases", &k.bases)] {
            for (index, entry) in entries.iter().enumerate() {
                let resource = self
                    .resource(dir, entry)
                    .with_context(|| format!("{field}[{index}] `{entry}`"))?;
                tree.resources.push(resource);
            }
        }
        for (index, entry) in k.components.iter().enumerate() {
            let component = self
                .component(dir, entry)
                .with_context(|| format!("components[{index}] `{entry}`"))?;
            tree.components.push(component);
        }
        tree.generators = self.plugins(dir, "generators", &k.generators, &mut tree.files)?;
        tree.transformers = self.plugins(dir, "transformers", &k.transformers, &mut tree.files)?;
        tree.validators = self.plugins(dir, "validators", &k.validators, &mut tree.files)?;
        self.named_files(dir, k, &mut tree.files)?;
        tree.kustomization = kustomization;
        Ok(tree)
    }

    /// A `resources:` entry: a manifest file, or a directory with a kustomization.
    fn resource(&mut self, dir: &Path, entry: &str) -> Result<Resource> {
        refuse_remote(dir, entry, "resources")?;
        let path = resolve_inside(self.root, dir, entry)?;
        if path.is_dir() {
            return Ok(Resource::Tree(Box::new(self.tree(&path)?)));
        }
        let text = utf8(self.read_resolved(dir, entry, &path)?, entry)?;
        Ok(Resource::Objects {
            path: entry.to_owned(),
            objects: Documents::Json(crate::yaml::documents_json(&text, &self.display(&path))?),
        })
    }

    fn component(&mut self, dir: &Path, entry: &str) -> Result<Tree> {
        refuse_remote(dir, entry, "components")?;
        let path = resolve_inside(self.root, dir, entry)?;
        if !path.is_dir() {
            bail!("a component must be a directory with a kustomization.yaml of kind Component");
        }
        self.tree(&path)
    }

    /// `generators:`, `transformers:` or `validators:` entries: inline YAML, a file, or a
    /// kustomization directory, each holding builtin plugin configs. Files those configs
    /// name are loaded into this level's files, as kustomize reads them from this level.
    fn plugins(
        &mut self,
        dir: &Path,
        field: &str,
        entries: &[String],
        files: &mut Files,
    ) -> Result<Vec<Resource>> {
        let mut loaded = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let at = format!("{field}[{index}]");
            let resource = match inline_documents(entry) {
                Some(documents) => Resource::Inline(documents),
                None => self
                    .resource(dir, entry)
                    .with_context(|| format!("{at} `{entry}`"))?,
            };
            for config in &plugin_configs(&resource).with_context(|| at.clone())? {
                check_builtin_plugin(config).with_context(|| at.clone())?;
                self.plugin_files(dir, config, files)
                    .with_context(|| at.clone())?;
            }
            loaded.push(resource);
        }
        Ok(loaded)
    }

    /// The files a builtin plugin config names, relative to the kustomization listing it.
    fn plugin_files(&self, dir: &Path, config: &Value, files: &mut Files) -> Result<()> {
        let text = |key: &str| config.get(key).and_then(Value::as_str);
        match config
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "ConfigMapGenerator" | "SecretGenerator" => {
                let args: GeneratorArgs = plugin_generator_args(config)?;
                self.generator_files(dir, &args, files)?;
            }
            "PatchTransformer" | "PatchJson6902Transformer" => {
                if let Some(path) = text("path") {
                    self.load_documents(dir, path, files)?;
                }
                for inline in [text("patch"), text("jsonOp")].into_iter().flatten() {
                    files.insert(
                        inline.to_owned(),
                        FileData::Documents(parse_yaml(inline, "inline YAML")?),
                    );
                }
            }
            "PatchStrategicMergeTransformer" => {
                for entry in string_items(config.get("paths")) {
                    self.strategic_merge_entry(dir, entry, files)?;
                }
                if let Some(inline) = text("patches") {
                    files.insert(
                        inline.to_owned(),
                        FileData::Documents(parse_yaml(inline, "inline YAML")?),
                    );
                }
            }
            "ReplacementTransformer" => {
                for path in replacement_paths(config.get("replacements")) {
                    self.load_documents(dir, path, files)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Every file the kustomization's own fields name.
    fn named_files(&self, dir: &Path, k: &Kustomization, files: &mut Files) -> Result<()> {
        for (index, patch) in k.patches.iter().enumerate() {
            self.patch_source(dir, patch.path.as_deref(), patch.patch.as_deref(), files)
                .with_context(|| format!("patches[{index}]"))?;
        }
        for (index, patch) in k.patches_json6902.iter().enumerate() {
            self.patch_source(dir, patch.path.as_deref(), patch.patch.as_deref(), files)
                .with_context(|| format!("patchesJson6902[{index}]"))?;
        }
        for (index, entry) in k.patches_strategic_merge.iter().enumerate() {
            self.strategic_merge_entry(dir, entry, files)
                .with_context(|| format!("patchesStrategicMerge[{index}]"))?;
        }
        for (field, generators) in [
            ("configMapGenerator", &k.config_map_generator),
            ("secretGenerator", &k.secret_generator),
        ] {
            for (index, args) in generators.iter().enumerate() {
                self.generator_files(dir, args, files)
                    .with_context(|| format!("{field}[{index}]"))?;
            }
        }
        for (field, paths) in [("configurations", &k.configurations), ("crds", &k.crds)] {
            for (index, path) in paths.iter().enumerate() {
                self.load_documents(dir, path, files)
                    .with_context(|| format!("{field}[{index}]"))?;
            }
        }
        if let Some(path) = k.openapi.get("path") {
            self.load_documents(dir, path, files)
                .context("openapi.path")?;
        }
        for (index, entry) in k.replacements.iter().enumerate() {
            if let Some(path) = &entry.path {
                self.load_documents(dir, path, files)
                    .with_context(|| format!("replacements[{index}]"))?;
            }
        }
        Ok(())
    }

    /// A patch's `path:` file or its inline `patch:` text.
    fn patch_source(
        &self,
        dir: &Path,
        path: Option<&str>,
        inline: Option<&str>,
        files: &mut Files,
    ) -> Result<()> {
        match (path, inline) {
            (Some(path), None) => self.load_documents(dir, path, files),
            (None, Some(inline)) => {
                let documents = parse_yaml(inline, "the inline patch")?;
                files.insert(inline.to_owned(), FileData::Documents(documents));
                Ok(())
            }
            _ => bail!("needs exactly one of `path` or `patch`"),
        }
    }

    /// A `patchesStrategicMerge` entry is a file when kustomize can load it, else inline YAML.
    fn strategic_merge_entry(&self, dir: &Path, entry: &str, files: &mut Files) -> Result<()> {
        let documents = match self.read_text(dir, entry) {
            Ok(text) => parse_yaml(&text, entry)?,
            Err(not_a_file) => parse_yaml(entry, "inline patch")
                .ok()
                .filter(|documents| documents.iter().all(Value::is_object))
                .filter(|documents| !documents.is_empty())
                .ok_or(not_a_file)?,
        };
        files.insert(entry.to_owned(), FileData::Documents(documents));
        Ok(())
    }

    /// A generator's `files:` (`[key=]path`), `envs:` and `env:`.
    fn generator_files(&self, dir: &Path, args: &GeneratorArgs, files: &mut Files) -> Result<()> {
        let sources = args
            .files
            .iter()
            .map(|source| {
                source
                    .split_once('=')
                    .map_or(source.as_str(), |(_, path)| path)
            })
            .chain(args.envs.iter().map(String::as_str))
            .chain(args.env.as_deref());
        for path in sources {
            let data = FileData::from_bytes(self.read(dir, path)?);
            files.insert(path.to_owned(), data);
        }
        Ok(())
    }

    fn load_documents(&self, dir: &Path, path: &str, files: &mut Files) -> Result<()> {
        let text = self.read_text(dir, path)?;
        let documents = parse_yaml(&text, path)?;
        files.insert(path.to_owned(), FileData::Documents(documents));
        Ok(())
    }

    fn read_text(&self, dir: &Path, relative: &str) -> Result<String> {
        utf8(self.read(dir, relative)?, relative)
    }

    /// Reads a file a kustomization names: inside the repository always, and inside the
    /// kustomization's directory unless the load restrictor is `LoadRestrictionsNone`.
    fn read(&self, dir: &Path, relative: &str) -> Result<Vec<u8>> {
        refuse_remote(dir, relative, "file")?;
        let path = resolve_inside(self.root, dir, relative)?;
        if path.is_dir() {
            bail!("`{relative}` is a directory; a file is needed here");
        }
        self.read_resolved(dir, relative, &path)
    }

    /// [`Self::read`] of `relative`, already resolved to `path`, a file inside the
    /// repository.
    fn read_resolved(&self, dir: &Path, relative: &str, path: &Path) -> Result<Vec<u8>> {
        if self.restrictor == LoadRestrictor::RootOnly && !path.starts_with(dir) {
            bail!(
                "security: file `{relative}` is not in or below {} (kubectl kustomize's default \
                 load restrictor LoadRestrictionsRootOnly). Move the file below the \
                 kustomization, or opt in with `kustomize: {{loadRestrictor: LoadRestrictionsNone}}` \
                 in wasm-pipeline.yaml or {LOAD_RESTRICTOR_ENV}=LoadRestrictionsNone on the sidecar",
                self.display(dir)
            );
        }
        crate::paths::read_resolved(path, path)
    }

    /// A path as messages show it: relative to the repository.
    fn display(&self, path: &Path) -> String {
        path.strip_prefix(self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

fn utf8(bytes: Vec<u8>, relative: &str) -> Result<String> {
    String::from_utf8(bytes).with_context(|| format!("`{relative}` is not UTF-8 text"))
}

/// Reads a kustomization file; any field kustomize v5.5 does not know is an error naming it.
fn read_kustomization(path: &Path) -> Result<Kustomization> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value = match &parse_yaml(&text, &path.display().to_string())?[..] {
        [] => bail!("kustomization is empty"),
        [value] => value.clone(),
        _ => bail!("a kustomization file holds one YAML document"),
    };
    let Some(fields) = value.as_object() else {
        bail!("a kustomization must be a mapping");
    };
    // kustomize's CheckEmpty: nothing but apiVersion and kind (a null field is absent,
    // `resources: []` is not).
    let is_content =
        |(key, value): (&String, &Value)| key != "apiVersion" && key != "kind" && !value.is_null();
    if !fields.iter().any(is_content) {
        bail!("kustomization is empty");
    }
    let kustomization: Kustomization =
        serde_json::from_value(value).context("invalid Kustomization")?;
    check_type(&kustomization)?;
    Ok(kustomization)
}

/// kustomize's `EnforceFields`.
fn check_type(k: &Kustomization) -> Result<()> {
    let (kind, required_version) = match k.kind.as_deref() {
        None | Some("Kustomization") => ("Kustomization", "kustomize.config.k8s.io/v1beta1"),
        Some("Component") => ("Component", "kustomize.config.k8s.io/v1alpha1"),
        Some(other) => bail!("kind is `{other}`; kind should be Kustomization or Component"),
    };
    if let Some(api_version) = k.api_version.as_deref()
        && api_version != required_version
    {
        bail!("apiVersion for {kind} should be {required_version}, not `{api_version}`");
    }
    Ok(())
}

/// What needs a network or a program outside the sandbox is refused up front.
fn refuse_out_of_scope(k: &Kustomization) -> Result<()> {
    let helm = [
        ("helmCharts", k.helm_charts.is_some()),
        ("helmGlobals", k.helm_globals.is_some()),
        (
            "helmChartInflationGenerator",
            k.helm_chart_inflation_generator.is_some(),
        ),
    ];
    if let Some((field, _)) = helm.into_iter().find(|(_, present)| *present) {
        bail!(
            "`{field}` is not supported: argocd-wasm-plugin does not run Helm. Render the chart \
             with `helm template` into the repository and list the output under `resources:`, \
             or use a separate Argo CD Helm source"
        );
    }
    Ok(())
}

/// Remote bases and files are refused: a render reads only the repository.
fn refuse_remote(dir: &Path, entry: &str, what: &str) -> Result<()> {
    let looks_remote = entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/");
    if looks_remote && !dir.join(entry).exists() {
        bail!(
            "remote {what} `{entry}` is not supported: argocd-wasm-plugin reads only the \
             repository. Vendor it into the repository (e.g. `git subtree` or a copy) and list \
             its local path"
        );
    }
    Ok(())
}

/// kustomize reads a `generators:`/`transformers:` entry as inline YAML when it parses as
/// objects, else as a path.
fn inline_documents(entry: &str) -> Option<Vec<Value>> {
    let documents = parse_yaml(entry, "inline YAML").ok()?;
    let objects = !documents.is_empty() && documents.iter().all(Value::is_object);
    objects.then_some(documents)
}

/// The plugin configs an entry holds (a kustomization directory's own resources only).
fn plugin_configs(resource: &Resource) -> Result<Vec<Value>> {
    match resource {
        Resource::Objects { objects, .. } => objects.to_values().map_err(anyhow::Error::msg),
        Resource::Inline(documents) => Ok(documents.clone()),
        Resource::Tree(tree) => {
            let configs = tree.resources.iter().map(plugin_configs);
            Ok(configs.collect::<Result<Vec<_>>>()?.concat())
        }
    }
}

/// The builtin plugins kustomize v5.5 links in, minus those needing the network or Helm.
const BUILTIN_PLUGINS: &[&str] = &[
    "AnnotationsTransformer",
    "ConfigMapGenerator",
    "HashTransformer",
    "ImageTagTransformer",
    "LabelTransformer",
    "NamespaceTransformer",
    "PatchJson6902Transformer",
    "PatchStrategicMergeTransformer",
    "PatchTransformer",
    "PrefixSuffixTransformer",
    "PrefixTransformer",
    "SuffixTransformer",
    "ReplicaCountTransformer",
    "ReplacementTransformer",
    "SecretGenerator",
    "SortOrderTransformer",
    "ValueAddTransformer",
];

/// Exec, container (KRM function) and Go plugins would run programs outside the sandbox.
fn check_builtin_plugin(config: &Value) -> Result<()> {
    let text = |pointer: &str| {
        config
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (api_version, kind, name) = (text("/apiVersion"), text("/kind"), text("/metadata/name"));
    let plugin = format!("{kind} `{name}` ({api_version})");
    if api_version != "builtin" {
        let how = if config
            .pointer("/metadata/annotations/config.kubernetes.io~1function")
            .is_some()
        {
            "a KRM function (container or exec)"
        } else {
            "an exec or Go plugin"
        };
        bail!(
            "plugin {plugin} is {how}: argocd-wasm-plugin runs only kustomize's builtin plugins \
             (apiVersion: builtin), because an external program would break the sandbox. \
             Write the transform as a wasm module step in wasm-pipeline.yaml instead"
        );
    }
    if kind == "HelmChartInflationGenerator" {
        bail!(
            "plugin {plugin} needs Helm, which argocd-wasm-plugin does not run: render the chart \
             with `helm template` into the repository"
        );
    }
    if !BUILTIN_PLUGINS.contains(&kind) {
        bail!(
            "plugin {plugin}: `{kind}` is not one of kustomize's builtin plugins ({})",
            BUILTIN_PLUGINS.join(", ")
        );
    }
    Ok(())
}

/// A builtin generator config as generator arguments (for the files it names).
fn plugin_generator_args(config: &Value) -> Result<GeneratorArgs> {
    let list =
        |key: &str| -> Vec<String> { string_items(config.get(key)).map(str::to_owned).collect() };
    Ok(GeneratorArgs {
        files: list("files"),
        envs: list("envs"),
        env: config.get("env").and_then(Value::as_str).map(str::to_owned),
        ..GeneratorArgs::default()
    })
}

fn string_items(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The `path:` entries of a ReplacementTransformer's `replacements:`.
fn replacement_paths(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get("path").and_then(Value::as_str))
}

/// Every document of `text`, typed as kubectl types it; errors name `origin` and the line.
/// The manifest files of `resources:` are read with [`crate::yaml::documents_json`]
/// instead: a daemon parses each text once for all its renders.
fn parse_yaml(text: &str, origin: &str) -> Result<Vec<Value>> {
    crate::yaml::parse_documents(text, origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    fn repo(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), files);
        let root = dir.path().canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn loads_resources_components_and_named_files() {
        let (_dir, root) = repo(&[
            (
                "app/kustomization.yaml",
                "resources: [cm.yaml, ../base]\ncomponents: [../comp]\n\
                 patches: [{path: p.yaml}, {patch: 'kind: X'}]\n\
                 configMapGenerator: [{name: c, files: [k=data.bin], envs: [a.env]}]\n\
                 transformers:\n- |\n  apiVersion: builtin\n  kind: PrefixSuffixTransformer\n- t.yaml\n",
            ),
            ("app/cm.yaml", "kind: ConfigMap\n---\n"),
            ("app/p.yaml", "kind: Deployment\n"),
            ("app/a.env", "A=1\n"),
            ("app/data.bin", "replaced below by bytes that are not UTF-8"),
            (
                "app/t.yaml",
                "apiVersion: builtin\nkind: PatchTransformer\npath: p.yaml\n",
            ),
            ("base/kustomization.yml", "resources: []\n"),
            (
                "comp/kustomization.yaml",
                "kind: Component\nresources: []\n",
            ),
        ]);
        std::fs::write(root.join("app/data.bin"), [0xff, 0xfe]).unwrap();
        let tree = load(&root, &root.join("app"), LoadRestrictor::RootOnly).unwrap();
        assert_eq!(tree.file, "app/kustomization.yaml");
        assert!(
            matches!(&tree.resources[0], Resource::Objects { objects, .. } if objects.to_values().unwrap().len() == 1)
        );
        assert!(
            matches!(&tree.resources[1], Resource::Tree(base) if base.file == "base/kustomization.yml")
        );
        assert!(tree.components[0].kustomization.is_component());
        assert_eq!(
            tree.documents("p.yaml").unwrap()[0],
            json!({"kind": "Deployment"})
        );
        assert_eq!(tree.documents("kind: X").unwrap()[0], json!({"kind": "X"}));
        assert_eq!(tree.file("a.env"), Some(&FileData::Text("A=1\n".into())));
        assert!(matches!(tree.file("data.bin"), Some(FileData::Base64(_))));
        assert!(matches!(&tree.transformers[0], Resource::Inline(docs) if docs.len() == 1));
        assert!(
            matches!(&tree.transformers[1], Resource::Objects { path, .. } if path == "t.yaml")
        );
    }

    #[test]
    fn the_default_restrictor_keeps_files_below_the_kustomization() {
        let (_dir, root) = repo(&[
            ("app/kustomization.yaml", "resources: [../shared/cm.yaml]\n"),
            ("shared/cm.yaml", "kind: ConfigMap\n"),
        ]);
        let app = root.join("app");
        let error = format!(
            "{:#}",
            load(&root, &app, LoadRestrictor::RootOnly).unwrap_err()
        );
        assert!(
            error.contains("resources[0] `../shared/cm.yaml`"),
            "{error}"
        );
        assert!(error.contains("not in or below app"), "{error}");
        assert!(load(&root, &app, LoadRestrictor::None).is_ok());
    }

    #[test]
    fn paths_never_leave_the_repository() {
        let (_dir, root) = repo(&[("app/kustomization.yaml", "resources: [../../x.yaml]\n")]);
        let error = format!(
            "{:#}",
            load(&root, &root.join("app"), LoadRestrictor::None).unwrap_err()
        );
        assert!(error.contains("resources[0]"), "{error}");
    }

    #[test]
    fn kustomize_errors_are_kept() {
        let (_dir, root) = repo(&[
            ("two/kustomization.yaml", "resources: []\n"),
            ("two/kustomization.yml", "resources: []\n"),
            ("loop/kustomization.yaml", "resources: [sub]\n"),
            ("loop/sub/kustomization.yaml", "resources: [..]\n"),
            ("helm/kustomization.yaml", "helmCharts: [{name: x}]\n"),
            ("exec/kustomization.yaml", "transformers: [t.yaml]\n"),
            (
                "exec/t.yaml",
                "apiVersion: example.com/v1\nkind: Sed\nmetadata: {name: s}\n",
            ),
            ("typo/kustomization.yaml", "resource: []\n"),
            ("empty/kustomization.yaml", "kind: Kustomization\n"),
            (
                "kind/kustomization.yaml",
                "kind: Deployment\nresources: []\n",
            ),
        ]);
        let error = |dir: &str| {
            format!(
                "{:#}",
                load(&root, &root.join(dir), LoadRestrictor::RootOnly).unwrap_err()
            )
        };
        assert!(error("two").contains("multiple kustomization files"));
        assert!(error("loop").contains("cycle detected"));
        assert!(error("helm").contains("`helmCharts` is not supported"));
        let exec = error("exec");
        assert!(
            exec.contains("transformers[0]") && exec.contains("Sed `s`"),
            "{exec}"
        );
        assert!(error("typo").contains("unknown field `resource`"));
        assert!(error("empty").contains("kustomization is empty"));
        assert!(error("kind").contains("kind should be Kustomization or Component"));
    }

    #[test]
    fn remote_bases_are_refused_with_advice() {
        let (_dir, root) = repo(&[(
            "app/kustomization.yaml",
            "resources: [github.com/example/repo//base?ref=v1]\n",
        )]);
        let error = format!(
            "{:#}",
            load(&root, &root.join("app"), LoadRestrictor::RootOnly).unwrap_err()
        );
        assert!(
            error.contains("app/kustomization.yaml: resources[0]"),
            "{error}"
        );
        assert!(error.contains("Vendor it"), "{error}");
    }
}
