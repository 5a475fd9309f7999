//! `generators:`, `transformers:` and `validators:` entries: configs of kustomize's builtin
//! plugins (`apiVersion: builtin`), run with the same code as the kustomization fields they
//! mirror. The host has refused exec, container and Go plugins before the build starts.
//!
//! As in kustomize (configureExternalTransformers), the inline entries come first, then the
//! files and kustomization directories in order; a config's field specs are its own, never
//! the kustomization's `configurations`.

use argocd_wasm_sdk::{Diagnostic, Object};

use crate::Result;
use kustomization::{
    GeneratorArgs, PatchOptions, ReplacementEntry, Resource as Entry, Target, Tree,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::build::{
    Accumulator, accumulate_target, apply_patch, at, bodies, compile, generated_by, images_on,
    objects_of,
};
use crate::config::{PatchBody, Replica, StringMap};
use crate::fieldspec::FieldSpec;
use crate::generators::{self, GeneratorKind};
use crate::identity::{self, Affix, Namespace, Subjects};
use crate::openapi::OpenApi;
use crate::patches::{self, Metadata};
use crate::resource::Resource;
use crate::{hash, labels, replacements};

/// Runs the `generators:` entries: each config generates one object, absorbed as its
/// `behavior` says.
pub fn run_generators(tree: &Tree, accumulator: &mut Accumulator) -> Result<()> {
    for (config, at) in configs(tree, &tree.generators, "generators", accumulator)? {
        let kind = match config.kind() {
            "ConfigMapGenerator" => GeneratorKind::ConfigMap,
            "SecretGenerator" => GeneratorKind::Secret,
            other => return Err(not_a("generator", other, &at)),
        };
        let args = generator_args(&config).map_err(|problem| invalid(&config, problem, &at))?;
        let mut generated = generators::generate(kind, &args, None, tree)?;
        generated.origin = Some(generated_by(tree, kind));
        let behavior = args.behavior.as_deref().unwrap_or("create");
        generators::absorb(&mut accumulator.resources, generated, behavior)?;
    }
    Ok(())
}

/// Runs the `transformers:` entries in order on everything accumulated.
pub fn run_transformers(tree: &Tree, accumulator: &mut Accumulator) -> Result<()> {
    for (config, at) in configs(tree, &tree.transformers, "transformers", accumulator)? {
        transform(
            tree,
            &mut accumulator.resources,
            &accumulator.openapi,
            &config,
            &at,
        )?;
    }
    Ok(())
}

/// Runs the `validators:` entries: a validator may look but not change anything.
pub fn run_validators(tree: &Tree, accumulator: &mut Accumulator) -> Result<()> {
    for (config, at) in configs(tree, &tree.validators, "validators", accumulator)? {
        let mut copy = accumulator.resources.clone();
        transform(tree, &mut copy, &accumulator.openapi, &config, &at)?;
        let unchanged = copy.len() == accumulator.resources.len()
            && copy
                .iter()
                .zip(&accumulator.resources)
                .all(|(after, before)| after.object == before.object);
        if !unchanged {
            return Err(Diagnostic::error(format!(
                "validator {} `{}` shouldn't modify the resource map",
                config.kind(),
                config.name()
            ))
            .at(at));
        }
    }
    Ok(())
}

/// The plugin configs of a field's entries, in kustomize's order, each with where it came
/// from; a directory entry is built like a base of `parent`.
fn configs(
    tree: &Tree,
    entries: &[Entry],
    field: &str,
    parent: &Accumulator,
) -> Result<Vec<(Object, String)>> {
    let mut inline = Vec::new();
    let mut loaded = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let at = at(tree, &format!("{field}[{index}]"));
        let objects = match entry {
            Entry::Inline(documents) => objects_at(Ok(documents.clone()), &at)?,
            Entry::Objects { objects, .. } => objects_at(objects.to_values(), &at)?,
            Entry::Tree(directory) => {
                let mut built = parent.for_base();
                // Plugin directories are small and rare: build a copy.
                accumulate_target(&mut directory.clone(), &mut built)?;
                built.resources
            }
        };
        let target = match entry {
            Entry::Inline(_) => &mut inline,
            _ => &mut loaded,
        };
        target.extend(objects.into_iter().map(|r| (r.into_object(), at.clone())));
    }
    inline.extend(loaded);
    Ok(inline)
}

fn objects_at(
    documents: std::result::Result<Vec<Value>, String>,
    at: &str,
) -> Result<Vec<Resource>> {
    documents
        .and_then(objects_of)
        .map_err(|problem| Diagnostic::error(problem).at(at))
}

