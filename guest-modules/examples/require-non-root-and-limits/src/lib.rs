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
            false => vec![Diagnostic::warning(
                "every check is off: the policy checks nothing",
            )],
        }
    }

    fn transform(&self, ctx: &Context, objects: &mut Objects) -> Result<()> {
        for object in objects.iter_mut() {
            for problem in self.problems(object) {
                ctx.report(problem);
            }
        }
        Ok(())
    }
}

impl RequireNonRootAndLimits {
    /// One error per offending container of `object`.
    fn problems(&self, object: &mut Object) -> Vec<Diagnostic> {
        let reference = object.reference();
        let containers: Vec<(FieldPath, Value)> = object
            .containers_mut()
            .into_iter()
            .map(|(path, container)| (path, Value::Object(container.clone())))
            .collect();
        containers
            .into_iter()
            .filter(|(_, container)| !self.exempts(container))
            .filter_map(|(path, container)| {
                let pod = pod_spec_of(object, &path);
                let missing = self.missing_fields(&pod, &container);
                describe(&path, &container, &missing).map(|d| d.on(reference.clone()))
            })
            .collect()
    }
}

/// The pod spec holding a container: `spec.template.spec` for
/// `spec.template.spec.containers[1]`; `null` if there is none.
fn pod_spec_of(object: &Object, container: &FieldPath) -> Value {
    let pod_spec = container.parent().and_then(|list| list.parent());
    pod_spec
        .and_then(|path| object.get_path(&path).cloned())
        .unwrap_or_default()
}

/// The container's error: at the one missing field, or at the container when several are.
fn describe(path: &FieldPath, container: &Value, missing: &[&str]) -> Option<Diagnostic> {
    let name = container["name"].as_str().unwrap_or("?");
    let field = match missing {
        [] => return None,
        [only] => format!("{path}.{only}"),
        _ => path.to_string(),
    };
    let message = format!("container `{name}` must set {}", missing.join(", "));
    Some(Diagnostic::error(message).at(field))
}

register!(RequireNonRootAndLimits);

#[cfg(test)]
mod tests;
