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

use argocd_wasm_sdk::prelude::*;
use from_env::EnvImage;
use kustomize_images::{ImageSpec, apply};

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

/// An image spec and the input it came from, which every message about it names.
struct Configured {
    spec: ImageSpec,
    source: String,
}

/// The images of all inputs merged so far, and the problems found on the way.
#[derive(Default)]
struct Inputs {
    images: Vec<Configured>,
    problems: Vec<Diagnostic>,
}

impl Inputs {
    /// Takes a parsed image, or records why it could not be parsed.
    fn add(&mut self, source: String, parsed: Result<ImageSpec, Diagnostic>) {
        match parsed {
            Ok(spec) => self.merge(Configured { spec, source }),
            Err(problem) => self
                .problems
                .push(Diagnostic::error(format!("{source}: {}", problem.message))),
        }
    }

    /// Later wins per image name; the image keeps its first position, which matters when
    /// one image renames into another's name.
    fn merge(&mut self, later: Configured) {
        let earlier = self
            .images
            .iter_mut()
            .find(|c| c.spec.name == later.spec.name);
        match earlier {
            Some(earlier) => {
                earlier.spec = later.spec.replacing(Some(&earlier.spec));
                earlier.source = later.source;
            }
            None => self.images.push(Configured {
                spec: later.spec.replacing(None),
                source: later.source,
            }),
        }
    }

    /// Adds a list of kustomize CLI strings from a parameter or env variable.
    fn add_cli_list(&mut self, label: &str, items: Vec<String>) {
        for (i, item) in items.iter().enumerate() {
            self.add(
                format!("{label} item {}", i + 1),
                ImageSpec::parse_cli(item),
            );
        }
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
                inputs.add(
                    format!("with.fromEnv[{i}]"),
                    Err(Diagnostic::error(problem)),
                );
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

    /// Every input merged, later winning, or every problem found in them.
    fn configured(&self, ctx: &Context) -> std::result::Result<Vec<Configured>, Vec<Diagnostic>> {
        let mut inputs = self.config_inputs();
        if let Some(items) = ctx.param_list(PARAMETER) {
            inputs.add_cli_list(&format!("parameter `{PARAMETER}`"), items);
        }
        if let Some(items) = ctx.env_list(ENV) {
            inputs.add_cli_list(&format!("ARGOCD_ENV_{ENV}"), items);
        }
        self.add_from_env(ctx, &mut inputs);
        if self.require_digest {
            inputs
                .problems
                .extend(inputs.images.iter().filter_map(without_digest));
        }
        if inputs.problems.is_empty() {
            Ok(inputs.images)
        } else {
            Err(inputs.problems)
        }
    }

    fn unmatched(&self, image: &Configured) -> Diagnostic {
        let message = format!(
            "{}: image `{}` matched no container, init container or image volume",
            image.source, image.spec.name
        );
        if self.fail_on_unmatched {
            Diagnostic::error(message)
        } else {
            Diagnostic::warning(message)
        }
    }
}

fn without_digest(image: &Configured) -> Option<Diagnostic> {
    image.spec.digest.is_none().then(|| {
        Diagnostic::error(format!(
            "{}: image `{}` has no digest, and requireDigest is set",
            image.source, image.spec.name
        ))
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
        let images = match self.configured(ctx) {
            Ok(images) => images,
            Err(problems) => {
                // Reported errors fail the render; the objects stay untouched.
                problems.into_iter().for_each(|problem| ctx.report(problem));
                return Ok(());
            }
        };
        let specs: Vec<ImageSpec> = images.iter().map(|image| image.spec.clone()).collect();
        let matched = apply(&specs, objects);
        for (image, matched) in images.iter().zip(matched) {
            if !matched {
                ctx.report(self.unmatched(image));
            }
        }
        Ok(())
    }
}

register!(ImageTags);

#[cfg(test)]
mod tests;
