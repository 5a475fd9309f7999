//! The traffic switch: which Services follow the live colour, which show the preview colour,
//! which belong to Argo Rollouts and stay untouched, and whether each selector still finds
//! pods afterwards.

use argocd_wasm_sdk::{Diagnostic, Error, FieldPath, Object, Objects, Result};
use serde_json::{Map, Value, json};

use crate::config::{COLOUR_PLACEHOLDER, ColourSelector, Generate, ServicePort};
use crate::workloads::{Workload, same_namespace, value_at};

/// The annotation the Argo Rollouts controller puts on the Services and Ingresses it edits.
const MANAGED_BY_ROLLOUTS: &str = "argo-rollouts.argoproj.io/managed-by-rollouts";
/// The selector label the Argo Rollouts controller writes into the Services it switches.
const POD_TEMPLATE_HASH: &str = "rollouts-pod-template-hash";
/// The fields of a Rollout that hand a Service's selector to the Rollouts controller.
const ROLLOUT_SERVICE_FIELDS: [&[&str]; 7] = [
    &["spec", "strategy", "blueGreen", "activeService"],
    &["spec", "strategy", "blueGreen", "previewService"],
    &["spec", "strategy", "canary", "stableService"],
    &["spec", "strategy", "canary", "canaryService"],
    &["spec", "strategy", "canary", "pingPong", "pingService"],
    &["spec", "strategy", "canary", "pingPong", "pongService"],
    &[
        "spec",
        "strategy",
        "canary",
        "trafficRouting",
        "alb",
        "rootService",
    ],
];
const PREVIEW_SUFFIX: &str = "-preview";

fn is_service(object: &Object) -> bool {
    object.is_kind("Service") && object.group().is_empty()
}

fn selector(object: &Object) -> Option<&Map<String, Value>> {
    value_at(object.as_map(), &["spec", "selector"])?
        .as_object()
        .filter(|selector| !selector.is_empty())
}

/// `app=magento-web, color=green`, for messages.
fn describe(selector: &Map<String, Value>) -> String {
    let pairs: Vec<String> = selector
        .iter()
        .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
        .collect();
    pairs.join(", ")
}

/// A Service a Rollout in the stream names, and why that hands it to Argo Rollouts.
struct RolloutReference {
    namespace: Option<String>,
    service: String,
    reason: String,
}

fn rollout_references(objects: &[Object]) -> Vec<RolloutReference> {
    let rollouts = objects
        .iter()
        .filter(|o| o.is_kind("Rollout") && o.group() == "argoproj.io");
    rollouts
        .flat_map(|rollout| {
            ROLLOUT_SERVICE_FIELDS.iter().filter_map(move |path| {
                let service = value_at(rollout.as_map(), path)?.as_str()?;
                Some(RolloutReference {
                    namespace: rollout.namespace().map(str::to_owned),
                    service: service.to_owned(),
                    reason: format!(
                        "Rollout `{}` names it in {}",
                        rollout.name(),
                        path.join(".")
                    ),
                })
            })
        })
        .collect()
}

/// Why Argo Rollouts owns this Service's selector, if it does. Editing it would fight the
/// Rollouts controller, which rewrites the selector to its own pod-template hash.
fn rollouts_owner(service: &Object, references: &[RolloutReference]) -> Option<String> {
    if let Some(rollout) = service.annotation(MANAGED_BY_ROLLOUTS) {
        return Some(format!("annotated {MANAGED_BY_ROLLOUTS}: {rollout}"));
    }
    if selector(service).is_some_and(|s| s.contains_key(POD_TEMPLATE_HASH)) {
        return Some(format!("its selector has {POD_TEMPLATE_HASH}"));
    }
    references
        .iter()
        .find(|r| {
            r.service == service.name()
                && same_namespace(r.namespace.as_deref(), service.namespace())
        })
        .map(|r| r.reason.clone())
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Live,
    Preview,
}

/// The Services the step changes, by position in the objects.
#[derive(Debug, Default)]
pub struct Plan {
    pub live: Vec<usize>,
    pub preview: Vec<usize>,
    /// Services Argo Rollouts owns: never changed, never checked.
    managed: Vec<usize>,
    /// Notes on Services left alone.
    pub notes: Vec<Diagnostic>,
}

