//! Building a whole kustomization tree in one call, as kustomize v5.5's `KustTarget` does
//! (api/internal/target/kusttarget.go). Per kustomization, `accumulate_target`:
//! resources (each base built on its own accumulator, then merged) → `configurations` and
//! `crds` merged into the field specs → generators → components (each run on THIS
//! accumulator) → builtin transformers in kustomize's order → `transformers:` entries →
//! `validators:` → `vars` collected. Once, at the top: hash suffixes → name references →
//! vars resolved → local-config objects dropped → sort order → build metadata.

use argocd_wasm_sdk::{Diagnostic, Object};

use crate::Result;
use kustomization::{Resource as Entry, Tree, Var};
use serde_json::Value;
use std::rc::Rc;

use crate::config::{PatchBody, patch_bodies};
use crate::generators::{self, GeneratorKind};
use crate::openapi::{self, OpenApi};
use crate::patches::{self, Metadata};
use crate::resource::Origin;
use crate::resource::Resource;
use crate::selector::Selector;
use crate::tconfig::Config;
use crate::{hash, identity, labels, metadata, namerefs, plugins, replacements, sort, vars};

/// What one kustomization has built so far: kustomize's `ResAccumulator`.
#[derive(Debug, Default)]
pub struct Accumulator {
    pub resources: Vec<Resource>,
    /// The field specs: kustomize's defaults merged with every `configurations` and `crds`
    /// accumulated so far.
    pub config: Config,
    /// The `vars` declared so far.
    pub vars: Vec<Var>,
    /// The schema of strategic-merge patches: one for the whole build, as in kustomize.
    pub openapi: Rc<OpenApi>,
}

/// The hashes of the accumulated objects' current ids, to refuse a duplicate in one
/// look-up without copying every object's names. Only an equal hash is compared in full.
type KnownIds = std::collections::HashSet<u64>;

impl Accumulator {
    /// An empty accumulator for a base (or a plugin directory) of this build.
    pub fn for_base(&self) -> Self {
        Self {
            openapi: Rc::clone(&self.openapi),
            ..Self::default()
        }
    }

    fn known_ids(&self) -> KnownIds {
        self.resources.iter().map(id_hash).collect()
    }

    /// kustomize's `AppendAll`: an object whose current id is already accumulated is an
    /// error (the same file listed twice, or two bases producing one object). `known` holds
    /// the accumulated ids, so a level's many files build the index once; nothing may rename
    /// the accumulated objects in between.
    fn append_checked(
        &mut self,
        known: &mut KnownIds,
        incoming: Vec<Resource>,
        at: &str,
    ) -> Result<()> {
        for resource in incoming {
            let duplicate = !known.insert(id_hash(&resource))
                && self
                    .resources
                    .iter()
                    .any(|known| known.current_key() == resource.current_key());
            if duplicate {
                let id = resource.current();
                return Err(Diagnostic::error(format!(
                    "may not add {} `{}` (namespace `{}`) twice: an object with that id is \
                     already in the build (kustomize refuses duplicate ids)",
                    id.kind, id.name, id.namespace
                ))
                .on(&resource.object)
                .at(at));
            }
            self.resources.push(resource);
        }
        Ok(())
    }

    /// kustomize's `MergeAccumulator`: a base's objects, field specs and vars.
    fn merge(&mut self, known: &mut KnownIds, base: Accumulator, at: &str) -> Result<()> {
        self.append_checked(known, base.resources, at)?;
        self.config
            .merge(base.config)
            .map_err(|problem| problem.at(at))?;
        vars::merge(&mut self.vars, base.vars, at)
    }
}

fn id_hash(resource: &Resource) -> u64 {
    use std::hash::BuildHasher;
    // One fixed-key hasher for every hash a set holds; the keys need no secret, as an equal
    // hash is only a reason to compare in full.
    std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default()
        .hash_one(resource.current_key())
}

/// Builds the tree: every object of the top kustomization, in kustomize's output order.
/// The objects of the tree's resource files are moved out of it, not copied.
pub fn build(tree: &mut Tree) -> Result<Vec<Object>> {
    let mut accumulator = Accumulator {
        openapi: Rc::new(openapi::choose(tree)?),
        ..Accumulator::default()
    };
    accumulate_target(tree, &mut accumulator)?;
    finish(tree, accumulator)
}

