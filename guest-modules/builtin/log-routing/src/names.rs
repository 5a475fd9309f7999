//! The name rules of the systems the config's names end up in. Each check says what is
//! wrong in words a platform engineer can act on, or `None` when the name is fine.

/// An Alloy identifier (component labels, attribute names): `[A-Za-z_][A-Za-z0-9_]*`.
pub fn identifier_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if starts_well && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        None
    } else {
        Some(format!(
            "`{name}` is not a valid name: use letters, digits and `_`, not starting with a digit"
        ))
    }
}

/// A Loki label name: `[a-zA-Z_][a-zA-Z0-9_]*`, and not one Loki or this module reserves.
pub fn loki_label_problem(name: &str) -> Option<String> {
    if let Some(problem) = identifier_problem(name) {
        return Some(format!(
            "{problem} (Loki label names match [a-zA-Z_][a-zA-Z0-9_]*)"
        ));
    }
    if name.starts_with("__") {
        return Some(format!(
            "`{name}` starts with `__`, which Loki and Alloy reserve for internal labels"
        ));
    }
    crate::pipeline::RESERVED_LABELS
        .contains(&name)
        .then(|| format!("`{name}` is a label this module uses internally for routing"))
}

/// A channel name. Channels end up in a Kubernetes label value (joined with `.`) and in
/// LogQL regexes, so they keep to characters that are plain in both.
pub fn channel_problem(channel: &str) -> Option<String> {
    let bytes = channel.as_bytes();
    let plain = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-';
    let edges_alphanumeric = bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
    if edges_alphanumeric && bytes.iter().all(plain) {
        None
    } else {
        Some(format!(
            "`{channel}` is not a valid channel: use letters, digits, `_` and `-`, starting and ending with a letter or digit"
        ))
    }
}

/// A Kubernetes label key: an optional DNS subdomain prefix and `/`, then a name of at most
/// 63 characters.
pub fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| dns_subdomain_problem(p).is_none());
    if prefix_ok && is_label_name(name) {
        None
    } else {
        Some(format!(
            "`{key}` is not a valid Kubernetes label key ([prefix/]name, name at most 63 characters of letters, digits, `-`, `_`, `.`)"
        ))
    }
}

/// A Kubernetes label value: empty, or at most 63 characters of alphanumerics, `-`, `_`
/// and `.`, starting and ending with an alphanumeric.
pub fn is_label_value(value: &str) -> bool {
    value.is_empty() || is_label_name(value)
}

fn is_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let inner = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes.iter().all(inner)
}

/// A DNS subdomain (RFC 1123), as object names and label key prefixes must be.
pub fn dns_subdomain_problem(name: &str) -> Option<String> {
    let label_ok = |label: &str| {
        let bytes = label.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 63
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    };
    if name.len() <= 253 && name.split('.').all(label_ok) {
        None
    } else {
        Some(format!(
            "`{name}` is not a valid Kubernetes name (lower-case letters, digits, `-` and `.`)"
        ))
    }
}

/// The `__meta_kubernetes_pod_label_*` name discovery gives a pod label: every character
/// outside `[a-zA-Z0-9_]` becomes `_`, as Prometheus service discovery sanitizes them.
pub fn pod_label_meta(key: &str) -> String {
    let sanitized: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__meta_kubernetes_pod_label_{sanitized}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_alloy() {
        for good in ["l1", "_x", "archive_2", "L2"] {
            assert_eq!(identifier_problem(good), None, "{good}");
        }
        for bad in ["", "2fast", "l-1", "a.b", "tier 1", "é"] {
            assert!(identifier_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn loki_labels_follow_loki_and_avoid_reserved_names() {
        assert_eq!(loki_label_problem("channel"), None);
        assert_eq!(loki_label_problem("_channel"), None);
        for bad in [
            "",
            "1channel",
            "log-channel",
            "log.channel",
            "__channel",
            "routing_tier",
        ] {
            assert!(loki_label_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn channels_are_plain_in_labels_and_regexes() {
        for good in ["payment", "admin_auth", "db-migration", "a", "L2"] {
            assert_eq!(channel_problem(good), None, "{good}");
        }
        for bad in ["", "_x", "x_", "a.b", "a|b", "pay ment", "a*"] {
            assert!(channel_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn label_keys_follow_kubernetes() {
        for good in ["channel", "argocd-wasm-plugin.io/log-channels", "a.b/c_d"] {
            assert_eq!(label_key_problem(good), None, "{good}");
        }
        let long = "x".repeat(64);
        for bad in ["", "/x", "Example.com/x", "a/-x", long.as_str(), "a b"] {
            assert!(label_key_problem(bad).is_some(), "{bad}");
        }
        assert!(is_label_value("admin_auth.payment"));
        assert!(!is_label_value(&"a".repeat(64)));
    }

    #[test]
    fn pod_label_meta_names_are_sanitized() {
        assert_eq!(
            pod_label_meta("argocd-wasm-plugin.io/log-channels"),
            "__meta_kubernetes_pod_label_argocd_wasm_plugin_io_log_channels"
        );
    }

    #[test]
    fn dns_names_are_lower_case() {
        assert_eq!(dns_subdomain_problem("alloy-config"), None);
        assert_eq!(dns_subdomain_problem("monitoring"), None);
        for bad in ["", "Alloy", "a_b", "-a", "a..b"] {
            assert!(dns_subdomain_problem(bad).is_some(), "{bad}");
        }
    }
}
