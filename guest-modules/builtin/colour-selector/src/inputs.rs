//! The inputs besides `with:`: which colour is live and which images each slot runs. Later
//! inputs win: `with:`, then the Argo CD parameter, then the plugin env, so a CI job can
//! switch or deploy with `argocd app set --plugin-env` without a commit.

use std::collections::BTreeMap;

use argocd_wasm_sdk::{Context, Diagnostic, Error, ParameterValue, Result, Sourced};
use kustomize_images::{ImageSpec, set_image};
use serde_json::Value;

use crate::config::{ColourSelector, live_preview};

pub const ACTIVE_PARAMETER: &str = "active-colour";
const ACTIVE_ENV: &str = "ACTIVE_COLOUR";
pub const SLOT_IMAGES_PARAMETER: &str = "slot-images";
/// `SLOT_IMAGES_GREEN` (ARGOCD_ENV_SLOT_IMAGES_GREEN) holds the images of the green slot.
const SLOT_IMAGES_ENV_PREFIX: &str = "SLOT_IMAGES_";

/// A slot image as one input gave it: the colour, and the spec or why it is invalid.
type SlotInput = (String, Sourced<std::result::Result<ImageSpec, String>>);

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
    pub fn resolve(config: &ColourSelector, ctx: &Context) -> Result<Self> {
        let active = active_colour(config, ctx)?;
        let preview = preview_colour(config, &active)?;
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

/// The last input that is set and not blank, which must be one of the colours.
fn active_colour(config: &ColourSelector, ctx: &Context) -> Result<Sourced<String>> {
    let with = config
        .active
        .as_deref()
        .map(|colour| Sourced::new(colour, "with.active"));
    let active = ctx
        .layered_str(with, ACTIVE_PARAMETER, ACTIVE_ENV)?
        .ok_or_else(|| {
            Diagnostic::error(format!(
                "no live colour: set with.active, the parameter `{ACTIVE_PARAMETER}` or \
                 ARGOCD_ENV_{ACTIVE_ENV} to one of {}",
                config.colour_list()
            ))
            .code("no-live-colour")
        })?;
    if !config.is_colour(&active.value) {
        let problem = config.not_a_colour(&active.value);
        let message = format!("{}: {problem}", active.source);
        return Err(Diagnostic::error(message).code("unknown-colour").into());
    }
    Ok(active)
}

/// The configured preview colour, or else the one colour that is not live.
fn preview_colour(config: &ColourSelector, active: &Sourced<String>) -> Result<Option<String>> {
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
        return Err(live_preview(&colour, &active.source).into());
    }
    Ok(Some(colour))
}

/// A `with.slots` item: a kustomize `images:` entry, or a `kustomize edit set image` string.
pub fn parse_config_image(item: &Value) -> std::result::Result<ImageSpec, String> {
    let spec = match item {
        Value::String(text) => ImageSpec::parse_cli(text).map_err(|e| e.message().to_owned())?,
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
    spec.validate().map_err(|e| e.message().to_owned())?;
    Ok(spec)
}

/// Per colour: `with.slots`, then the parameter's entry, then the env variable, merged by
/// image name with the later input winning.
fn slot_images(
    config: &ColourSelector,
    ctx: &Context,
) -> Result<BTreeMap<String, Vec<Sourced<ImageSpec>>>> {
    let mut problems = Vec::new();
    let mut parsed: Vec<SlotInput> = Vec::new();
    for (colour, slot) in &config.slots {
        for (i, item) in slot.images.iter().enumerate() {
            let source = format!("with.slots.{colour}.images[{i}]");
            parsed.push((
                colour.clone(),
                Sourced::new(parse_config_image(item), source),
            ));
        }
    }
    match slot_parameter(config, ctx) {
        Ok(entries) => parsed.extend(entries),
        Err(problem) => problems.extend(problem.into_diagnostics()),
    }
    for colour in &config.colours {
        let env = format!("{SLOT_IMAGES_ENV_PREFIX}{}", env_suffix(colour));
        parsed.extend(cli_items(colour, ctx.env_items(&env)));
    }
    let mut slots: BTreeMap<String, Vec<Sourced<ImageSpec>>> = BTreeMap::new();
    for (colour, image) in parsed {
        match image.value {
            Ok(spec) => set_image(
                slots.entry(colour).or_default(),
                Sourced::new(spec, image.source),
            ),
            Err(problem) => problems.push(
                Diagnostic::error(format!("{}: {problem}", image.source))
                    .code("invalid-slot-image"),
            ),
        }
    }
    Error::unless_empty(problems)?;
    Ok(slots)
}

/// The `slot-images` map parameter: colour → images, comma or newline separated.
fn slot_parameter(config: &ColourSelector, ctx: &Context) -> Result<Vec<SlotInput>> {
    let pairs = match ctx.param(SLOT_IMAGES_PARAMETER) {
        None => return Ok(Vec::new()),
        Some(ParameterValue::Map(pairs)) => pairs,
        Some(_) => {
            return Err(Diagnostic::error(format!(
                "parameter `{SLOT_IMAGES_PARAMETER}` must be a map of colour to images \
                 (--param {SLOT_IMAGES_PARAMETER}.green=magento:2.4.8)"
            ))
            .code("parameter-not-a-map")
            .into());
        }
    };
    let mut entries = Vec::new();
    for (colour, images) in pairs {
        let label = format!("parameter `{SLOT_IMAGES_PARAMETER}` key `{colour}`");
        if !config.is_colour(colour) {
            let problem = config.not_a_colour(colour);
            let message = format!("{label}: {problem}");
            return Err(Diagnostic::error(message).code("unknown-colour").into());
        }
        let items = ParameterValue::String(images.clone()).to_list();
        entries.extend(cli_items(colour, Sourced::numbered(&label, items)));
    }
    Ok(entries)
}

fn cli_items(colour: &str, items: Vec<Sourced<String>>) -> Vec<SlotInput> {
    items
        .into_iter()
        .map(|item| {
            let parsed = ImageSpec::parse_cli(&item.value).map_err(|e| e.message().to_owned());
            (colour.to_owned(), Sourced::new(parsed, item.source))
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