/// `MakeCustomizedResMap` after accumulation, and kustomize build's last steps.
fn finish(tree: &Tree, accumulator: Accumulator) -> Result<Vec<Object>> {
    let Accumulator {
        mut resources,
        config,
        vars: declared,
        ..
    } = accumulator;
    hash::add_hashes(&mut resources)?;
    namerefs::fix(&mut resources, &config)?;
    vars::resolve(&mut resources, &declared, &config)?;
    drop_local_config(&mut resources);
    resources.iter_mut().for_each(drop_empty_annotations);
    sort::apply(tree, &mut resources)?;
    metadata::apply(tree, &mut resources)?;
    Ok(resources.into_iter().map(Resource::into_object).collect())
}

/// `config.kubernetes.io/local-config` objects are inputs to the build, never its output.
fn drop_local_config(resources: &mut Vec<Resource>) {
    resources.retain(|resource| {
        resource
            .object
            .annotation("config.kubernetes.io/local-config")
            .is_none_or(|value| value == "false")
    });
}

/// kustomize rewrites every object's annotations when it removes its build annotations, so
/// `metadata.annotations` that is null or empty leaves the output; every other empty or
/// null field stays as written.
fn drop_empty_annotations(resource: &mut Resource) {
    let Some(Value::Object(metadata)) = resource.object.as_map_mut().get_mut("metadata") else {
        return;
    };
    let empty = match metadata.get("annotations") {
        Some(Value::Null) => true,
        Some(Value::Object(annotations)) => annotations.is_empty(),
        _ => false,
    };
    if empty {
        metadata.remove("annotations");
    }
}

/// One kustomization (or component, on its parent's accumulator).
pub fn accumulate_target(tree: &mut Tree, accumulator: &mut Accumulator) -> Result<()> {
    accumulate_resources(tree, accumulator)?;
    merge_configurations(tree, accumulator)?;
    run_generators(tree, accumulator)?;
    for index in 0..tree.components.len() {
        let at = at(tree, &format!("components[{index}]"));
        let component = &mut tree.components[index];
        check_kind(component, true, &at)?;
        accumulate_target(component, accumulator)?;
    }
    run_builtin_transformers(tree, accumulator)?;
    plugins::run_transformers(tree, accumulator)?;
    plugins::run_validators(tree, accumulator)?;
    vars::declare(&mut accumulator.resources, &mut accumulator.vars, tree)
}

/// Where in the tree a problem is: the kustomization file and the field.
pub fn at(tree: &Tree, field: &str) -> String {
    format!("{}: {field}", tree.file)
}

/// `components:` must be `kind: Component`; `resources:` must not be.
fn check_kind(tree: &Tree, component: bool, at: &str) -> Result<()> {
    let problem = match (component, tree.kustomization.is_component()) {
        (true, false) => "a component must have `kind: Component`",
        (false, true) => "a `kind: Component` can only be listed under `components:`",
        _ => return Ok(()),
    };
    Err(Diagnostic::error(format!("{problem} ({})", tree.file)).at(at))
}

/// `resources:` in order: a file's objects, or a base built on its own accumulator.
fn accumulate_resources(tree: &mut Tree, accumulator: &mut Accumulator) -> Result<()> {
    let mut known = accumulator.known_ids();
    let dir = tree.dir().to_owned();
    for index in 0..tree.resources.len() {
        let at = at(tree, &format!("resources[{index}]"));
        match &mut tree.resources[index] {
            Entry::Objects { path, objects } => {
                let mut loaded = std::mem::take(objects)
                    .into_values()
                    .and_then(objects_of)
                    .map_err(|problem| Diagnostic::error(format!("{path}: {problem}")).at(&at))?;
                let origin = Origin::File(metadata::join(&dir, path));
                for resource in &mut loaded {
                    resource.origin = Some(origin.clone());
                }
                accumulator.append_checked(&mut known, loaded, &at)?;
            }
            Entry::Tree(base) => {
                check_kind(base, false, &at)?;
                let mut built = accumulator.for_base();
                accumulate_target(base, &mut built)?;
                accumulator.merge(&mut known, built, &at)?;
            }
            Entry::Inline(_) => {
                return Err(Diagnostic::error("inline YAML is not a resource").at(at));
            }
        }
    }
    Ok(())
}

