//! Image references as kustomize reads them, `[host[:port]/]path[:tag][@digest]`, and the
//! grammar the specs' fields are checked against.

/// An image reference taken apart. A tag or digest that is present but empty (`nginx:`) is
/// `Some("")`, so validation can tell it from an absent one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Splits a reference the way kustomize's `image.Split` does. The `:` of a tag and the `@` of
/// a digest are searched from the first `/` on, so a registry port is not taken for a tag;
/// an `@` before any `:` makes everything after it the digest.
pub(crate) fn split(image: &str) -> Parts<'_> {
    let offset = match image.find('/') {
        Some(slash) if slash > 0 => slash,
        _ => 0,
    };
    let search = &image[offset..];
    let colon = search.find(':').map(|i| i + offset);
    let at = search.find('@').map(|i| i + offset);
    match (colon, at) {
        (None, None) => Parts {
            name: image,
            tag: None,
            digest: None,
        },
        (Some(colon), Some(at)) if colon < at => Parts {
            name: &image[..colon],
            tag: Some(&image[colon + 1..at]),
            digest: Some(&image[at + 1..]),
        },
        (_, Some(at)) => Parts {
            name: &image[..at],
            tag: None,
            digest: Some(&image[at + 1..]),
        },
        (Some(colon), None) => Parts {
            name: &image[..colon],
            tag: Some(&image[colon + 1..]),
            digest: None,
        },
    }
}

/// Whether kustomize's images transformer takes `image` for the spec named `name`.
///
/// kustomize builds the regular expression `^NAME(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$`
/// from the unescaped name. Validated names hold only reference characters, of which `.` is
/// the one a regular expression treats specially (any character but a newline), so the name
/// matches a fixed-length prefix and no regex engine is needed to give the same answers.
pub(crate) fn matches(image: &str, name: &str) -> bool {
    let mut rest = image.chars();
    let prefix_matches = name.chars().all(|wanted| {
        rest.next()
            .is_some_and(|found| found == wanted || (wanted == '.' && found != '\n'))
    });
    prefix_matches && is_tag_then_digest(rest.as_str())
}

/// The `(:TAG)?(@sha256:DIGEST)?` tail of kustomize's pattern. Only sha256 digests match: an
/// image pinned with another algorithm is never rewritten.
fn is_tag_then_digest(rest: &str) -> bool {
    let rest = match rest.strip_prefix(':') {
        Some(tag) => tag.trim_start_matches(is_pattern_tag_char),
        None => rest,
    };
    rest.is_empty()
        || rest
            .strip_prefix("@sha256:")
            .is_some_and(|digest| digest.chars().all(is_pattern_tag_char))
}

/// The tag characters of kustomize's pattern, which adds `{}` for Bazel's templated tags.
fn is_pattern_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '{' | '}' | '-')
}

/// Checks a repository name: `[host[:port]/]component(/component)*` with letters, digits,
/// `.`, `_` and `-` in each component. Anything else — spaces, `=`, regex characters — is a
/// typo or a malformed input, and kustomize would silently match nothing.
pub(crate) fn check_repository(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the image name is empty".to_owned());
    }
    let components: Vec<&str> = name.split('/').collect();
    let (host, _) = components.split_first().expect("split yields one item");
    let host_ok = match host.split_once(':') {
        Some((host, port)) => {
            components.len() > 1
                && is_component(host)
                && !port.is_empty()
                && port.chars().all(|c| c.is_ascii_digit())
        }
        None => is_component(host),
    };
    if host_ok && components[1..].iter().all(|c| is_component(c)) {
        return Ok(());
    }
    Err(format!(
        "`{name}` is not an image name: expected [host[:port]/]path, with letters, digits, \
         `.`, `_` and `-` between the slashes"
    ))
}

