//! The inputs besides `with:`: which colour is live and which images each slot runs. Later
//! inputs win: `with:`, then the Argo CD parameter, then the plugin env, so a CI job can
//! switch or deploy with `argocd app set --plugin-env` without a commit.

use std::collections::BTreeMap;

use argocd_wasm_sdk::{Context, Diagnostic, ParameterValue};
use kustomize_images::ImageSpec;
use serde_json::Value;

use crate::config::{ColourSelector, live_preview};

pub const ACTIVE_PARAMETER: &str = "active-colour";
const ACTIVE_ENV: &str = "ACTIVE_COLOUR";
pub const SLOT_IMAGES_PARAMETER: &str = "slot-images";
/// `SLOT_IMAGES_GREEN` (ARGOCD_ENV_SLOT_IMAGES_GREEN) holds the images of the green slot.
const SLOT_IMAGES_ENV_PREFIX: &str = "SLOT_IMAGES_";

/// A slot image as one input gave it: the colour, and the spec or why it is invalid.
type SlotInput = (String, Sourced<Result<ImageSpec, String>>);

/// A value and the input it came from, which every message about it names.
#[derive(Debug)]
pub struct Sourced<T> {
    pub value: T,
    pub source: String,
}

/// The colours of this render, resolved from every input.
#[derive(Debug)]
pub struct Colours {
    pub active: Sourced<String>,
    /// Absent without a `preview:` block.
    pub preview: Option<String>,
    /// The images of each slot, already merged across inputs.
    pub slots: BTreeMap<String, Vec<Sourced<ImageSpec>>>,
}

impl Colours {
    pub fn resolve(config: &ColourSelector, ctx: &Context) -> Result<Self, Vec<Diagnostic>> {
        let active = active_colour(config, ctx).map_err(|problem| vec![problem])?;
        let preview = preview_colour(config, &active).map_err(|problem| vec![problem])?;
        let slots = slot_images(config, ctx)?;
        Ok(Self {
            active,
            preview,
            slots,
        })
    }

    pub fn is_idle(&self, colour: &str) -> bool {
        colour != self.active.value
    }
}

/// The last non-empty input; an empty value counts as unset, which is what clearing the
/// field in Argo CD's UI sends.
fn active_colour(config: &ColourSelector, ctx: &Context) -> Result<Sourced<String>, Diagnostic> {
    let parameter = match ctx.param(ACTIVE_PARAMETER) {
        None => None,
        Some(ParameterValue::String(text)) => Some(text.as_str()),
        Some(_) => {
            return Err(Diagnostic::error(format!(
                "parameter `{ACTIVE_PARAMETER}` must be one string, the live colour"
            )));
        }
    };
    let candidates = [
        (config.active.as_deref(), "with.active".to_owned()),
        (parameter, format!("parameter `{ACTIVE_PARAMETER}`")),
        (ctx.env(ACTIVE_ENV), format!("ARGOCD_ENV_{ACTIVE_ENV}")),
    ];
    let active = candidates
        .into_iter()
        .filter_map(|(value, source)| Some((value?.trim(), source)))
        .rfind(|(value, _)| !value.is_empty())
        .map(|(value, source)| Sourced {
            value: value.to_owned(),
            source,
        })
        .ok_or_else(|| {
            Diagnostic::error(format!(
                "no live colour: set with.active, the parameter `{ACTIVE_PARAMETER}` or \
                 ARGOCD_ENV_{ACTIVE_ENV} to one of {}",
                config.colour_list()
            ))
        })?;
    if !config.is_colour(&active.value) {
        let problem = config.not_a_colour(&active.value);
        return Err(Diagnostic::error(format!("{}: {problem}", active.source)));
    }
    Ok(active)
}

/// The configured preview colour, or else the one colour that is not live.
fn preview_colour(
    config: &ColourSelector,
    active: &Sourced<String>,
) -> Result<Option<String>, Diagnostic> {
    let Some(preview) = &config.preview else {
        return Ok(None);
    };
    let colour = match &preview.colour {
        Some(colour) => colour.clone(),
        None => config
            .colours
            .iter()
            .find(|colour| **colour != active.value)
            .cloned()
            .unwrap_or_default(),
    };
    if colour == active.value {
        return Err(live_preview(&colour, &active.source));
    }
    Ok(Some(colour))
}

