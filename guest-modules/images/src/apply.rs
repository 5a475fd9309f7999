//! Where kustomize's images transformer looks for images, and in which order.

use argocd_wasm_sdk::Object;
use serde_json::{Map, Value};

use crate::ImageSpec;

/// A CRD's schema describes containers without having any, so kustomize leaves CRDs alone.
const SKIPPED_KIND: &str = "CustomResourceDefinition";

/// The pod specs of kustomize's default `images` field specs: a Pod's, and the template's of
/// Deployments, StatefulSets, Jobs and anything else shaped like them.
const POD_SPECS: [&[&str]; 2] = [&["spec"], &["spec", "template", "spec"]];

/// The pod specs whose image volumes (`volumes[].image.reference`) newer kustomize rewrites:
/// the field specs above plus a CronJob's job template.
const VOLUME_POD_SPECS: [&[&str]; 3] = [
    &["spec"],
    &["spec", "template", "spec"],
    &["spec", "jobTemplate", "spec", "template", "spec"],
];

/// The keys whose lists hold containers, at any depth.
const CONTAINER_LISTS: [&str; 2] = ["containers", "initContainers"];

/// Applies the specs in order to every object, as a kustomization's `images:` list does:
/// each spec sees the images the specs before it wrote, so `a → b` then `b:2` gives `b:2`.
/// Returns, for each spec, whether it matched at least one image.
///
/// The specs should have passed [`ImageSpec::validate`]: matching relies on names holding
/// only reference characters.
pub fn apply(specs: &[ImageSpec], objects: &mut [Object]) -> Vec<bool> {
    let mut matched = vec![false; specs.len()];
    for object in objects
        .iter_mut()
        .filter(|object| !object.is_kind(SKIPPED_KIND))
    {
        for (spec, matched) in specs.iter().zip(matched.iter_mut()) {
            *matched |= apply_spec(spec, object.as_map_mut());
        }
    }
    matched
}

/// kustomize runs two filters per spec: one rewrites the containers and init containers it
/// finds at any depth, then the field-spec filter rewrites the pod-spec paths again. The
/// second pass changes nothing a name, tag or digest already set, but a tag suffix is
/// appended twice on those paths (`app:1-s-s`), and kustomize v5.5.0 does exactly that.
/// Image volumes are rewritten once.
fn apply_spec(spec: &ImageSpec, root: &mut Map<String, Value>) -> bool {
    let mut matched = false;
    for value in root.values_mut() {
        matched |= rewrite_containers_anywhere(spec, value);
    }
    for pod_spec in POD_SPECS {
        for list in CONTAINER_LISTS {
            let path = [pod_spec, &[list]].concat();
            matched |= rewrite_items(spec, value_at(root, &path), &["image"]);
        }
    }
    for pod_spec in VOLUME_POD_SPECS {
        let path = [pod_spec, &["volumes"]].concat();
        matched |= rewrite_items(spec, value_at(root, &path), &["image", "reference"]);
    }
    matched
}

fn rewrite_containers_anywhere(spec: &ImageSpec, value: &mut Value) -> bool {
    let mut matched = false;
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if CONTAINER_LISTS.contains(&key.as_str()) {
                    matched |= rewrite_items(spec, Some(&mut *child), &["image"]);
                }
                matched |= rewrite_containers_anywhere(spec, child);
            }
        }
        Value::Array(items) => {
            for item in items {
                matched |= rewrite_containers_anywhere(spec, item);
            }
        }
        _ => {}
    }
    matched
}

/// Rewrites the image at `field` in each item of a list; anything that is not a list of
/// objects with a string there is left alone.
fn rewrite_items(spec: &ImageSpec, list: Option<&mut Value>, field: &[&str]) -> bool {
    let Some(Value::Array(items)) = list else {
        return false;
    };
    let mut matched = false;
    for item in items {
        if let Value::Object(item) = item
            && let Some(Value::String(image)) = value_at(item, field)
            && let Some(rewritten) = spec.rewrite(image)
        {
            *image = rewritten;
            matched = true;
        }
    }
    matched
}

fn value_at<'a>(map: &'a mut Map<String, Value>, path: &[&str]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(map.get_mut(*first)?, |value, key| value.get_mut(*key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        Object::from_value(value).unwrap()
    }

    fn spec(name: &str, new_tag: Option<&str>, tag_suffix: Option<&str>) -> ImageSpec {
        ImageSpec {
            name: name.to_owned(),
            new_name: None,
            new_tag: new_tag.map(str::to_owned),
            digest: None,
            tag_suffix: tag_suffix.map(str::to_owned),
        }
    }

    fn tag(name: &str, tag: &str) -> ImageSpec {
        spec(name, Some(tag), None)
    }

    #[test]
    fn rewrites_containers_at_any_depth_and_image_volumes() {
        let mut objects = vec![object(json!({
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "initContainers": [{"name": "i", "image": "app"}],
                "containers": [{"name": "c", "image": "app:1"}, {"name": "x", "image": "other"}],
                "volumes": [{"name": "v", "image": {"reference": "app:1"}}, {"name": "e", "emptyDir": {}}]
            }}}}}
        }))];
        let matched = apply(&[tag("app", "2"), tag("nothing", "1")], &mut objects);
        assert_eq!(matched, [true, false]);
        let pod = &objects[0].as_map()["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["initContainers"][0]["image"], "app:2");
        assert_eq!(pod["containers"][0]["image"], "app:2");
        assert_eq!(pod["containers"][1]["image"], "other");
        assert_eq!(pod["volumes"][0]["image"]["reference"], "app:2");
    }

    #[test]
    fn leaves_crds_and_other_image_fields_alone() {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "foos.example.com"},
            "spec": {"containers": [{"name": "c", "image": "app"}]}
        });
        let other = json!({
            "apiVersion": "example.com/v1", "kind": "Foo",
            "metadata": {"name": "f", "annotations": {"image": "app"}},
            "spec": {"image": "app", "containers": "app", "initContainers": [{"image": {"x": "app"}}]}
        });
        let mut objects = vec![object(crd.clone()), object(other.clone())];
        assert_eq!(apply(&[tag("app", "2")], &mut objects), [false]);
        assert_eq!(objects, [object(crd), object(other)]);
    }

    #[test]
    fn appends_a_tag_suffix_twice_on_pod_spec_paths_like_kustomize() {
        let suffix = spec("app", None, Some("-s"));
        let mut objects = vec![object(json!({
            "apiVersion": "example.com/v1", "kind": "Foo", "metadata": {"name": "f"},
            "spec": {"containers": [{"image": "app:1"}], "deep": {"containers": [{"image": "app:1"}]}}
        }))];
        apply(&[suffix], &mut objects);
        let spec = &objects[0].as_map()["spec"];
        assert_eq!(spec["containers"][0]["image"], "app:1-s-s");
        assert_eq!(spec["deep"]["containers"][0]["image"], "app:1-s");
    }
}
