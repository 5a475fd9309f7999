//! The colour slots: which objects belong to which colour, whether the live colour can
//! serve, and the changes the step makes to a slot (images, idle replicas).

use std::collections::BTreeMap;

use argocd_wasm_sdk::{Diagnostic, FieldPath, Object, ObjectRef, Result, Sourced, matches_labels};
use kustomize_images::{ImageSpec, apply};
use serde_json::{Map, Value};

use crate::config::ColourSelector;
use crate::inputs::Colours;

/// Kinds that run pods but have no `spec.replicas` to scale.
const UNSCALABLE: [&str; 4] = ["Pod", "DaemonSet", "Job", "CronJob"];

/// The value at a path of keys.
pub fn value_at<'a>(map: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(map.get(*first)?, |value, key| value.get(*key))
}

fn runs_pods(object: &Object) -> bool {
    object.is_kind("Pod") || object.pod_template().is_some()
}

/// The colour of any object: its pods' label, else its own. The pods' label wins because it
/// is what Service selectors see.
pub fn colour_of<'a>(object: &'a Object, key: &str) -> Option<&'a str> {
    object
        .pod_labels()
        .and_then(|labels| labels.get(key)?.as_str())
        .or_else(|| object.label(key))
}

/// A warning for an object whose own colour label disagrees with its pods' — a slot copied
/// from the other colour and half relabelled.
pub fn colour_mismatch(object: &Object, key: &str) -> Option<Diagnostic> {
    let own = object.label(key)?;
    let pods = object.pod_labels()?.get(key)?.as_str()?;
    (own != pods).then(|| {
        Diagnostic::warning(format!(
            "labelled {key}={own}, but its pods are labelled {key}={pods}: Services route by \
             the pods' label, so this belongs to {pods}"
        ))
        .on(object)
        .at(FieldPath::default().key("metadata").key("labels").key(key))
        .code("colour-mismatch")
    })
}

/// Objects without a namespace get the app's, so they may share any namespace.
pub fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
    a.zip(b).is_none_or(|(a, b)| a == b)
}

/// What the checks need to know about an object that runs pods.
#[derive(Debug)]
pub struct Workload {
    pub reference: ObjectRef,
    pub colour: Option<String>,
    pub pod_labels: Map<String, Value>,
    /// `spec.replicas`, defaulting to 1 as Kubernetes does; 1 for a Pod or a DaemonSet.
    pub replicas: u64,
}

impl Workload {
    /// `None` unless the object runs pods that can serve a Service: a Pod or a
    /// `spec.template` (a CronJob's pods come and go).
    pub fn of(object: &Object, key: &str) -> Option<Self> {
        let serves =
            object.is_kind("Pod") || value_at(object.as_map(), &["spec", "template"]).is_some();
        serves.then(|| Self {
            reference: object.reference(),
            colour: colour_of(object, key).map(str::to_owned),
            pod_labels: object.pod_labels().cloned().unwrap_or_default(),
            replicas: value_at(object.as_map(), &["spec", "replicas"])
                .and_then(Value::as_u64)
                .unwrap_or(1),
        })
    }

    pub fn all(objects: &[Object], key: &str) -> Vec<Self> {
        objects.iter().filter_map(|o| Self::of(o, key)).collect()
    }

    /// True when a selector picks this workload's pods: a Service selects the pods of its
    /// own namespace that carry every selector label.
    pub fn is_selected_by(&self, namespace: Option<&str>, selector: &Map<String, Value>) -> bool {
        same_namespace(namespace, self.reference.namespace.as_deref())
            && !selector.is_empty()
            && matches_labels(selector, &self.pod_labels)
    }
}

/// Refuses a live colour nothing can serve: no workload carries it, or every one that does
/// is scaled to 0.
pub fn check_live(workloads: &[Workload], key: &str, active: &Sourced<String>) -> Vec<Diagnostic> {
    let colour = &active.value;
    let live: Vec<&Workload> = workloads
        .iter()
        .filter(|w| w.colour.as_deref() == Some(colour))
        .collect();
    if live.is_empty() {
        let mut carried: Vec<&str> = workloads
            .iter()
            .filter_map(|w| w.colour.as_deref())
            .collect();
        carried.sort_unstable();
        carried.dedup();
        return vec![
            Diagnostic::error(format!(
                "refusing to make `{colour}` live (from {}): no workload carries {key}={colour}; \
             workloads carry {}",
                active.source,
                if carried.is_empty() {
                    "no colour".to_owned()
                } else {
                    carried.join(", ")
                }
            ))
            .code("live-colour-not-running"),
        ];
    }
    if live.iter().any(|w| w.replicas > 0) {
        return Vec::new();
    }
    live.iter()
        .map(|w| {
            Diagnostic::error(format!(
                "refusing to make `{colour}` live (from {}): every {colour} workload has 0 \
                 replicas, this one too",
                active.source
            ))
            .on(w.reference.clone())
            .at("spec.replicas")
            .code("live-colour-not-running")
        })
        .collect()
}

/// Applies each slot's images to the objects of that colour only. Returns a warning for each
/// image that matched nothing in its slot.
pub fn apply_slot_images(
    objects: &mut [Object],
    key: &str,
    slots: &BTreeMap<String, Vec<Sourced<ImageSpec>>>,
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for (colour, images) in slots {
        let specs: Vec<ImageSpec> = images.iter().map(|image| image.value.clone()).collect();
        let mut matched = vec![false; specs.len()];
        let slot = objects
            .iter_mut()
            .filter(|object| colour_of(object, key) == Some(colour));
        for object in slot {
            let found = apply(&specs, std::slice::from_mut(object));
            matched.iter_mut().zip(found).for_each(|(m, f)| *m |= f);
        }
        let unmatched = images.iter().zip(matched).filter(|(_, m)| !m);
        warnings.extend(unmatched.map(|(image, _)| {
            Diagnostic::warning(format!(
                "{}: image `{}` matched no container of the {colour} slot ({key}={colour})",
                image.source, image.value.name
            ))
            .code("unmatched-slot-image")
        }));
    }
    warnings
}

/// Sets the replicas of every idle workload; warns about those that have no replica count.
pub fn scale_idle(
    objects: &mut [Object],
    config: &ColourSelector,
    colours: &Colours,
    replicas: u32,
) -> Result<Vec<Diagnostic>> {
    let mut warnings = Vec::new();
    for object in objects.iter_mut() {
        let idle = colour_of(object, &config.key)
            .is_some_and(|c| config.is_colour(c) && colours.is_idle(c));
        if !idle || !runs_pods(object) {
            continue;
        }
        if UNSCALABLE.contains(&object.kind()) {
            warnings.push(
                Diagnostic::warning(format!(
                    "idleReplicas cannot scale a {}: it keeps running while idle",
                    object.kind()
                ))
                .on(&*object)
                .code("cannot-scale-idle"),
            );
        } else {
            object.set("spec.replicas", replicas)?;
        }
    }
    Ok(warnings)
}