/// A `with.slots` item: a kustomize `images:` entry, or a `kustomize edit set image` string.
pub fn parse_config_image(item: &Value) -> Result<ImageSpec, String> {
    let spec = match item {
        Value::String(text) => ImageSpec::parse_cli(text).map_err(|d| d.message)?,
        Value::Object(_) => serde_json::from_value::<ImageSpec>(item.clone())
            .map_err(|e| format!("not a kustomize images entry: {e}"))?,
        _ => {
            return Err(
                "an image is a kustomize images entry ({name, newName, newTag, digest}) or a \
                 string such as magento=registry/magento:2.4.7"
                    .to_owned(),
            );
        }
    };
    spec.validate().map_err(|d| d.message)?;
    Ok(spec)
}

/// Per colour: `with.slots`, then the parameter's entry, then the env variable, merged by
/// image name with the later input winning.
fn slot_images(
    config: &ColourSelector,
    ctx: &Context,
) -> Result<BTreeMap<String, Vec<Sourced<ImageSpec>>>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut parsed: Vec<SlotInput> = Vec::new();
    for (colour, slot) in &config.slots {
        for (i, item) in slot.images.iter().enumerate() {
            let source = format!("with.slots.{colour}.images[{i}]");
            parsed.push((colour.clone(), sourced(parse_config_image(item), source)));
        }
    }
    match slot_parameter(config, ctx) {
        Ok(entries) => parsed.extend(entries),
        Err(problem) => problems.push(problem),
    }
    for colour in &config.colours {
        let name = format!("{SLOT_IMAGES_ENV_PREFIX}{}", env_suffix(colour));
        let items = ctx.env_list(&name).unwrap_or_default();
        parsed.extend(cli_items(colour, &format!("ARGOCD_ENV_{name}"), &items));
    }
    let mut slots: BTreeMap<String, Vec<Sourced<ImageSpec>>> = BTreeMap::new();
    for (colour, image) in parsed {
        match image.value {
            Ok(spec) => merge(
                slots.entry(colour).or_default(),
                sourced(spec, image.source),
            ),
            Err(problem) => {
                problems.push(Diagnostic::error(format!("{}: {problem}", image.source)));
            }
        }
    }
    if problems.is_empty() {
        Ok(slots)
    } else {
        Err(problems)
    }
}

/// The `slot-images` map parameter: colour → images, comma or newline separated.
fn slot_parameter(config: &ColourSelector, ctx: &Context) -> Result<Vec<SlotInput>, Diagnostic> {
    let pairs = match ctx.param(SLOT_IMAGES_PARAMETER) {
        None => return Ok(Vec::new()),
        Some(ParameterValue::Map(pairs)) => pairs,
        Some(_) => {
            return Err(Diagnostic::error(format!(
                "parameter `{SLOT_IMAGES_PARAMETER}` must be a map of colour to images \
                 (--param {SLOT_IMAGES_PARAMETER}.green=magento:2.4.8)"
            )));
        }
    };
    let mut entries = Vec::new();
    for (colour, images) in pairs {
        let label = format!("parameter `{SLOT_IMAGES_PARAMETER}` key `{colour}`");
        if !config.is_colour(colour) {
            let problem = config.not_a_colour(colour);
            return Err(Diagnostic::error(format!("{label}: {problem}")));
        }
        let items = ParameterValue::String(images.clone()).to_list();
        entries.extend(cli_items(colour, &label, &items));
    }
    Ok(entries)
}

fn cli_items(colour: &str, label: &str, items: &[String]) -> Vec<SlotInput> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let parsed = ImageSpec::parse_cli(item).map_err(|d| d.message);
            let source = format!("{label} item {}", i + 1);
            (colour.to_owned(), sourced(parsed, source))
        })
        .collect()
}

/// Env names are upper case with `_`: the green slot reads `SLOT_IMAGES_GREEN`.
fn env_suffix(colour: &str) -> String {
    colour
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// A later image of the same name replaces the earlier one in its place; `*` fields keep the
/// earlier value, as `kustomize edit set image` does.
fn merge(images: &mut Vec<Sourced<ImageSpec>>, later: Sourced<ImageSpec>) {
    match images.iter_mut().find(|i| i.value.name == later.value.name) {
        Some(earlier) => {
            earlier.value = later.value.replacing(Some(&earlier.value));
            earlier.source = later.source;
        }
        None => images.push(sourced(later.value.replacing(None), later.source)),
    }
}

fn sourced<T>(value: T, source: String) -> Sourced<T> {
    Sourced { value, source }
}
