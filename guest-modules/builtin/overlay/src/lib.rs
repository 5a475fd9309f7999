//! `builtin:overlay`: the transforms of one kustomization level, with kustomize v5.5.0's
//! semantics. The host walks the kustomization tree depth-first and calls this module once per
//! level with that level's objects and its transform fields (normalized to JSON, see
//! [`config::Config`]); the module applies them in kustomize's order:
//! patchesStrategicMerge, patches, namespace, namePrefix/nameSuffix, labels and commonLabels,
//! commonAnnotations, patchesJson6902, replicas, images — then points name references at the
//! renamed objects.
//!
//! Objects renamed or moved carry their earlier identities in kustomize's internal
//! `internal.config.kubernetes.io/previous{Names,Kinds,Namespaces}` annotations, so the next
//! level's patches, replicas and references still find them by their original names, as in
//! kustomize. The host removes every `internal.config.kubernetes.io/` annotation (and an
//! `annotations` map left empty) after the top level, as `kustomize build` does.

pub mod config;
mod fieldspec;
mod identity;
mod json6902;
mod kinds;
mod labels;
mod namerefs;
mod patches;
pub mod resource;
mod selector;
mod smp;

use argocd_wasm_sdk::prelude::*;

use config::{Config, PatchBody, Target};
use patches::Metadata;
use resource::Resource;
use selector::Selector;

/// The module: its config is the level's transform fields.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct Overlay(Config);

impl Module for Overlay {
    fn info() -> Info {
        Info::new(
            "overlay",
            env!("CARGO_PKG_VERSION"),
            "kustomize-compatible transforms of one kustomization level",
        )
        .reads(&["*"])
    }

    fn validate(&self) -> Vec<Diagnostic> {
        let config = &self.0;
        let images = image_problems(config);
        let targets = targets(config).filter_map(|(field, target)| compile(&field, target).err());
        images.chain(targets).collect()
    }

    fn transform(&self, _ctx: &Context, objects: &mut Objects) -> Result<()> {
        let config = &self.0;
        let mut resources: Vec<Resource> = objects.drain(..).map(Resource::new).collect();
        apply_patches(config, &mut resources)?;
        if let Some(namespace) = config.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            identity::set_namespace(&mut resources, namespace)?;
        }
        identity::add_prefix_suffix(&mut resources, &config.name_prefix, &config.name_suffix);
        labels::apply_labels(&mut resources, &config.labels, &config.common_labels);
        labels::apply_annotations(&mut resources, &config.common_annotations);
        for (i, patch) in config.patches_json6902.iter().enumerate() {
            let field = format!("with.patchesJson6902[{i}]");
            let selector = compile(&format!("{field}.target"), &patch.target)?;
            patches::selected_json6902(&mut resources, &patch.patch, &selector, &field)?;
        }
        identity::set_replicas(&mut resources, &config.replicas)?;
        // Images touch no names, so references can be fixed before them, while the objects
        // still carry their history outside the annotations.
        namerefs::fix(&mut resources)?;
        objects.extend(resources.into_iter().map(Resource::into_object));
        check_images(config)?;
        kustomize_images::apply(&config.images, objects);
        Ok(())
    }
}

register!(Overlay);

/// patchesStrategicMerge, then patches, in their order.
fn apply_patches(config: &Config, resources: &mut Vec<Resource>) -> Result<()> {
    for (i, patch) in config.patches_strategic_merge.iter().enumerate() {
        let field = format!("with.patchesStrategicMerge[{i}]");
        patches::by_identity(resources, patch, Metadata::Stringified, &field)?;
    }
    for (i, entry) in config.patches.iter().enumerate() {
        let field = format!("with.patches[{i}]");
        let selector = match &entry.target {
            Some(target) => Some(compile(&format!("{field}.target"), target)?),
            None => None,
        };
        match (&entry.patch, selector) {
            (PatchBody::Strategic(patch), None) => {
                patches::by_identity(resources, patch, Metadata::AsWritten, &field)?
            }
            (PatchBody::Strategic(patch), Some(selector)) => {
                patches::selected_strategic_merge(resources, patch, &selector, &entry.options)
            }
            (PatchBody::Json6902(operations), Some(selector)) => {
                patches::selected_json6902(resources, operations, &selector, &field)?
            }
            (PatchBody::Json6902(_), None) => {
                return Err(Diagnostic::error("a JSON 6902 patch needs a target")
                    .at(format!("{field}.target")));
            }
        }
    }
    Ok(())
}

/// Every target in the config with its field path.
fn targets(config: &Config) -> impl Iterator<Item = (String, &Target)> {
    let patches = config.patches.iter().enumerate().filter_map(|(i, patch)| {
        let target = patch.target.as_ref()?;
        Some((format!("with.patches[{i}].target"), target))
    });
    let json6902 = config
        .patches_json6902
        .iter()
        .enumerate()
        .map(|(i, patch)| (format!("with.patchesJson6902[{i}].target"), &patch.target));
    patches.chain(json6902)
}

fn compile(field: &str, target: &Target) -> Result<Selector> {
    Selector::compile(target)
        .map_err(|(part, problem)| Diagnostic::error(problem).at(format!("{field}.{part}")))
}

fn image_problems(config: &Config) -> impl Iterator<Item = Diagnostic> {
    config.images.iter().enumerate().filter_map(|(i, image)| {
        let problem = image.validate().err()?;
        Some(problem.at(format!("with.images[{i}]")))
    })
}

fn check_images(config: &Config) -> Result<()> {
    image_problems(config).next().map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
