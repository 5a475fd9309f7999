//! The policy's config and its checks, on plain JSON: which fields a container misses.

use serde::Deserialize;
use serde_json::{Map, Value};

pub const RUN_AS_NON_ROOT: &str = "securityContext.runAsNonRoot";
pub const CPU_LIMIT: &str = "resources.limits.cpu";
pub const MEMORY_LIMIT: &str = "resources.limits.memory";

/// The step's `with:` block: which checks are on (all by default), and which images are
/// exempt.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    #[serde(default = "on")]
    run_as_non_root: bool,
    #[serde(default = "on")]
    cpu_limits: bool,
    #[serde(default = "on")]
    memory_limits: bool,
    /// Images the policy does not apply to; a trailing `*` matches any rest.
    #[serde(default)]
    exempt_images: Vec<String>,
}

fn on() -> bool {
    true
}

impl Policy {
    pub fn checks_anything(&self) -> bool {
        self.run_as_non_root || self.cpu_limits || self.memory_limits
    }

    /// The fields (relative to the container) the enabled checks find missing or wrong.
    pub fn missing_fields(
        &self,
        pod_spec: &Value,
        container: &Map<String, Value>,
    ) -> Vec<&'static str> {
        let limits = &field(container, "resources")["limits"];
        let non_root = runs_as_non_root(pod_spec, container);
        [
            (self.run_as_non_root && !non_root, RUN_AS_NON_ROOT),
            (self.cpu_limits && limits["cpu"].is_null(), CPU_LIMIT),
            (
                self.memory_limits && limits["memory"].is_null(),
                MEMORY_LIMIT,
            ),
        ]
        .into_iter()
        .filter_map(|(missing, field)| missing.then_some(field))
        .collect()
    }

    pub fn exempts(&self, container: &Map<String, Value>) -> bool {
        let image = field(container, "image").as_str().unwrap_or_default();
        self.exempt_images
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => image.starts_with(prefix),
                None => image == pattern,
            })
    }
}

/// A container's field; `null` when absent.
fn field<'a>(container: &'a Map<String, Value>, key: &str) -> &'a Value {
    container.get(key).unwrap_or(&Value::Null)
}

/// `runAsNonRoot: true` on the container, or on the pod and not overridden by the
/// container; and no `runAsUser: 0` at the level that applies.
fn runs_as_non_root(pod_spec: &Value, container: &Map<String, Value>) -> bool {
    let setting = |key: &str| {
        let own = &field(container, "securityContext")[key];
        if own.is_null() {
            &pod_spec["securityContext"][key]
        } else {
            own
        }
    };
    setting("runAsNonRoot") == &Value::Bool(true) && setting("runAsUser") != &Value::from(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(config: Value) -> Policy {
        serde_json::from_value(config).unwrap()
    }

    fn container(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn the_container_setting_overrides_the_pod_one() {
        let pod = json!({"securityContext": {"runAsNonRoot": true}});
        assert!(runs_as_non_root(&pod, &container(json!({}))));
        assert!(!runs_as_non_root(
            &pod,
            &container(json!({"securityContext": {"runAsNonRoot": false}}))
        ));
        assert!(runs_as_non_root(
            &json!({}),
            &container(json!({"securityContext": {"runAsNonRoot": true}}))
        ));
        assert!(!runs_as_non_root(&json!({}), &container(json!({}))));
        let root_user =
            container(json!({"securityContext": {"runAsNonRoot": true, "runAsUser": 0}}));
        assert!(!runs_as_non_root(&json!({}), &root_user));
    }

    #[test]
    fn lists_every_missing_field_of_the_enabled_checks() {
        let container = container(json!({"resources": {"limits": {"cpu": "500m"}}}));
        assert_eq!(
            policy(json!({})).missing_fields(&json!({}), &container),
            [RUN_AS_NON_ROOT, MEMORY_LIMIT]
        );
        let only_cpu = policy(json!({"runAsNonRoot": false, "memoryLimits": false}));
        assert!(only_cpu.missing_fields(&json!({}), &container).is_empty());
    }
}