/// A file's documents as objects: `*List` kinds expanded (their items after the file's
/// other documents, as kustomize queues them), empty documents dropped, every object with
/// a kind and a name.
pub fn objects_of(documents: Vec<Value>) -> std::result::Result<Vec<Resource>, String> {
    let mut queue: std::collections::VecDeque<Value> = documents.into();
    let mut objects = Vec::new();
    while let Some(document) = queue.pop_front() {
        let Value::Object(mut map) = document else {
            return Err("a document is not a mapping".into());
        };
        if map.is_empty() {
            continue;
        }
        let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind.ends_with("List") && map.contains_key("items") {
            let kind = kind.to_owned();
            match map.remove("items") {
                Some(Value::Array(items)) => queue.extend(items),
                Some(Value::Null) => {}
                _ => return Err(format!("expected a list in {kind}/items")),
            }
            continue;
        }
        let object =
            Object::from_value(Value::Object(map)).map_err(|error| error.message().to_owned())?;
        if object.kind().is_empty() {
            return Err("an object has no `kind`".into());
        }
        if object.name().is_empty() {
            return Err(format!("a {} has no `metadata.name`", object.kind()));
        }
        objects.push(Resource::new(object));
    }
    Ok(objects)
}

/// `configurations` and `crds` add field specs for this kustomization and those above it.
fn merge_configurations(tree: &Tree, accumulator: &mut Accumulator) -> Result<()> {
    let k = &tree.kustomization;
    let sources = k
        .configurations
        .iter()
        .map(|path| ("configurations", path, false))
        .chain(k.crds.iter().map(|path| ("crds", path, true)));
    for (field, path, is_crd) in sources {
        let at = at(tree, &format!("{field} `{path}`"));
        let documents = tree
            .documents(path)
            .map_err(|problem| Diagnostic::error(problem).at(&at))?;
        let config = if is_crd {
            Config::from_crds(documents)
        } else {
            Config::from_documents(documents)
        };
        let merged = config.and_then(|config| accumulator.config.merge(config));
        merged.map_err(|problem| problem.at(&at))?;
    }
    Ok(())
}

/// `configMapGenerator`, then `secretGenerator`, then the `generators:` entries.
fn run_generators(tree: &Tree, accumulator: &mut Accumulator) -> Result<()> {
    let k = &tree.kustomization;
    let builtin = k
        .config_map_generator
        .iter()
        .map(|args| (GeneratorKind::ConfigMap, args))
        .chain(
            k.secret_generator
                .iter()
                .map(|args| (GeneratorKind::Secret, args)),
        );
    for (kind, args) in builtin {
        let mut generated = generators::generate(kind, args, k.generator_options.as_ref(), tree)?;
        generated.origin = Some(generated_by(tree, kind));
        let behavior = args.behavior.as_deref().unwrap_or("create");
        generators::absorb(&mut accumulator.resources, generated, behavior)?;
    }
    plugins::run_generators(tree, accumulator)
}

/// Where a generated object came from.
pub fn generated_by(tree: &Tree, kind: GeneratorKind) -> Origin {
    let kind = match kind {
        GeneratorKind::ConfigMap => "ConfigMapGenerator",
        GeneratorKind::Secret => "SecretGenerator",
    };
    Origin::Generated {
        kustomization: tree.file.clone(),
        kind: kind.to_owned(),
    }
}

