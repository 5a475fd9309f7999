//! One entry of a kustomization's `images:` list, from YAML/JSON or from the CLI syntax of
//! `kustomize edit set image`.

use argocd_wasm_sdk::{Diagnostic, Result};
use serde::{Deserialize, Deserializer};

use crate::reference::{self, check_digest, check_repository, check_tag, check_tag_suffix};

/// In the CLI syntax, `*` as the new name, tag or digest keeps the value of the spec this one
/// replaces (`kustomize edit set image app=*:2.0` changes only the tag).
const KEEP: &str = "*";

/// The forms the CLI syntax accepts, for error messages.
const CLI_FORMS: &str = "name=newName:newTag@digest, name=newName:newTag, name=newName@digest, \
                         name=newName, name:newTag@digest, name:newTag or name@digest";

/// Which images to change and how, with kustomize's field names: `name`, `newName`,
/// `newTag`, `digest`, `tagSuffix`. An empty string is the same as an absent field, as in
/// kustomize.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageSpec {
    /// The repository path the image must have, e.g. `nginx` or `localhost:5000/app`;
    /// with a tag (`nginx:1.27`) only images with that tag match.
    pub name: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub new_name: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub new_tag: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub digest: Option<String>,
    /// Appended to the image's tag when neither `newTag` nor `digest` is set.
    #[serde(default, deserialize_with = "non_empty")]
    pub tag_suffix: Option<String>,
}

fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    Ok(text.filter(|text| !text.is_empty()))
}

impl ImageSpec {
    /// Parses one image in the syntax `kustomize edit set image` accepts:
    /// `name=newName:newTag@digest` and its parts (`name:newTag`, `name@digest`,
    /// `name=newName`, …). The new name, tag or digest may be `*`, see [`Self::replacing`].
    /// Errors name the text.
    pub fn parse_cli(text: &str) -> Result<Self> {
        let text = text.trim();
        parse_cli(text).map_err(|problem| {
            Diagnostic::error(format!("`{text}`: {problem}"))
                .code("images/invalid-image")
                .into()
        })
    }

    /// Checks the fields: a valid image name (optionally with a tag or digest to match),
    /// tag, digest (`sha256:` and 64 hex digits) and tag suffix. Errors name the image.
    pub fn validate(&self) -> Result<()> {
        self.check(false).map_err(|problem| {
            let message = match self.name.as_str() {
                "" => problem,
                name => format!("image `{name}`: {problem}"),
            };
            Diagnostic::error(message)
                .code("images/invalid-image")
                .into()
        })
    }

    /// This spec as the replacement of `earlier`, the spec with the same name it overrides:
    /// fields given as `*` take `earlier`'s value, or none when nothing is replaced.
    pub fn replacing(self, earlier: Option<&ImageSpec>) -> Self {
        let keep = |field: Option<String>, earlier: Option<&Option<String>>| match field {
            Some(value) if value == KEEP => earlier.cloned().flatten(),
            other => other,
        };
        Self {
            new_name: keep(self.new_name, earlier.map(|e| &e.new_name)),
            new_tag: keep(self.new_tag, earlier.map(|e| &e.new_tag)),
            digest: keep(self.digest, earlier.map(|e| &e.digest)),
            ..self
        }
    }

    /// The image this spec turns `image` into, or `None` when the spec does not match it.
    /// A new tag or digest replaces both the old tag and the old digest; a tag suffix
    /// extends the old tag and drops the digest; the name changes only with `newName`.
    pub fn rewrite(&self, image: &str) -> Option<String> {
        if !reference::matches(image, &self.name) {
            return None;
        }
        let old = reference::split(image);
        let old_tag = old.tag.unwrap_or_default();
        let (tag, digest) = match (&self.new_tag, &self.digest, &self.tag_suffix) {
            (Some(tag), digest, _) => (tag.clone(), digest.as_deref()),
            (None, Some(digest), _) => (String::new(), Some(digest.as_str())),
            (None, None, Some(suffix)) => (format!("{old_tag}{suffix}"), None),
            (None, None, None) => (old_tag.to_owned(), old.digest),
        };
        let mut rewritten = self.new_name.as_deref().unwrap_or(old.name).to_owned();
        if !tag.is_empty() {
            rewritten.push(':');
            rewritten.push_str(&tag);
        }
        // An image written `app@` has an empty digest, which kustomize drops.
        if let Some(digest) = digest.filter(|digest| !digest.is_empty()) {
            rewritten.push('@');
            rewritten.push_str(digest);
        }
        Some(rewritten)
    }

    /// The problem with the fields, if any. `*` placeholders pass only when `keep_allowed`.
    fn check(&self, keep_allowed: bool) -> Result<(), String> {
        check_match_name(&self.name)?;
        let fields: [(&Option<String>, Check); 3] = [
            (&self.new_name, check_new_name),
            (&self.new_tag, check_tag),
            (&self.digest, check_digest),
        ];
        for (field, check) in fields {
            match field.as_deref() {
                Some(KEEP) if keep_allowed => {}
                Some(value) => check(value)?,
                None => {}
            }
        }
        self.tag_suffix.as_deref().map_or(Ok(()), check_tag_suffix)
    }
}

