//! `builtin:colour-selector`: blue/green slots as one parameter in Git. Two copies of each
//! workload run side by side, labelled `color: blue` and `color: green`; the Services'
//! selector `color: <live>` is the traffic switch, and the idle slot keeps running for an
//! instant rollback (seed 000, section 7).
//!
//! ```yaml
//! - module: builtin:colour-selector
//!   with:
//!     active: blue                      # or parameter active-colour / ARGOCD_ENV_ACTIVE_COLOUR
//!     slots:
//!       green: {images: ["magento=123456789.dkr.ecr.eu-west-1.amazonaws.com/magento:2.4.8"]}
//!     preview:
//!       generate: {host: "stage-{colour}.example.com", ingressClassName: alb}
//!     idleReplicas: 0                   # once the rollback window is over
//! ```
//!
//! See docs/blue-green.md for the workflow and every option.

mod config;
mod inputs;
mod names;
mod services;
mod workloads;

use argocd_wasm_sdk::prelude::*;

pub use config::ColourSelector;
use inputs::{ACTIVE_PARAMETER, Colours, SLOT_IMAGES_PARAMETER};
use services::Plan;
use workloads::{Workload, apply_slot_images, check_live, colour_mismatch, scale_idle};

const ACTIVE_TOOLTIP: &str = "The live colour: every switching Service's selector `color` \
    (the step's `key`) is set to it. One of the step's `colours`: blue or green unless the \
    pipeline lists others. Overrides the pipeline's `active`; ARGOCD_ENV_ACTIVE_COLOUR \
    overrides this. Switching back is the rollback.";

const SLOT_IMAGES_TOOLTIP: &str = "Images per colour slot, e.g. green = \
    magento=registry/magento:2.4.8 (the syntax of `kustomize edit set image`; several \
    separated by commas or newlines). They apply only to that colour's workloads and replace \
    the pipeline's slots.<colour>.images of the same name; ARGOCD_ENV_SLOT_IMAGES_<COLOUR> \
    replaces these.";

impl Module for ColourSelector {
    fn info() -> Info {
        Info::new(
            "colour-selector",
            env!("CARGO_PKG_VERSION"),
            "Blue/green: points Services at the live colour, previews the idle one, and sets \
             each slot's images",
        )
        .parameter(
            ParameterAnnouncement::string(ACTIVE_PARAMETER, ACTIVE_TOOLTIP).title("Live colour"),
        )
        .parameter(
            ParameterAnnouncement::map(SLOT_IMAGES_PARAMETER, SLOT_IMAGES_TOOLTIP)
                .title("Slot images"),
        )
    }

    fn validate(&self) -> Vec<Diagnostic> {
        self.problems()
    }

    fn transform(&self, ctx: &Context, objects: &mut Objects) -> Result<()> {
        let findings = select(self, ctx, objects)?;
        ctx.conclude(findings)
    }
}

register!(ColourSelector);

/// The whole transform; returns its findings, errors among them. The objects are only
/// changed once every check before the change has passed.
fn select(
    config: &ColourSelector,
    ctx: &Context,
    objects: &mut Objects,
) -> Result<Vec<Diagnostic>> {
    let colours = Colours::resolve(config, ctx)?;
    Error::unless_empty(check_live(
        &Workload::all(objects, &config.key),
        &config.key,
        &colours.active,
    ))?;
    let mut plan = Plan::new(config, objects)?;
    let mut findings = std::mem::take(&mut plan.notes);
    if plan.live.is_empty() {
        findings.push(
            Diagnostic::warning(format!(
                "no Service switches to `{}`: none among the objects matches with.services \
                 or has `{}` in its selector",
                colours.active.value, config.key
            ))
            .code("no-service-switches"),
        );
    }
    findings.extend(
        objects
            .iter()
            .filter_map(|o| colour_mismatch(o, &config.key)),
    );
    plan.apply(
        config,
        objects,
        &colours.active.value,
        colours.preview.as_deref(),
    )?;
    findings.extend(apply_slot_images(objects, &config.key, &colours.slots));
    if let Some(replicas) = config.idle_replicas {
        findings.extend(scale_idle(objects, config, &colours, replicas)?);
    }
    findings.extend(plan.check_selectors(objects, &config.key));
    Ok(findings)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fixtures;
