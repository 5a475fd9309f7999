//! kustomize's `images` transformer for argocd-wasm-plugin modules, used by
//! `builtin:image-tags`, the kustomize overlay module and the colour selector.
//!
//! The semantics are kustomize v5.5.0's, checked against `kubectl kustomize`:
//! - `name` matches the whole repository path (`nginx` does not match
//!   `docker.io/library/nginx`); a name with a tag matches only that tag; a registry port is
//!   part of the name. As in kustomize, a `.` in the name matches any character, and only
//!   sha256 digests of existing images are recognised.
//! - `newName` replaces the name; `newTag` + `digest` gives `name:tag@digest`; `newTag` alone
//!   drops an existing digest; `digest` alone drops the tag; `tagSuffix` extends the tag only
//!   when neither is set. Nothing else of the image changes.
//! - Images of containers and init containers at any depth of any kind except
//!   CustomResourceDefinition, plus pod `volumes[].image.reference` (added in kustomize 5.7,
//!   not in 5.5.0). Specs apply in order, each to what the previous ones wrote.
//!
//! Stricter than kustomize: [`ImageSpec::validate`] rejects what kustomize would silently
//! match nothing with or write into a broken image (a bad digest, spaces, regex characters).
//!
//! ```
//! use argocd_wasm_sdk::Object;
//! use kustomize_images::{ImageSpec, apply};
//! use serde_json::json;
//!
//! let spec = ImageSpec::parse_cli("nginx=registry.example.com/nginx:1.27").unwrap();
//! let mut objects = vec![Object::from_value(json!({
//!     "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
//!     "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}
//! })).unwrap()];
//! let matched = apply(&[spec], &mut objects);
//! assert_eq!(matched, [true]);
//! assert_eq!(
//!     objects[0].get_str("spec.containers[0].image").unwrap(),
//!     Some("registry.example.com/nginx:1.27")
//! );
//! ```

mod apply;
mod merge;
mod reference;
mod spec;

pub use apply::apply;
pub use merge::set_image;
pub use spec::ImageSpec;
