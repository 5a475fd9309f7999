//! `builtin:image-tags`: kustomize's `images` semantics, fed, in this order, by the step's
//! `with: images:`, the Argo CD parameter `images`, the plugin env `ARGOCD_ENV_IMAGES` and
//! the plugin env variables `with: fromEnv:` names (what Argo CD Image Updater writes for
//! plugin apps, see [`from_env`]). A later input replaces an earlier image of the same name
//! entirely, as `kustomize edit set image` does, except for fields given as `*`.
//!
//! ```yaml
//! - module: builtin:image-tags
//!   with:
//!     images:
//!       - {name: magento, newName: 123456789.dkr.ecr.eu-west-1.amazonaws.com/magento}
//!     fromEnv:
//!       - {image: magento, spec: MAGENTO_IMAGE}              # Image Updater spec mode
//!       - {image: nginx, name: NGINX_NAME, tag: NGINX_TAG}   # Image Updater name/tag mode
//!     failOnUnmatched: true   # default false: an image that matches nothing is a warning
//!     requireDigest: true     # every image must end up pinned by digest
//! ```

mod from_env;

use argocd_wasm_sdk::Sourced;
use argocd_wasm_sdk::prelude::*;
use from_env::EnvImage;
use kustomize_images::{ImageSpec, apply, set_image};

const PARAMETER: &str = "images";
const ENV: &str = "IMAGES";

const TOOLTIP: &str = "Images to set, in the syntax of `kustomize edit set image`: \
    name=newName:newTag@digest, name:newTag, name@digest or name=newName; one per item, \
    or separated by commas or newlines. They replace the pipeline's image of the same name \
    (`*` keeps its new name, tag or digest: name=*:newTag); ARGOCD_ENV_IMAGES replaces these.";

/// The step's `with:` block.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ImageTags {
    #[serde(default)]
    images: Vec<ImageSpec>,
    /// Plugin env variables Argo CD Image Updater writes, one entry per image.
    #[serde(default)]
    from_env: Vec<EnvImage>,
    /// Fail the render when an image matches nothing, instead of warning.
    #[serde(default)]
    fail_on_unmatched: bool,
    /// Fail the render when an image is not pinned by digest.
    #[serde(default)]
    require_digest: bool,
}

/// The images of all inputs merged so far, each with the input it came from, and the
/// problems found on the way.
#[derive(Default)]
struct Inputs {
    images: Vec<Sourced<ImageSpec>>,
    problems: Vec<Diagnostic>,
}

impl Inputs {
    /// Takes a parsed image, later inputs winning, or records why it could not be parsed.
    fn add(&mut self, source: String, parsed: Result<ImageSpec>) {
        match parsed {
            Ok(spec) => set_image(&mut self.images, Sourced::new(spec, source)),
            Err(problem) => self.reject(&source, problem.message(), "invalid-image"),
        }
    }

    /// Adds images in the syntax of `kustomize edit set image`, from a parameter or env
    /// variable.
    fn add_cli_items(&mut self, items: Vec<Sourced<String>>) {
        for item in items {
            self.add(item.source, ImageSpec::parse_cli(&item.value));
        }
    }

    fn reject(&mut self, source: &str, problem: &str, code: &str) {
        let message = format!("{source}: {problem}");
        self.problems.push(Diagnostic::error(message).code(code));
    }
}

impl ImageTags {
    /// The step's own images, checked.
    fn config_inputs(&self) -> Inputs {
        let mut inputs = Inputs::default();
        for (i, spec) in self.images.iter().enumerate() {
            let checked = spec.validate().map(|()| spec.clone());
            inputs.add(format!("with.images[{i}]"), checked);
        }
        for (i, entry) in self.from_env.iter().enumerate() {
            if let Err(problem) = entry.check() {
                inputs.reject(&format!("with.fromEnv[{i}]"), &problem, "invalid-from-env");
            }
        }
        inputs
    }

    /// The images Image Updater has written into the variables `fromEnv` names so far.
    fn add_from_env(&self, ctx: &Context, inputs: &mut Inputs) {
        for (i, entry) in self.from_env.iter().enumerate() {
            if let Some(parsed) = entry.read(ctx) {
                inputs.add(format!("with.fromEnv[{i}] ({})", entry.source()), parsed);
            }
        }
    }

    /// Every input merged, later winning: `with: images`, the parameter, the env
    /// variable, then `fromEnv`; or every problem found in them.
    fn configured(&self, ctx: &Context) -> Result<Vec<Sourced<ImageSpec>>> {
        let mut inputs = self.config_inputs();
        inputs.add_cli_items(ctx.layered_items(PARAMETER, ENV));
        self.add_from_env(ctx, &mut inputs);
        if self.require_digest {
            inputs
                .problems
                .extend(inputs.images.iter().filter_map(without_digest));
        }
        Error::unless_empty(inputs.problems)?;
        Ok(inputs.images)
    }

    fn unmatched(&self, image: &Sourced<ImageSpec>) -> Diagnostic {
        let message = format!(
            "{}: image `{}` matched no container, init container or image volume",
            image.source, image.value.name
        );
        let finding = match self.fail_on_unmatched {
            true => Diagnostic::error(message),
            false => Diagnostic::warning(message),
        };
        finding.code("unmatched-image")
    }
}

fn without_digest(image: &Sourced<ImageSpec>) -> Option<Diagnostic> {
    image.value.digest.is_none().then(|| {
        Diagnostic::error(format!(
            "{}: image `{}` has no digest, and requireDigest is set",
            image.source, image.value.name
        ))
        .code("missing-digest")
    })
}

impl Module for ImageTags {
    fn info() -> Info {
        Info::new(
            "image-tags",
            env!("CARGO_PKG_VERSION"),
            "Sets image names, tags and digests the way kustomize `images` does",
        )
        .parameter(ParameterAnnouncement::array(PARAMETER, TOOLTIP).title("Images"))
    }

    fn validate(&self) -> Vec<Diagnostic> {
        self.config_inputs().problems
    }

    fn transform(&self, ctx: &Context, objects: &mut Objects) -> Result<()> {
        let images = self.configured(ctx)?;
        let specs: Vec<ImageSpec> = images.iter().map(|image| image.value.clone()).collect();
        let matched = apply(&specs, objects);
        let unmatched = images.iter().zip(matched).filter(|(_, matched)| !matched);
        ctx.conclude(unmatched.map(|(image, _)| self.unmatched(image)).collect())
    }
}

register!(ImageTags);

#[cfg(test)]
mod tests;
