//! The step's `with:` block and its load-time checks. Field names are camelCase; unknown
//! fields are errors, so a misspelt option never silently falls back to a default.

use std::collections::{BTreeMap, BTreeSet};

use argocd_wasm_sdk::Diagnostic;
use serde::Deserialize;
use serde_json::Value;

use crate::inputs::parse_config_image;
use crate::names::{is_dns_label, is_host, is_label_key, is_label_value};

/// What a host pattern's `{colour}` stands for.
pub const COLOUR_PLACEHOLDER: &str = "{colour}";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ColourSelector {
    /// The label whose value is the colour, in Service selectors and on workloads.
    #[serde(default = "default_key")]
    pub key: String,
    #[serde(default = "default_colours")]
    pub colours: Vec<String>,
    /// The live colour; the parameter `active-colour` and ARGOCD_ENV_ACTIVE_COLOUR override it.
    pub active: Option<String>,
    /// Which Services switch; absent: every Service whose selector has the key.
    pub services: Option<ServiceSelection>,
    /// Services that point at the idle colour, so QA can reach it.
    pub preview: Option<Preview>,
    /// Images per colour, applied only to that colour's objects.
    #[serde(default)]
    pub slots: BTreeMap<String, Slot>,
    /// Scales the workloads of every colour but the live one.
    pub idle_replicas: Option<u32>,
}

fn default_key() -> String {
    "color".to_owned()
}

fn default_colours() -> Vec<String> {
    vec!["blue".to_owned(), "green".to_owned()]
}

/// Both criteria must hold when both are given, as in a kustomize target.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSelection {
    #[serde(default)]
    pub names: Vec<String>,
    /// Labels the Service itself (its `metadata.labels`) must carry.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preview {
    /// The colour the preview shows; absent: the colour that is not live (two colours only).
    pub colour: Option<String>,
    /// Existing Services to point at the preview colour.
    #[serde(default)]
    pub names: Vec<String>,
    pub generate: Option<Generate>,
}

/// A preview Service `<live Service>-preview` and an Ingress for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Generate {
    /// The Ingress host; `{colour}` becomes the preview colour (`stage-{colour}.example.com`).
    pub host: String,
    pub ingress_class_name: Option<String>,
    /// The Service port the Ingress sends to; absent: the live Service's first port.
    pub service_port: Option<ServicePort>,
}

/// An Ingress backend names a Service port by number or by name.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ServicePort {
    Number(u16),
    Name(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// kustomize `images` entries or `kustomize edit set image` strings; parsed when used so
    /// that errors can name the item.
    #[serde(default)]
    pub images: Vec<Value>,
}

impl ColourSelector {
    pub fn is_colour(&self, colour: &str) -> bool {
        self.colours.iter().any(|c| c == colour)
    }

    pub fn colour_list(&self) -> String {
        self.colours.join(", ")
    }

    /// Every problem with the config, before any object is touched.
    pub fn problems(&self) -> Vec<Diagnostic> {
        let mut problems = self.key_and_colour_problems();
        problems.extend(self.unknown_colour("with.active", self.active.as_deref()));
        problems.extend(self.service_problems());
        problems.extend(self.preview.iter().flat_map(|p| self.preview_problems(p)));
        problems.extend(self.slot_problems());
        problems
    }