/// kustomize's builtin transformers, configured from the kustomization's fields, in
/// kustomize's order (kusttarget_configplugin.go).
fn run_builtin_transformers(tree: &Tree, accumulator: &mut Accumulator) -> Result<()> {
    let k = &tree.kustomization;
    let Accumulator {
        resources,
        config,
        openapi,
        ..
    } = accumulator;
    for (index, entry) in k.patches_strategic_merge.iter().enumerate() {
        let at = at(tree, &format!("patchesStrategicMerge[{index}]"));
        for body in bodies(tree, Some(entry), &at)? {
            match body {
                PatchBody::Strategic(patch) => {
                    patches::by_identity(resources, &patch, Metadata::Stringified, openapi, &at)?
                }
                PatchBody::Json6902(_) => {
                    return Err(Diagnostic::error("not a strategic merge patch").at(at));
                }
            }
        }
    }
    for (index, patch) in k.patches.iter().enumerate() {
        let at = at(tree, &format!("patches[{index}]"));
        let options = patch.options.clone().unwrap_or_default();
        let selector = patch.target.as_ref().map(|t| compile(t, &at)).transpose()?;
        for body in bodies(tree, patch.source(), &at)? {
            apply_patch(resources, body, selector.as_ref(), &options, openapi, &at)?;
        }
    }
    if let Some(namespace) = k.namespace.as_deref() {
        let settings = identity::Namespace {
            namespace,
            specs: &config.namespace,
            unset_only: false,
            subjects: identity::Subjects::DefaultOnly,
        };
        identity::set_namespace(resources, &settings)
            .map_err(|problem| problem.at(at(tree, "namespace")))?;
    }
    let prefix = identity::Affix::Prefix(k.name_prefix.as_deref().unwrap_or_default());
    identity::add_affix(resources, prefix, &config.name_prefix);
    let suffix = identity::Affix::Suffix(k.name_suffix.as_deref().unwrap_or_default());
    identity::add_affix(resources, suffix, &config.name_suffix);
    labels::apply_labels(resources, &k.labels, &k.common_labels, config)
        .map_err(|problem| problem.at(at(tree, "labels")))?;
    labels::apply_annotations(resources, &k.common_annotations, config);
    for (index, patch) in k.patches_json6902.iter().enumerate() {
        let at = at(tree, &format!("patchesJson6902[{index}]"));
        let selector = compile(&patch.target, &at)?;
        for body in bodies(tree, patch.source(), &at)? {
            let PatchBody::Json6902(operations) = body else {
                return Err(Diagnostic::error("not a JSON 6902 patch").at(at));
            };
            patches::selected_json6902(resources, &operations, &selector, &at)?;
        }
    }
    for (index, replica) in k.replicas.iter().enumerate() {
        identity::set_replicas(resources, replica, &config.replicas)
            .map_err(|problem| problem.at(at(tree, &format!("replicas[{index}]"))))?;
    }
    apply_images(tree, resources)?;
    replacements::apply(resources, &k.replacements, tree)
}

/// One patch body of `patches:` (or a PatchTransformer): by the patch's own id without a
/// target, else on every selected object.
pub fn apply_patch(
    resources: &mut Vec<Resource>,
    body: PatchBody,
    selector: Option<&Selector>,
    options: &kustomization::PatchOptions,
    openapi: &OpenApi,
    at: &str,
) -> Result<()> {
    match (body, selector) {
        (PatchBody::Strategic(patch), None) => {
            patches::by_identity(resources, &patch, Metadata::AsWritten, openapi, at)
        }
        (PatchBody::Strategic(patch), Some(selector)) => {
            patches::selected_strategic_merge(resources, &patch, selector, options, openapi, at)
        }
        (PatchBody::Json6902(operations), Some(selector)) => {
            patches::selected_json6902(resources, &operations, selector, at)
        }
        (PatchBody::Json6902(_), None) => {
            Err(Diagnostic::error("a JSON 6902 patch needs a target").at(format!("{at}.target")))
        }
    }
}

/// The bodies of a patch, from the tree's files.
pub fn bodies(tree: &Tree, source: Option<&str>, at: &str) -> Result<Vec<PatchBody>> {
    patch_bodies(tree, source).map_err(|problem| Diagnostic::error(problem).at(at))
}

pub fn compile(target: &kustomization::Target, at: &str) -> Result<Selector> {
    Selector::compile(target)
        .map_err(|(part, problem)| Diagnostic::error(problem).at(format!("{at}.target.{part}")))
}

/// `images:` (and the deprecated `imageTags:`), each spec on every object in turn.
fn apply_images(tree: &Tree, resources: &mut [Resource]) -> Result<()> {
    let k = &tree.kustomization;
    let specs = k
        .images
        .iter()
        .chain(&k.image_tags)
        .enumerate()
        .map(|(index, value)| {
            let at = at(tree, &format!("images[{index}]"));
            let spec: kustomize_images::ImageSpec = serde_json::from_value(value.clone())
                .map_err(|e| Diagnostic::error(format!("not an image: {e}")).at(&at))?;
            spec.validate()
                .map_err(|problem| problem.first().clone().at(&at))?;
            Ok(spec)
        })
        .collect::<Result<Vec<_>>>()?;
    images_on(&specs, resources);
    Ok(())
}

/// Applies image specs to every object (kustomize's ImageTagTransformer).
pub fn images_on(specs: &[kustomize_images::ImageSpec], resources: &mut [Resource]) {
    if specs.is_empty() {
        return;
    }
    for resource in resources {
        kustomize_images::apply(specs, std::slice::from_mut(&mut resource.object));
    }
}
