//! builtin:colour-selector end to end on the magento stage fixture: switching traffic,
//! rolling back, and deploying to the idle slot are each one parameter.

use crate::support::*;

#[test]
fn blue_to_green_to_blue_changes_exactly_the_selector() {
    let blue = render_magento(&[]);
    let green = render_magento(&["--param", "active-colour=green"]);
    assert_eq!(
        changed_fields(&blue, &green),
        ["Service magento-svc: spec.selector.color: \"blue\" -> \"green\""]
    );
    let rolled_back = render_magento(&["--param", "active-colour=blue"]);
    assert_eq!(
        rolled_back, blue,
        "rolling back restores the original render"
    );
}

#[test]
fn argocd_env_active_colour_switches_under_generate() {
    let green = render_magento(&["--param", "active-colour=green"]);
    let generated = binary()
        .args(["generate", "--output", "json"])
        .current_dir(fixture("magento-stage"))
        .env("ARGOCD_APP_PARAMETERS", "null")
        .env("ARGOCD_ENV_ACTIVE_COLOUR", "green")
        .output()
        .unwrap();
    assert_eq!(objects(&success(&generated)), green);
}

#[test]
fn deploying_to_the_idle_slot_changes_only_that_slot() {
    let before = render_magento(&[]);
    let image = "123456789.dkr.ecr.eu-west-1.amazonaws.com/magento:feature-xyz-abc1234";
    let after = render_magento(&["--param", &format!("slot-images.green=magento={image}")]);
    assert_eq!(
        changed_fields(&before, &after),
        [format!(
            "Deployment magento-web-green: spec.template.spec.containers[1].image: \
             \"magento:2.4.7\" -> \"{image}\""
        )]
    );
}

#[test]
fn an_unknown_colour_is_refused_with_nothing_on_stdout() {
    let stderr = magento_failure(
        &["--param", "active-colour=purple"],
        "step `colours` (builtin:colour-selector)",
    );
    assert!(stderr.contains("purple"), "{stderr}");
}
