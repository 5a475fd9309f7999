//! `with.fromEnv`: images from the plugin env variables Argo CD Image Updater writes for
//! plugin apps (`manifestTargets.plugin`), one entry per image:
//!
//! - spec mode, `{image: magento, spec: MAGENTO_IMAGE}`: one variable holding
//!   `registry/image:tag`, `registry/image:tag@digest` or `registry/image@digest`;
//! - name/tag mode, `{image: nginx, name: NGINX_NAME, tag: NGINX_TAG}`: `registry/image` in
//!   one variable, `tag` or `tag@digest` in the other. Either may be left out.
//!
//! `image` is the image name as the manifests write it; the variable names are the ones in
//! the ImageUpdater resource, without the `ARGOCD_ENV_` prefix Argo CD adds. A variable
//! that is absent or empty (Image Updater has not written it yet) changes nothing.

use argocd_wasm_sdk::prelude::*;
use kustomize_images::ImageSpec;

/// The prefix Argo CD puts on plugin env names; accepted in the config and dropped.
const ARGOCD_ENV_PREFIX: &str = "ARGOCD_ENV_";

/// One `with.fromEnv` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvImage {
    /// The image name in the manifests, e.g. `magento` or `nginx`.
    image: String,
    /// Spec mode: the variable holding the whole image reference.
    spec: Option<String>,
    /// Name/tag mode: the variable holding the repository.
    name: Option<String>,
    /// Name/tag mode: the variable holding the tag, optionally with `@digest`.
    tag: Option<String>,
}

/// What the variables of one entry hold right now.
enum Values<'a> {
    Spec(&'a str),
    NameTag(Option<&'a str>, Option<&'a str>),
}

impl EnvImage {
    /// The problem with the entry's shape, if any: an image name, and either `spec` or
    /// `name`/`tag`, each a variable name.
    pub fn check(&self) -> Result<(), String> {
        if self.image.trim().is_empty() {
            return Err("`image` is empty: give the image name the manifests use".into());
        }
        let variables = [
            ("spec", &self.spec),
            ("name", &self.name),
            ("tag", &self.tag),
        ];
        for (field, variable) in variables {
            if variable
                .as_deref()
                .is_some_and(|v| variable_name(v).is_empty())
            {
                return Err(format!("`{field}` names no variable"));
            }
        }
        match (&self.spec, &self.name, &self.tag) {
            (Some(_), None, None) | (None, Some(_), _) | (None, None, Some(_)) => Ok(()),
            (Some(_), _, _) => Err("set either `spec` or `name`/`tag`, not both".into()),
            (None, None, None) => Err(
                "set `spec` (one variable, registry/image:tag) or `name` and `tag` (two variables)"
                    .into(),
            ),
        }
    }

    /// Where the image comes from, for messages: `ARGOCD_ENV_MAGENTO_IMAGE`, or both
    /// variables of name/tag mode.
    pub fn source(&self) -> String {
        let variables: Vec<String> = [&self.spec, &self.name, &self.tag]
            .into_iter()
            .flatten()
            .map(|variable| format!("{ARGOCD_ENV_PREFIX}{}", variable_name(variable)))
            .collect();
        variables.join(" + ")
    }

    /// The image spec the variables describe, `None` when they are not set yet. Reuses the
    /// syntax of `kustomize edit set image`: `image=registry/image:tag@digest`.
    pub fn read(&self, ctx: &Context) -> Option<Result<ImageSpec>> {
        let cli = match self.values(ctx)? {
            Values::Spec(reference) => format!("{}={reference}", self.image),
            Values::NameTag(Some(name), Some(tag)) => format!("{}={name}:{tag}", self.image),
            Values::NameTag(Some(name), None) => format!("{}={name}", self.image),
            Values::NameTag(None, Some(tag)) => format!("{}:{tag}", self.image),
            Values::NameTag(None, None) => return None,
        };
        Some(ImageSpec::parse_cli(&cli))
    }

    fn values<'a>(&self, ctx: &'a Context) -> Option<Values<'a>> {
        let value = |variable: &Option<String>| {
            let variable = variable.as_deref()?;
            ctx.env(variable_name(variable))
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        match &self.spec {
            Some(_) => value(&self.spec).map(Values::Spec),
            None => Some(Values::NameTag(value(&self.name), value(&self.tag))),
        }
    }
}

/// A variable name as the ImageUpdater resource gives it; the `ARGOCD_ENV_` prefix is
/// tolerated.
fn variable_name(configured: &str) -> &str {
    let name = configured.trim();
    name.strip_prefix(ARGOCD_ENV_PREFIX).unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(spec: Option<&str>, name: Option<&str>, tag: Option<&str>) -> EnvImage {
        EnvImage {
            image: "nginx".into(),
            spec: spec.map(str::to_owned),
            name: name.map(str::to_owned),
            tag: tag.map(str::to_owned),
        }
    }

    #[test]
    fn an_entry_has_spec_or_name_and_tag() {
        assert!(entry(Some("IMG"), None, None).check().is_ok());
        assert!(entry(None, Some("N"), Some("T")).check().is_ok());
        assert!(entry(None, None, Some("T")).check().is_ok());
        let both = entry(Some("IMG"), Some("N"), None).check().unwrap_err();
        assert!(both.contains("either `spec` or `name`/`tag`"), "{both}");
        assert!(entry(None, None, None).check().is_err());
        assert!(entry(Some("ARGOCD_ENV_"), None, None).check().is_err());
        let nameless = EnvImage {
            image: " ".into(),
            ..entry(Some("IMG"), None, None)
        };
        assert!(nameless.check().is_err());
    }

    #[test]
    fn sources_name_the_variables_argocd_sets() {
        assert_eq!(
            entry(None, Some("N"), Some("ARGOCD_ENV_T")).source(),
            "ARGOCD_ENV_N + ARGOCD_ENV_T"
        );
        assert_eq!(entry(Some("IMG"), None, None).source(), "ARGOCD_ENV_IMG");
    }
}