    fn key_and_colour_problems(&self) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        if !is_label_key(&self.key) {
            problems.push(error(
                "with.key",
                "invalid-key",
                format!("`{}` is not a label key", self.key),
            ));
        }
        if self.colours.len() < 2 {
            problems.push(error(
                "with.colours",
                "too-few-colours",
                "blue/green needs at least two colours: one live, one idle",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, colour) in self.colours.iter().enumerate() {
            let field = format!("with.colours[{i}]");
            if !is_label_value(colour) {
                problems.push(error(
                    &field,
                    "invalid-colour",
                    format!("`{colour}` is not a label value"),
                ));
            } else if !seen.insert(colour) {
                problems.push(error(
                    &field,
                    "duplicate-colour",
                    format!("`{colour}` is listed twice"),
                ));
            }
        }
        problems
    }

    /// An error when `colour` is given but is not one of the colours.
    pub fn unknown_colour(&self, field: &str, colour: Option<&str>) -> Option<Diagnostic> {
        let colour = colour?;
        (!self.is_colour(colour)).then(|| error(field, "unknown-colour", self.not_a_colour(colour)))
    }

    pub fn not_a_colour(&self, colour: &str) -> String {
        format!(
            "`{colour}` is not one of the colours: {}",
            self.colour_list()
        )
    }

    fn service_problems(&self) -> Option<Diagnostic> {
        let services = self.services.as_ref()?;
        (services.names.is_empty() && services.selector.is_empty()).then(|| {
            error(
                "with.services",
                "services-without-criteria",
                "give `names` or `selector`, or leave `services` out to switch every Service \
                 whose selector has the key",
            )
        })
    }

    fn preview_problems(&self, preview: &Preview) -> Vec<Diagnostic> {
        let mut problems: Vec<Diagnostic> = self
            .unknown_colour("with.preview.colour", preview.colour.as_deref())
            .into_iter()
            .collect();
        if preview.names.is_empty() && preview.generate.is_none() {
            problems.push(error(
                "with.preview",
                "preview-without-target",
                "give `names` or `generate`",
            ));
        }
        if preview.colour.is_none() && self.colours.len() != 2 {
            problems.push(error(
                "with.preview.colour",
                "ambiguous-preview-colour",
                format!(
                    "with {} colours the idle one is ambiguous: name the preview colour",
                    self.colours.len()
                ),
            ));
        }
        if let (Some(colour), Some(active)) = (&preview.colour, &self.active)
            && colour == active
        {
            problems.push(live_preview(colour, "with.active"));
        }
        let switching = self.services.iter().flat_map(|s| &s.names);
        for name in switching.filter(|name| preview.names.contains(name)) {
            problems.push(error(
                "with.preview.names",
                "preview-service-switches",
                format!(
                    "Service `{name}` is also in services.names: the preview would point at \
                     the live colour"
                ),
            ));
        }
        problems.extend(
            preview
                .generate
                .iter()
                .flat_map(|g| self.generate_problems(g)),
        );
        problems
    }

    fn generate_problems(&self, generate: &Generate) -> Vec<Diagnostic> {
        // Only the preview colour goes into the host, but a parameter can change which one
        // that is, so every colour must make a valid host.
        let field = "with.preview.generate.host";
        let (fit, unfit): (Vec<&String>, Vec<&String>) =
            self.colours.iter().partition(|colour| is_dns_label(colour));
        let mut problems: Vec<Diagnostic> = unfit
            .into_iter()
            .map(|colour| {
                error(
                    field,
                    "invalid-host",
                    format!("colour `{colour}` cannot be part of a host name"),
                )
            })
            .collect();
        let bad_host = fit
            .into_iter()
            .map(|colour| generate.host.replace(COLOUR_PLACEHOLDER, colour))
            .find(|host| !is_host(host));
        problems.extend(bad_host.map(|host| {
            error(
                field,
                "invalid-host",
                format!("`{host}` is not a host name"),
            )
        }));
        problems
    }

    fn slot_problems(&self) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        for (colour, slot) in &self.slots {
            let field = format!("with.slots.{colour}");
            problems.extend(self.unknown_colour(&field, Some(colour)));
            for (i, image) in slot.images.iter().enumerate() {
                let item = format!("{field}.images[{i}]");
                if let Err(problem) = parse_config_image(image) {
                    problems.push(error(&item, "invalid-slot-image", problem));
                }
            }
        }
        problems
    }
}

/// The error for a preview colour that is also the live colour, naming where the live colour
/// came from.
pub fn live_preview(colour: &str, active_source: &str) -> Diagnostic {
    error(
        "with.preview.colour",
        "preview-is-live",
        format!(
            "the preview colour `{colour}` is the live colour (from {active_source}): the \
             preview would point at live traffic"
        ),
    )
}

fn error(field: &str, code: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(message).at(field).code(code)
}
