//! `buildMetadata:` of the top kustomization (kustomize's krusty/kustomizer.go):
//! `managedByLabel` labels every object `app.kubernetes.io/managed-by`, `originAnnotations`
//! records in `config.kubernetes.io/origin` the file (or generator) each object came from.

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use kustomization::Tree;

use crate::fieldspec::FieldSpec;
use crate::kinds::Gvk;
use crate::labels::apply_pairs;
use crate::resource::{Origin, Resource};

const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// What kubectl 1.32's built-in kustomize writes (its version string is `(devel)`).
const MANAGED_BY_VALUE: &str = "kustomize-(devel)";
const ORIGIN: &str = "config.kubernetes.io/origin";

/// Applies the top kustomization's `buildMetadata` options.
pub fn apply(tree: &Tree, resources: &mut [Resource]) -> Result<()> {
    let options = &tree.kustomization.build_metadata;
    let wants = |option: &str| options.iter().any(|o| o == option);
    if wants("transformerAnnotations") {
        return Err(Diagnostic::error(
            "`buildMetadata: [transformerAnnotations]` is not supported by argocd-wasm-plugin",
        )
        .at(format!("{}: buildMetadata", tree.file)));
    }
    if wants("originAnnotations") {
        for resource in resources.iter_mut() {
            let Some(origin) = &resource.origin else {
                continue;
            };
            let text = origin_text(origin, tree.dir());
            resource
                .object
                .set_annotation(ORIGIN, &text)
                .map_err(|problem| problem.first().clone())?;
        }
    }
    if wants("managedByLabel") {
        let pairs = [(MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned())].into();
        let specs = [FieldSpec::new(Gvk::ANY, "metadata/labels", true)];
        apply_pairs(resources, &pairs, &specs);
    }
    Ok(())
}

/// The annotation's YAML text, with paths relative to the top kustomization's directory.
fn origin_text(origin: &Origin, top: &str) -> String {
    match origin {
        Origin::File(path) => format!("path: {}\n", relative(top, path)),
        Origin::Generated {
            kustomization,
            kind,
        } => format!(
            "configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n",
            relative(top, kustomization)
        ),
    }
}

/// `path` (relative to the repository) as seen from directory `from` (likewise).
pub fn relative(from: &str, path: &str) -> String {
    let parts = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_owned)
            .collect()
    };
    let (from, path) = (parts(from), parts(path));
    let common = from.iter().zip(&path).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".to_owned(); from.len() - common];
    out.extend(path[common..].iter().cloned());
    out.join("/")
}

/// The repository-relative path of `entry`, written in the kustomization at `dir`.
pub fn join(dir: &str, entry: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for segment in entry.split('/') {
        match segment {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_top_kustomization() {
        assert_eq!(relative("apps/web", "apps/web/cm.yaml"), "cm.yaml");
        assert_eq!(
            relative("apps/web", "apps/base/svc.yaml"),
            "../base/svc.yaml"
        );
        assert_eq!(relative("", "base/svc.yaml"), "base/svc.yaml");
        assert_eq!(join("apps/web", "../base/svc.yaml"), "apps/base/svc.yaml");
        assert_eq!(join("", "./cm.yaml"), "cm.yaml");
    }

    #[test]
    fn origins_read_like_kustomize_writes_them() {
        let generated = Origin::Generated {
            kustomization: "app/kustomization.yaml".into(),
            kind: "ConfigMapGenerator".into(),
        };
        assert_eq!(
            origin_text(&generated, "app"),
            "configuredIn: kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n"
        );
        assert_eq!(
            origin_text(&Origin::File("app/cm.yaml".into()), "app"),
            "path: cm.yaml\n"
        );
    }
}