impl Plan {
    pub fn new(config: &ColourSelector, objects: &[Object]) -> Result<Self> {
        let mut problems = missing_names(config, objects);
        let references = rollout_references(objects);
        let mut plan = Plan::default();
        for (index, service) in objects.iter().enumerate().filter(|(_, o)| is_service(o)) {
            let owner = rollouts_owner(service, &references);
            if owner.is_some() {
                plan.managed.push(index);
            }
            let Some((role, by_name)) = role(config, service) else {
                continue;
            };
            let unusable = match owner {
                Some(reason) => Some(format!(
                    "is managed by Argo Rollouts ({reason}); the colour selector never touches it"
                )),
                None => selector(service)
                    .is_none()
                    .then(|| "has no spec.selector to switch".to_owned()),
            };
            match (unusable, by_name) {
                (Some(why), true) => problems.push(
                    Diagnostic::error(why)
                        .on(service)
                        .code("cannot-switch-service"),
                ),
                (Some(why), false) => plan.notes.push(
                    Diagnostic::info(why)
                        .on(service)
                        .code("cannot-switch-service"),
                ),
                (None, _) if role == Role::Live => plan.live.push(index),
                (None, _) => plan.preview.push(index),
            }
        }
        Error::unless_empty(problems)?;
        Ok(plan)
    }

    /// Points the live Services at the live colour, the preview Services at the preview
    /// colour, and generates the preview Service and Ingress when asked.
    pub fn apply(
        &self,
        config: &ColourSelector,
        objects: &mut Objects,
        active: &str,
        preview: Option<&str>,
    ) -> Result<()> {
        let selector_key = FieldPath::default()
            .key("spec")
            .key("selector")
            .key(&config.key);
        let targets = self.live.iter().map(|i| (*i, active));
        let previews = self.preview.iter().filter_map(|i| Some((*i, preview?)));
        for (index, colour) in targets.chain(previews) {
            objects[index].set_path(&selector_key, Value::from(colour))?;
        }
        let generate = config.preview.as_ref().and_then(|p| p.generate.as_ref());
        if let (Some(generate), Some(colour)) = (generate, preview) {
            let generated = self.generate(objects, generate, &config.key, colour)?;
            objects.extend(generated);
        }
        Ok(())
    }

    /// A copy of the one live Service that selects the preview colour, and an Ingress for it.
    fn generate(
        &self,
        objects: &[Object],
        generate: &Generate,
        key: &str,
        colour: &str,
    ) -> Result<[Object; 2]> {
        let field = "with.preview.generate";
        let [index] = self.live[..] else {
            let names: Vec<&str> = self.live.iter().map(|i| objects[*i].name()).collect();
            return Err(Diagnostic::error(format!(
                "needs exactly one switching Service to copy, found {}: {}; choose one with \
                 with.services.names",
                names.len(),
                names.join(", ")
            ))
            .at(field)
            .code("cannot-generate-preview")
            .into());
        };
        let live = &objects[index];
        let name = format!("{}{PREVIEW_SUFFIX}", live.name());
        if let Some(taken) = objects.iter().find(|o| {
            o.name() == name
                && (is_service(o) || o.is_kind("Ingress"))
                && same_namespace(o.namespace(), live.namespace())
        }) {
            return Err(Diagnostic::error(format!(
                "would generate `{name}`, but the objects already have one; list it in \
                 with.preview.names instead"
            ))
            .on(taken)
            .at(field)
            .code("preview-name-taken")
            .into());
        }
        let ports = preview_ports(live);
        let port = match (&generate.service_port, ports.first()) {
            (Some(ServicePort::Number(number)), _) => json!({"number": number}),
            (Some(ServicePort::Name(port)), _) => json!({"name": port}),
            (None, Some(first)) => json!({"number": first["port"]}),
            (None, None) => {
                return Err(Diagnostic::error("has no ports to preview")
                    .on(live)
                    .at("spec.ports")
                    .code("no-ports-to-preview")
                    .into());
            }
        };
        let mut selector = selector(live).cloned().unwrap_or_default();
        selector.insert(key.to_owned(), Value::from(colour));
        let metadata = preview_metadata(live, &name);
        let service = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": {"selector": selector, "ports": ports},
        });
        let mut ingress_spec = Map::new();
        if let Some(class) = &generate.ingress_class_name {
            ingress_spec.insert("ingressClassName".to_owned(), Value::from(class.as_str()));
        }
        let host = generate.host.replace(COLOUR_PLACEHOLDER, colour);
        let backend = json!({"service": {"name": name, "port": port}});
        let path = json!({"path": "/", "pathType": "Prefix", "backend": backend});
        ingress_spec.insert(
            "rules".to_owned(),
            json!([{"host": host, "http": {"paths": [path]}}]),
        );
        let ingress = json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": metadata,
            "spec": ingress_spec,
        });
        Ok([Object::from_value(service)?, Object::from_value(ingress)?])
    }

    /// Warns about every Service (but those Argo Rollouts owns) whose colour selector finds no
    /// pods, or only pods scaled to 0; a live Service with only scaled-down pods is an error.
    pub fn check_selectors(&self, objects: &[Object], key: &str) -> Vec<Diagnostic> {
        let workloads = Workload::all(objects, key);
        let services = objects
            .iter()
            .enumerate()
            .filter(|(i, o)| is_service(o) && !self.managed.contains(i));
        let mut findings = Vec::new();
        for (index, service) in services {
            let Some(selector) = selector(service).filter(|s| s.contains_key(key)) else {
                continue;
            };
            let selected: Vec<&Workload> = workloads
                .iter()
                .filter(|w| w.is_selected_by(service.namespace(), selector))
                .collect();
            let finding = if selected.is_empty() {
                Diagnostic::warning(format!(
                    "selects {}, but no workload among the objects runs such pods",
                    describe(selector)
                ))
            } else if selected.iter().all(|w| w.replicas == 0) {
                let names: Vec<String> = selected.iter().map(|w| w.reference.to_string()).collect();
                let message = format!(
                    "selects {}, but every workload with such pods has 0 replicas: {}",
                    describe(selector),
                    names.join(", ")
                );
                if self.live.contains(&index) {
                    Diagnostic::error(message)
                } else {
                    Diagnostic::warning(message)
                }
            } else {
                continue;
            };
            findings.push(
                finding
                    .on(service)
                    .at("spec.selector")
                    .code("selector-finds-no-running-pods"),
            );
        }
        findings
    }
}

