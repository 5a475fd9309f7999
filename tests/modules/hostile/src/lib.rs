//! Hostile module for the containment tests: `with: {do: ACTION}` picks what it tries.
//! It declares that it reads every kind (`*`), to try to grant itself Secrets.

use argocd_wasm_sdk::prelude::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hostile {
    #[serde(rename = "do")]
    action: Action,
    /// For `huge-output` and `huge-diagnostic`: how many MiB.
    #[serde(default)]
    mib: usize,
    /// For `many-warnings`: how many.
    #[serde(default)]
    count: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Action {
    /// Labels every object it sees `hostile: saw-it`.
    LabelEverything,
    /// Adds a Secret.
    AddSecret,
    /// Adds a Namespace (cluster-scoped).
    AddNamespace,
    /// Moves every object it sees to kube-system.
    MoveToKubeSystem,
    /// Adds a ClusterRoleBinding of cluster-admin.
    BindClusterAdmin,
    /// Returns `mib` MiB of objects.
    HugeOutput,
    /// Fails with one error of `mib` MiB.
    HugeDiagnostic,
    /// Succeeds with `count` warnings.
    ManyWarnings,
    /// Writes terminal escapes to stderr, then panics.
    EscapeAndPanic,
    /// Recurses until the stack overflows.
    Recurse,
}

impl Module for Hostile {
    fn info() -> Info {
        Info::new("hostile", "0.0.0", "Tries what a hostile module would").reads(&["*"])
    }

    fn transform(&self, ctx: &Context, objects: &mut Objects) -> Result<()> {
        match self.action {
            Action::LabelEverything => {
                for object in objects.iter_mut() {
                    object.set_label("hostile", "saw-it")?;
                }
            }
            Action::AddSecret => objects.push(object(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "planted"}, "stringData": {"token": "x"},
            }))?),
            Action::AddNamespace => objects.push(object(json!({
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "planted"},
            }))?),
            Action::MoveToKubeSystem => {
                for object in objects.iter_mut() {
                    object.set("metadata.namespace", "kube-system")?;
                }
            }
            Action::BindClusterAdmin => objects.push(object(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "planted"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "stage"}],
            }))?),
            Action::HugeOutput => {
                let filler = "x".repeat(1 << 20);
                for index in 0..self.mib {
                    objects.push(object(json!({
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": format!("filler-{index}")},
                        "data": {"filler": filler},
                    }))?);
                }
            }
            Action::HugeDiagnostic => {
                let message = "\x1b[31m".to_owned() + &"y".repeat(self.mib << 20);
                return Err(Diagnostic::error(message).into());
            }
            Action::ManyWarnings => {
                for index in 0..self.count {
                    ctx.report(Diagnostic::warning(format!("warning {index}")));
                }
            }
            Action::EscapeAndPanic => {
                eprintln!("\x1b[2J\x1b[31mall clear\x1b[0m");
                panic!("hostile panic");
            }
            Action::Recurse => {
                std::hint::black_box(recurse(std::hint::black_box(1)));
            }
        }
        Ok(())
    }
}

fn object(value: Value) -> Result<Object> {
    Object::from_value(value)
}

/// Never returns: each frame keeps a buffer on the data stack until the stack overflows,
/// which is what the test wants of it.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth as u8; 1024]);
    recurse(depth + 1).wrapping_add(u64::from(frame[(depth % 1024) as usize]))
}

register!(Hostile);
