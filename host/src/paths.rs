//! Resolving the paths a pipeline names without ever leaving the repository.
//!
//! Argo CD runs the plugin in a copy of the whole repository with the app directory as the
//! working directory, so a pipeline may use `../shared/modules/x.wasm`, but nothing outside
//! the repository: an app must not read the sidecar's files.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

/// The repository an app directory belongs to: the app directory minus Argo CD's
/// `ARGOCD_APP_SOURCE_PATH` when that is where we are, else the nearest ancestor holding
/// `.git`, else the app directory minus the longest tail of the source path it ends with,
/// else the app directory itself.
///
/// The tail case is Argo CD with `manifest-generate-paths`: it sends only the common root of
/// the paths, so the app sits under that root by the rest of its source path, and the root
/// (the sidecar's fresh copy of what was sent) is as far as `..` may lead.
pub fn repo_root(app_dir: &Path, source_path: &str) -> Result<PathBuf> {
    let app_dir = app_dir
        .canonicalize()
        .with_context(|| format!("cannot open the app directory {}", app_dir.display()))?;
    let source_path = Path::new(source_path.trim_matches('/'));
    let components: Vec<_> = source_path
        .components()
        .filter(|component| component.as_os_str() != ".")
        .collect();
    let strip = |tail: &[std::path::Component]| -> Option<PathBuf> {
        let tail: PathBuf = tail.iter().collect();
        app_dir.ends_with(&tail).then(|| {
            let root = app_dir.ancestors().nth(tail.components().count());
            root.unwrap_or(&app_dir).to_path_buf()
        })
    };
    if !components.is_empty()
        && let Some(root) = strip(&components)
    {
        return Ok(root);
    }
    let git_root = app_dir
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf);
    let tail_root = || (1..components.len()).find_map(|skip| strip(&components[skip..]));
    Ok(git_root.or_else(tail_root).unwrap_or(app_dir))
}

/// Resolves `relative` against `base` and checks the result stays inside `root`.
pub fn resolve_inside(root: &Path, base: &Path, relative: &str) -> Result<PathBuf> {
    if Path::new(relative).is_absolute() {
        bail!("`{relative}` is an absolute path; use a path relative to the app directory");
    }
    let joined = base.join(relative);
    let resolved = joined
        .canonicalize()
        .with_context(|| format!("`{relative}` does not exist ({})", joined.display()))?;
    if !resolved.starts_with(root) {
        bail!(
            "`{relative}` points outside the repository ({}); only files inside it can be used",
            root.display()
        );
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_the_app_dir_minus_the_argocd_source_path() {
        let repo = tempfile::tempdir().unwrap();
        let app = repo.path().join("apps/stage");
        std::fs::create_dir_all(&app).unwrap();
        let root = repo_root(&app, "apps/stage").unwrap();
        assert_eq!(root, repo.path().canonicalize().unwrap());
        assert_eq!(repo_root(&app, "").unwrap(), app.canonicalize().unwrap());
    }

    #[test]
    fn with_only_part_of_the_repository_sent_the_root_is_what_was_sent() {
        // manifest-generate-paths: Argo CD sent `apps/` as the root, the app is `stage/`.
        let sent = tempfile::tempdir().unwrap();
        let app = sent.path().join("stage");
        std::fs::create_dir_all(&app).unwrap();
        let root = repo_root(&app, "apps/stage").unwrap();
        assert_eq!(root, sent.path().canonicalize().unwrap());
    }

    #[test]
    fn paths_may_not_escape_the_root() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path().canonicalize().unwrap();
        let app = root.join("app");
        std::fs::create_dir_all(app.join("modules")).unwrap();
        assert!(resolve_inside(&root, &app, "modules").is_ok());
        assert!(resolve_inside(&root, &app, "..").is_ok());
        let escape = resolve_inside(&root, &app, "../..").unwrap_err();
        assert!(
            escape.to_string().contains("outside the repository"),
            "{escape}"
        );
        assert!(resolve_inside(&root, &app, "/etc/passwd").is_err());
        assert!(resolve_inside(&root, &app, "missing.wasm").is_err());
    }
}