/// Whether the config makes this Service live or preview, and whether it names the Service
/// (then a Service that cannot switch is an error, not a note).
fn role(config: &ColourSelector, service: &Object) -> Option<(Role, bool)> {
    let name = service.name().to_owned();
    if config
        .preview
        .as_ref()
        .is_some_and(|p| p.names.contains(&name))
    {
        return Some((Role::Preview, true));
    }
    let chosen = match &config.services {
        None => selector(service).is_some_and(|s| s.contains_key(&config.key)),
        Some(services) => {
            (services.names.is_empty() || services.names.contains(&name))
                && services
                    .selector
                    .iter()
                    .all(|(key, value)| service.label(key) == Some(value))
        }
    };
    let by_name = config
        .services
        .as_ref()
        .is_some_and(|s| !s.names.is_empty());
    chosen.then_some((Role::Live, by_name))
}

/// An error for each name in `services.names` or `preview.names` that no Service has.
fn missing_names(config: &ColourSelector, objects: &[Object]) -> Vec<Diagnostic> {
    let lists = [
        (
            "with.services.names",
            config.services.as_ref().map(|s| &s.names),
        ),
        (
            "with.preview.names",
            config.preview.as_ref().map(|p| &p.names),
        ),
    ];
    let mut problems = Vec::new();
    for (field, names) in lists {
        for (i, name) in names.into_iter().flatten().enumerate() {
            if !objects.iter().any(|o| is_service(o) && o.name() == name) {
                problems.push(
                    Diagnostic::error(format!("no Service named `{name}` among the objects"))
                        .at(format!("{field}[{i}]"))
                        .code("service-not-found"),
                );
            }
        }
    }
    problems
}

/// The live Service's ports without `nodePort`: a copy would clash with the original's.
fn preview_ports(live: &Object) -> Vec<Value> {
    let ports = value_at(live.as_map(), &["spec", "ports"]).and_then(Value::as_array);
    let mut ports = ports.cloned().unwrap_or_default();
    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
        port.remove("nodePort");
    }
    ports
}

/// The name, the live Service's namespace and its labels; never its annotations, which may
/// configure a cloud load balancer the preview must not get.
fn preview_metadata(live: &Object, name: &str) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".to_owned(), Value::from(name));
    if let Some(namespace) = live.namespace() {
        metadata.insert("namespace".to_owned(), Value::from(namespace));
    }
    if let Some(labels) = value_at(live.as_map(), &["metadata", "labels"]) {
        metadata.insert("labels".to_owned(), labels.clone());
    }
    Value::Object(metadata)
}