type Check = fn(&str) -> Result<(), String>;

/// A name to match: a repository, optionally with the one tag or digest to match.
fn check_match_name(name: &str) -> Result<(), String> {
    let parts = reference::split(name);
    check_repository(parts.name)?;
    parts.tag.map_or(Ok(()), check_tag)?;
    parts.digest.map_or(Ok(()), check_digest)
}

/// A new name replaces only the repository; its tag and digest are separate fields.
fn check_new_name(name: &str) -> Result<(), String> {
    check_repository(name).map_err(|problem| format!("new name: {problem}"))
}

/// kustomize v5's parse: split at the first `=` into the name and the new image, then split
/// the new image (or, without `=`, the whole text) at its tag and digest.
fn parse_cli(text: &str) -> Result<ImageSpec, String> {
    if text.is_empty() {
        return Err("the image is empty".to_owned());
    }
    let (name, new_image) = match text.split_once('=') {
        Some((name, new_image)) => (Some(name), new_image),
        None => (None, text),
    };
    let parts = reference::split(new_image);
    if parts.tag == Some("") {
        return Err("the tag after `:` is empty".to_owned());
    }
    if parts.digest == Some("") {
        return Err("the digest after `@` is empty".to_owned());
    }
    let owned = |part: Option<&str>| part.filter(|part| !part.is_empty()).map(str::to_owned);
    let spec = ImageSpec {
        name: name.unwrap_or(parts.name).to_owned(),
        new_name: owned(name.map(|_| parts.name)),
        new_tag: owned(parts.tag),
        digest: owned(parts.digest),
        tag_suffix: None,
    };
    if spec.new_name.is_none() && spec.new_tag.is_none() && spec.digest.is_none() {
        return Err(format!("sets no new name, tag or digest; use {CLI_FORMS}"));
    }
    spec.check(true)?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    fn spec(name: &str) -> ImageSpec {
        ImageSpec {
            name: name.to_owned(),
            new_name: None,
            new_tag: None,
            digest: None,
            tag_suffix: None,
        }
    }

    fn with(
        name: &str,
        new_name: Option<&str>,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> ImageSpec {
        ImageSpec {
            new_name: new_name.map(str::to_owned),
            new_tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
            ..spec(name)
        }
    }

    #[test]
    fn parses_every_cli_form() {
        let full = format!("app=reg.io/app:1.0@{DIGEST}");
        let cases = [
            (
                full.as_str(),
                with("app", Some("reg.io/app"), Some("1.0"), Some(DIGEST)),
            ),
            (
                "app=reg.io/app:1.0",
                with("app", Some("reg.io/app"), Some("1.0"), None),
            ),
            (
                "app=reg.io/app",
                with("app", Some("reg.io/app"), None, None),
            ),
            ("app:1.0", with("app", None, Some("1.0"), None)),
            ("  app:1.0\n", with("app", None, Some("1.0"), None)),
            (
                "localhost:5000/app:1.0",
                with("localhost:5000/app", None, Some("1.0"), None),
            ),
            (
                "app=localhost:5000/app",
                with("app", Some("localhost:5000/app"), None, None),
            ),
            ("app=*:2.0", with("app", Some("*"), Some("2.0"), None)),
            ("app:*", with("app", None, Some("*"), None)),
            (
                "nginx:1.0=nginx:2.0",
                with("nginx:1.0", Some("nginx"), Some("2.0"), None),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(ImageSpec::parse_cli(text).unwrap(), expected, "{text}");
        }
        let digest_only = format!("app@{DIGEST}");
        assert_eq!(
            ImageSpec::parse_cli(&digest_only).unwrap(),
            with("app", None, None, Some(DIGEST))
        );
        let tag_and_digest = format!("app:1.0@{DIGEST}");
        assert_eq!(
            ImageSpec::parse_cli(&tag_and_digest).unwrap(),
            with("app", None, Some("1.0"), Some(DIGEST))
        );
    }

    #[test]
    fn rejects_malformed_cli_strings_naming_them() {
        let cases = [
            ("", "the image is empty"),
            ("nginx", "sets no new name, tag or digest"),
            ("localhost:5000/app", "sets no new name, tag or digest"),
            ("nginx=", "sets no new name, tag or digest"),
            ("nginx:", "the tag after `:` is empty"),
            ("nginx@", "the digest after `@` is empty"),
            ("=nginx:1", "the image name is empty"),
            (":1.0", "the image name is empty"),
            ("nginx@sha256:abc", "digest `sha256:abc` is invalid"),
            ("nginx@latest", "digest `latest` is invalid"),
            ("a b:1", "`a b` is not an image name"),
            ("a=b=c", "new name: `b=c` is not an image name"),
            ("nginx:1 .0", "tag `1 .0` is invalid"),
            ("*=x", "`*` is not an image name"),
        ];
        for (text, wanted) in cases {
            let error = ImageSpec::parse_cli(text).expect_err(text);
            assert!(
                error.message().contains(wanted),
                "{text}: {}",
                error.message()
            );
            assert!(
                error.message().starts_with(&format!("`{}`", text.trim())),
                "{}",
                error.message()
            );
        }
    }

    #[test]
    fn validates_specs_from_yaml() {
        assert!(
            with("nginx:1.0", Some("reg.io/nginx"), Some("2"), None)
                .validate()
                .is_ok()
        );
        let empty = spec("").validate().unwrap_err();
        assert_eq!(empty.message(), "the image name is empty");
        let bad_digest = with("nginx", None, None, Some("abc"))
            .validate()
            .unwrap_err();
        assert!(
            bad_digest
                .message()
                .starts_with("image `nginx`: digest `abc`"),
            "{}",
            bad_digest.message()
        );
        // `*` keeps an earlier value only in the CLI syntax.
        assert!(with("nginx", None, Some("*"), None).validate().is_err());
        let suffix = ImageSpec {
            tag_suffix: Some("a b".into()),
            ..spec("nginx")
        };
        assert!(suffix.validate().is_err());
    }

    #[test]
    fn deserializes_kustomize_fields_treating_empty_as_absent() {
        let parsed: ImageSpec = serde_json::from_value(serde_json::json!({
            "name": "nginx", "newName": "reg.io/nginx", "newTag": "", "digest": DIGEST, "tagSuffix": "-x"
        }))
        .unwrap();
        assert_eq!(parsed.new_tag, None);
        assert_eq!(parsed.tag_suffix.as_deref(), Some("-x"));
        let unknown =
            serde_json::from_value::<ImageSpec>(serde_json::json!({"name": "a", "tag": "1"}));
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown field `tag`")
        );
        let number =
            serde_json::from_value::<ImageSpec>(serde_json::json!({"name": "a", "newTag": 1.2}));
        assert!(
            number.is_err(),
            "kustomize rejects an unquoted number as newTag too"
        );
    }

    #[test]
    fn replacing_keeps_starred_fields_from_the_earlier_spec() {
        let earlier = with("app", Some("reg.io/app"), Some("1.0"), Some(DIGEST));
        let later = ImageSpec::parse_cli("app=*:2.0").unwrap();
        assert_eq!(
            later.clone().replacing(Some(&earlier)),
            with("app", Some("reg.io/app"), Some("2.0"), None)
        );
        assert_eq!(later.replacing(None), with("app", None, Some("2.0"), None));
    }

    #[test]
    fn rewrites_with_kustomize_precedence() {
        let cases = [
            (
                with("nginx", None, Some("2"), None),
                "nginx:1",
                Some("nginx:2".to_owned()),
            ),
            (
                with("nginx", Some("reg.io/nginx"), None, None),
                "nginx:1",
                Some("reg.io/nginx:1".to_owned()),
            ),
            (
                with("nginx", None, Some("2"), None),
                &format!("nginx:1@{DIGEST}"),
                Some("nginx:2".to_owned()),
            ),
            (
                with("nginx", None, None, Some(DIGEST)),
                "nginx:1",
                Some(format!("nginx@{DIGEST}")),
            ),
            (
                with("nginx", None, Some("2"), Some(DIGEST)),
                "nginx",
                Some(format!("nginx:2@{DIGEST}")),
            ),
            (
                with("nginx", Some("x"), None, None),
                &format!("nginx:1@{DIGEST}"),
                Some(format!("x:1@{DIGEST}")),
            ),
            (
                with("nginx", Some("x"), None, None),
                "nginx:",
                Some("x".to_owned()),
            ),
            (
                with("nginx", None, Some("2"), None),
                "docker.io/nginx:1",
                None,
            ),
        ];
        for (spec, image, expected) in cases {
            assert_eq!(spec.rewrite(image), expected, "{spec:?} on {image}");
        }
    }

    #[test]
    fn a_tag_suffix_applies_only_without_a_new_tag_or_digest() {
        let suffix = |spec: ImageSpec| ImageSpec {
            tag_suffix: Some("-debug".into()),
            ..spec
        };
        let only = suffix(spec("nginx"));
        assert_eq!(only.rewrite("nginx:1").as_deref(), Some("nginx:1-debug"));
        assert_eq!(only.rewrite("nginx").as_deref(), Some("nginx:-debug"));
        assert_eq!(
            only.rewrite(&format!("nginx:1@{DIGEST}")).as_deref(),
            Some("nginx:1-debug")
        );
        let tagged = suffix(with("nginx", None, Some("2"), None));
        assert_eq!(tagged.rewrite("nginx:1").as_deref(), Some("nginx:2"));
        let pinned = suffix(with("nginx", None, None, Some(DIGEST)));
        assert_eq!(pinned.rewrite("nginx:1"), Some(format!("nginx@{DIGEST}")));
    }
}
