//! `require-non-root-and-limits`: a policy. Every container and init container, in any
//! kind that has a pod template, must run as non-root and set cpu and memory limits.
//! Each offending container fails the render with one error naming the object and field.
//!
//! ```yaml
//! - module: modules/require_non_root_and_limits.wasm
//!   with:
//!     runAsNonRoot: true        # each check defaults to true
//!     cpuLimits: false
//!     memoryLimits: true
//!     exemptImages: ["istio/proxyv2:*"]   # `*` at the end matches any rest
//! ```

use argocd_wasm_sdk::prelude::*;
use serde_json::Map;

mod policy;

use policy::Policy as RequireNonRootAndLimits;

impl Module for RequireNonRootAndLimits {
    fn info() -> Info {
        Info::new(
            "require-non-root-and-limits",
            env!("CARGO_PKG_VERSION"),
            "Fails the render for containers that may run as root or lack cpu/memory limits",
        )
    }

    fn validate(&self) -> Vec<Diagnostic> {
        match self.checks_anything() {
            true => Vec::new(),
            false => vec![
                Diagnostic::warning("every check is off: the policy checks nothing")
                    .code("checks-nothing"),
            ],
        }
    }

    fn transform(&self, _ctx: &Context, objects: &mut Objects) -> Result<()> {
        let problems = objects
            .iter()
            .flat_map(|object| self.problems(object))
            .collect();
        Error::unless_empty(problems)
    }
}

impl RequireNonRootAndLimits {
    /// One error per offending container of `object`.
    fn problems(&self, object: &Object) -> Vec<Diagnostic> {
        object
            .containers()
            .into_iter()
            .filter(|(_, container)| !self.exempts(container))
            .filter_map(|(path, container)| {
                let pod = pod_spec_of(object, &path);
                let missing = self.missing_fields(pod, container);
                describe(&path, container, &missing).map(|d| d.on(object))
            })
            .collect()
    }
}

/// The pod spec holding a container: `spec.template.spec` for
/// `spec.template.spec.containers[1]`; `null` if there is none.
fn pod_spec_of<'a>(object: &'a Object, container: &FieldPath) -> &'a Value {
    let pod_spec = container.parent().and_then(|list| list.parent());
    pod_spec
        .and_then(|path| object.get_path(&path))
        .unwrap_or(&Value::Null)
}

/// The container's error: at the one missing field, or at the container when several are.
fn describe(
    path: &FieldPath,
    container: &Map<String, Value>,
    missing: &[&str],
) -> Option<Diagnostic> {
    let name = container.get("name").and_then(Value::as_str).unwrap_or("?");
    let field = match missing {
        [] => return None,
        [only] => format!("{path}.{only}"),
        _ => path.to_string(),
    };
    let message = format!("container `{name}` must set {}", missing.join(", "));
    Some(
        Diagnostic::error(message)
            .at(field)
            .code("container-not-compliant"),
    )
}

register!(RequireNonRootAndLimits);

#[cfg(test)]
mod tests;