fn is_component(component: &str) -> bool {
    !component.is_empty()
        && component
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Checks a tag against the registry grammar: up to 128 letters, digits, `_`, `.` and `-`,
/// not starting with `.` or `-`.
pub(crate) fn check_tag(tag: &str) -> Result<(), String> {
    let valid = tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag.chars().all(is_tag_char);
    if valid {
        return Ok(());
    }
    if tag.is_empty() {
        return Err("the tag is empty".to_owned());
    }
    Err(format!(
        "tag `{tag}` is invalid: expected up to 128 letters, digits, `_`, `.` or `-`, \
         not starting with `.` or `-`"
    ))
}

/// Checks a tag suffix: tag characters only, since it ends up in a tag.
pub(crate) fn check_tag_suffix(suffix: &str) -> Result<(), String> {
    if !suffix.is_empty() && suffix.len() <= 128 && suffix.chars().all(is_tag_char) {
        return Ok(());
    }
    Err(format!(
        "tag suffix `{suffix}` is invalid: expected letters, digits, `_`, `.` or `-`"
    ))
}

fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Checks a digest: `sha256:` with 64 or `sha512:` with 128 lowercase hex digits, the two
/// algorithms the OCI image spec registers.
pub(crate) fn check_digest(digest: &str) -> Result<(), String> {
    let valid = match digest.split_once(':') {
        Some(("sha256", hex)) => is_lower_hex(hex, 64),
        Some(("sha512", hex)) => is_lower_hex(hex, 128),
        _ => false,
    };
    if valid {
        return Ok(());
    }
    if digest.is_empty() {
        return Err("the digest is empty".to_owned());
    }
    Err(format!(
        "digest `{digest}` is invalid: expected `sha256:` and 64 lowercase hex digits \
         (or `sha512:` and 128)"
    ))
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    fn parts<'a>(name: &'a str, tag: Option<&'a str>, digest: Option<&'a str>) -> Parts<'a> {
        Parts { name, tag, digest }
    }

    #[test]
    fn splits_like_kustomize() {
        assert_eq!(split("nginx"), parts("nginx", None, None));
        assert_eq!(split("nginx:1.27"), parts("nginx", Some("1.27"), None));
        assert_eq!(split("nginx:"), parts("nginx", Some(""), None));
        assert_eq!(
            split("localhost:5000/app:1.0"),
            parts("localhost:5000/app", Some("1.0"), None)
        );
        assert_eq!(
            split("localhost:5000/app"),
            parts("localhost:5000/app", None, None)
        );
        assert_eq!(
            split(&format!("reg.io/a/b:1@{DIGEST}")),
            parts("reg.io/a/b", Some("1"), Some(DIGEST))
        );
        assert_eq!(
            split(&format!("nginx@{DIGEST}")),
            parts("nginx", None, Some(DIGEST))
        );
        // Without a slash the first `:` is the tag's, even when it is a port.
        assert_eq!(
            split("localhost:5000"),
            parts("localhost", Some("5000"), None)
        );
    }

    #[test]
    fn matches_the_whole_repository_path() {
        assert!(matches("nginx", "nginx"));
        assert!(matches("nginx:1.27", "nginx"));
        assert!(matches(&format!("nginx:1.27@{DIGEST}"), "nginx"));
        assert!(matches(&format!("nginx@{DIGEST}"), "nginx"));
        assert!(matches("nginx:{{version}}", "nginx"));
        assert!(!matches("docker.io/library/nginx", "nginx"));
        assert!(!matches("nginx-ingress", "nginx"));
        assert!(!matches("my/nginx", "nginx"));
        assert!(!matches("ngin", "nginx"));
        assert!(!matches("nginx@sha512:abcd", "nginx"));
        assert!(!matches("nginx:v/1", "nginx"));
    }

    #[test]
    fn a_name_with_a_tag_matches_only_that_tag() {
        assert!(matches("nginx:1.0", "nginx:1.0"));
        assert!(matches(&format!("nginx:1.0@{DIGEST}"), "nginx:1.0"));
        assert!(!matches("nginx:1.1", "nginx:1.0"));
        assert!(!matches("nginx:1.0.1", "nginx:1.0"));
        assert!(!matches("nginx", "nginx:1.0"));
    }

    #[test]
    fn a_dot_in_the_name_matches_any_character_as_in_kustomize() {
        assert!(matches("myXapp:1", "my.app"));
        assert!(!matches("my\napp", "my.app"));
    }

    #[test]
    fn checks_names_tags_and_digests() {
        for good in [
            "nginx",
            "localhost:5000/app",
            "reg.io/team/app_x-y",
            "Nginx",
        ] {
            assert_eq!(check_repository(good), Ok(()), "{good}");
        }
        for bad in [
            "", "a b", "a=b", "/a", "a//b", "host:/a", "host:x/a", "a:1", "ng*nx",
        ] {
            assert!(check_repository(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(check_tag("1.27-alpine_x"), Ok(()));
        assert_eq!(check_tag(&"a".repeat(128)), Ok(()));
        for bad in ["", ".1", "-1", "a b", "a@b", "a:b", &"a".repeat(129)] {
            assert!(check_tag(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(check_digest(DIGEST), Ok(()));
        assert_eq!(check_digest(&format!("sha512:{}", "f".repeat(128))), Ok(()));
        for bad in ["", "abc", "sha256:abc", &DIGEST.to_uppercase(), "md5:00"] {
            assert!(check_digest(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(check_tag_suffix("-debug").is_ok());
        assert!(check_tag_suffix("").is_err());
    }
}
