//! Kubernetes name syntax: a colour ends up in label selectors and host names, so a typo is
//! caught at load instead of by the API server at sync.

/// A label name or value: at most 63 characters, alphanumeric at both ends, `-`, `_` and `.`
/// inside.
fn is_label_name(text: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_alphanumeric();
    !text.is_empty()
        && text.len() <= 63
        && text.starts_with(alphanumeric)
        && text.ends_with(alphanumeric)
        && text
            .chars()
            .all(|c| alphanumeric(c) || matches!(c, '-' | '_' | '.'))
}

/// `name` or `prefix/name`, the prefix a DNS subdomain.
pub fn is_label_key(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_label_name(name),
        None => is_label_name(key),
    }
}

/// A label value; colours are never empty, so neither is this.
pub fn is_label_value(value: &str) -> bool {
    is_label_name(value)
}

/// One DNS label (RFC 1123): lower-case alphanumerics and `-`, at most 63 characters.
pub fn is_dns_label(text: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !text.is_empty()
        && text.len() <= 63
        && text.starts_with(alphanumeric)
        && text.ends_with(alphanumeric)
        && text.chars().all(|c| alphanumeric(c) || c == '-')
}

fn is_dns_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(is_dns_label)
}

/// An Ingress rule host: a DNS subdomain, optionally behind one `*.` wildcard.
pub fn is_host(host: &str) -> bool {
    is_dns_subdomain(host.strip_prefix("*.").unwrap_or(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys_and_values() {
        for key in ["color", "app.kubernetes.io/colour", "a_b.c-d"] {
            assert!(is_label_key(key), "{key}");
        }
        for key in [
            "",
            "-color",
            "Example.com/colour",
            "a/b/c",
            "colour/",
            &"x".repeat(64),
        ] {
            assert!(!is_label_key(key), "{key}");
        }
        assert!(is_label_value("Blue_2"));
        assert!(!is_label_value("blue green"));
    }

    #[test]
    fn hosts() {
        assert!(is_host("stage-green.example.com"));
        assert!(is_host("*.stage.example.com"));
        assert!(!is_host("stage_green.example.com"));
        assert!(!is_host("Stage.example.com"));
        assert!(!is_host("stage..example.com"));
        assert!(!is_dns_label("Blue"));
    }
}
