//! Images from several inputs, as repeated `kustomize edit set image` calls combine them.

use argocd_wasm_sdk::Sourced;

use crate::ImageSpec;

/// Adds `later` to `images` the way `kustomize edit set image` does: it replaces the image
/// of the same name entirely, in that image's place (which matters when one image renames
/// into another's name), except for fields given as `*`, which keep the earlier value; an
/// image of a new name goes last. The image keeps the input it came from.
pub fn set_image(images: &mut Vec<Sourced<ImageSpec>>, later: Sourced<ImageSpec>) {
    match images.iter_mut().find(|i| i.value.name == later.value.name) {
        Some(earlier) => {
            earlier.value = later.value.replacing(Some(&earlier.value));
            earlier.source = later.source;
        }
        None => images.push(later.map(|spec| spec.replacing(None))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(cli: &str, source: &str) -> Sourced<ImageSpec> {
        Sourced::new(ImageSpec::parse_cli(cli).unwrap(), source)
    }

    #[test]
    fn a_later_image_of_the_same_name_replaces_the_earlier_in_place() {
        let mut images = Vec::new();
        set_image(&mut images, image("nginx=registry/nginx:1", "with"));
        set_image(&mut images, image("redis:7", "with"));
        set_image(&mut images, image("nginx=*:2", "env"));
        assert_eq!(images.len(), 2);
        assert_eq!(images[0].source, "env");
        assert_eq!(images[0].value.new_name.as_deref(), Some("registry/nginx"));
        assert_eq!(images[0].value.new_tag.as_deref(), Some("2"));
        assert_eq!(images[1].value.name, "redis");
    }
}