/// Applies one builtin transformer config.
fn transform(
    tree: &Tree,
    resources: &mut Vec<Resource>,
    openapi: &OpenApi,
    config: &Object,
    at: &str,
) -> Result<()> {
    let fail = |problem: String| invalid(config, problem, at);
    match config.kind() {
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let c: AffixConfig = read(config).map_err(fail)?;
            let specs = c
                .field_specs
                .ok_or_else(|| fail("fieldSpecs is not expected to be nil".into()))?;
            identity::add_affix(resources, Affix::Prefix(&c.prefix), &specs);
            identity::add_affix(resources, Affix::Suffix(&c.suffix), &specs);
        }
        "LabelTransformer" => {
            let c: PairsConfig = read(config).map_err(fail)?;
            labels::apply_pairs(resources, &c.labels, &c.field_specs);
        }
        "AnnotationsTransformer" => {
            let c: PairsConfig = read(config).map_err(fail)?;
            labels::apply_pairs(resources, &c.annotations, &c.field_specs);
        }
        "NamespaceTransformer" => {
            let c: NamespaceConfig = read(config).map_err(fail)?;
            let subjects = Subjects::parse(&c.set_role_binding_subjects).map_err(fail)?;
            let settings = Namespace {
                namespace: c.metadata.namespace.as_deref().unwrap_or_default(),
                specs: &c.field_specs,
                unset_only: c.unset_only,
                subjects,
            };
            identity::set_namespace(resources, &settings).map_err(|d| d.at(at))?;
        }
        "ReplicaCountTransformer" => {
            let c: ReplicaConfig = read(config).map_err(fail)?;
            identity::set_replicas(resources, &c.replica, &c.field_specs).map_err(|d| d.at(at))?;
        }
        "ImageTagTransformer" => {
            let c: ImageConfig = read(config).map_err(fail)?;
            c.image_tag
                .validate()
                .map_err(|d| d.first().clone().at(at))?;
            images_on(std::slice::from_ref(&c.image_tag), resources);
        }
        "PatchTransformer" => {
            let c: PatchConfig = read(config).map_err(fail)?;
            let options = PatchOptions {
                allow_name_change: c.options.get("allowNameChange").copied().unwrap_or(false),
                allow_kind_change: c.options.get("allowKindChange").copied().unwrap_or(false),
            };
            let selector = c.target.as_ref().map(|t| compile(t, at)).transpose()?;
            let source = c.path.as_deref().or(c.patch.as_deref());
            for body in bodies(tree, source, at)? {
                apply_patch(resources, body, selector.as_ref(), &options, openapi, at)?;
            }
        }
        "PatchStrategicMergeTransformer" => {
            let c: StrategicMergeConfig = read(config).map_err(fail)?;
            let sources = c
                .paths
                .iter()
                .map(String::as_str)
                .chain(c.patches.as_deref());
            for source in sources {
                for body in bodies(tree, Some(source), at)? {
                    let PatchBody::Strategic(patch) = body else {
                        return Err(fail("not a strategic merge patch".into()));
                    };
                    patches::by_identity(resources, &patch, Metadata::Stringified, openapi, at)?;
                }
            }
        }
        "PatchJson6902Transformer" => {
            let c: Json6902Config = read(config).map_err(fail)?;
            let target = c
                .target
                .ok_or_else(|| fail("must specify a target".into()))?;
            let selector = compile(&target, at)?;
            let source = c.path.as_deref().or(c.json_op.as_deref());
            for body in bodies(tree, source, at)? {
                let PatchBody::Json6902(operations) = body else {
                    return Err(fail("not a JSON 6902 patch".into()));
                };
                patches::selected_json6902(resources, &operations, &selector, at)?;
            }
        }
        "ReplacementTransformer" => {
            let c: ReplacementConfig = read(config).map_err(fail)?;
            replacements::apply(resources, &c.replacements, tree)?;
        }
        "HashTransformer" => hash::add_hashes(resources)?,
        other => return Err(not_a("transformer argocd-wasm-plugin runs", other, at)),
    }
    Ok(())
}

fn not_a(what: &str, kind: &str, at: &str) -> Diagnostic {
    Diagnostic::error(format!("`{kind}` is not a builtin {what}")).at(at)
}

fn invalid(config: &Object, problem: String, at: &str) -> Diagnostic {
    Diagnostic::error(format!("{} `{}`: {problem}", config.kind(), config.name())).at(at)
}

/// Reads a config's fields; like kustomize's plugin configs, unknown fields are ignored.
fn read<T: DeserializeOwned>(config: &Object) -> std::result::Result<T, String> {
    serde_json::from_value(Value::Object(config.as_map().clone())).map_err(|e| e.to_string())
}

/// A ConfigMapGenerator or SecretGenerator config as generator arguments: `metadata.name`
/// and `metadata.namespace` name the object.
fn generator_args(config: &Object) -> std::result::Result<GeneratorArgs, String> {
    let mut fields: Map<String, Value> = config.as_map().clone();
    fields.remove("apiVersion");
    fields.remove("kind");
    if let Some(Value::Object(metadata)) = fields.remove("metadata") {
        for key in ["name", "namespace"] {
            if let Some(value) = metadata.get(key) {
                fields.insert(key.to_owned(), value.clone());
            }
        }
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| e.to_string())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceMetadata {
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AffixConfig {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
    field_specs: Option<Vec<FieldSpec>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PairsConfig {
    #[serde(default)]
    labels: StringMap,
    #[serde(default)]
    annotations: StringMap,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceConfig {
    metadata: NamespaceMetadata,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
    #[serde(default)]
    unset_only: bool,
    #[serde(default)]
    set_role_binding_subjects: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplicaConfig {
    replica: Replica,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageConfig {
    /// kustomize's default image field specs apply; custom `fieldSpecs` are not read.
    image_tag: kustomize_images::ImageSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchConfig {
    path: Option<String>,
    patch: Option<String>,
    target: Option<Target>,
    #[serde(default)]
    options: std::collections::BTreeMap<String, bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StrategicMergeConfig {
    #[serde(default)]
    paths: Vec<String>,
    patches: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Json6902Config {
    target: Option<Target>,
    path: Option<String>,
    json_op: Option<String>,
}

#[derive(Deserialize)]
struct ReplacementConfig {
    #[serde(default)]
    replacements: Vec<ReplacementEntry>,
}
