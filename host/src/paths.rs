//! Resolving the paths a pipeline names without ever leaving the repository.
//!
//! Argo CD runs the plugin in a copy of the whole repository with the app directory as the
//! working directory, so a pipeline may use `../shared/modules/x.wasm`, but nothing outside
//! the repository: an app must not read the sidecar's files. Every check resolves symlinks
//! first, so a link committed to the repository cannot point out of it either.

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
pub(crate) fn repo_root(app_dir: &Path, source_path: &str) -> Result<PathBuf> {
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

/// The largest file the host reads as text (manifests, pipeline and kustomization files):
/// Argo CD's own cap on a whole response.
const MAX_TEXT_FILE_BYTES: u64 = 100 << 20;

/// Resolves `relative` against `base` and checks the result stays inside `root`.
pub(crate) fn resolve_inside(root: &Path, base: &Path, relative: &str) -> Result<PathBuf> {
    if Path::new(relative).is_absolute() {
        bail!("`{relative}` is an absolute path; use a path relative to the app directory");
    }
    let joined = base.join(relative);
    let resolved = joined
        .canonicalize()
        .with_context(|| format!("`{relative}` does not exist ({})", joined.display()))?;
    check_inside(root, &resolved, relative)?;
    Ok(resolved)
}

/// `path` with every symlink resolved, checked to be inside `root`: call it on every file
/// the host reads from a repository.
pub(crate) fn inside(root: &Path, path: &Path) -> Result<PathBuf> {
    let resolved = path
        .canonicalize()
        .with_context(|| format!("cannot open {}", path.display()))?;
    check_inside(root, &resolved, &path.display().to_string())?;
    Ok(resolved)
}

/// Reads a text file of the repository: symlinks resolved and checked against `root`, the
/// size checked before reading.
pub(crate) fn read_inside(root: &Path, path: &Path) -> Result<String> {
    let bytes = read_bytes_inside(root, path)?;
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

/// Reads a file of the repository as bytes, checked as [`read_inside`] checks it.
pub(crate) fn read_bytes_inside(root: &Path, path: &Path) -> Result<Vec<u8>> {
    read_resolved(&inside(root, path)?, path)
}

/// Reads a file [`inside`] or [`resolve_inside`] has resolved and checked, its size checked
/// before reading; messages show it as `path`. Resolving again would cost every component's
/// `readlink` once more.
pub(crate) fn read_resolved(resolved: &Path, path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(resolved)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > MAX_TEXT_FILE_BYTES {
        bail!(
            "{} is {} MiB, more than the {} MiB Argo CD accepts for a whole app",
            path.display(),
            size >> 20,
            MAX_TEXT_FILE_BYTES >> 20
        );
    }
    std::fs::read(resolved).with_context(|| format!("cannot read {}", path.display()))
}

fn check_inside(root: &Path, resolved: &Path, shown: &str) -> Result<()> {
    if !resolved.starts_with(root) {
        bail!(
            "`{shown}` points outside the repository ({}); only files inside it can be used",
            root.display()
        );
    }
    Ok(())
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

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.yaml"), "kind: Secret\n").unwrap();
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path().canonicalize().unwrap();
        std::fs::write(root.join("ok.yaml"), "kind: ConfigMap\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), root.join("evil.yaml"))
            .unwrap();
        std::os::unix::fs::symlink(root.join("ok.yaml"), root.join("link.yaml")).unwrap();
        assert_eq!(
            read_inside(&root, &root.join("link.yaml")).unwrap(),
            "kind: ConfigMap\n"
        );
        let error = read_inside(&root, &root.join("evil.yaml")).unwrap_err();
        assert!(
            error.to_string().contains("outside the repository"),
            "{error}"
        );
    }
}
