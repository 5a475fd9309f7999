//! builtin:image-tags end to end on the magento stage fixture.

use crate::support::*;

const NEW_IMAGE: &str = "123456789.dkr.ecr.eu-west-1.amazonaws.com/magento:feature-xyz-abc1234";

fn php_fpm_changes() -> Vec<String> {
    ["blue", "green"]
        .map(|colour| {
            format!(
                "Deployment magento-web-{colour}: spec.template.spec.containers[1].image: \
                 \"magento:2.4.7\" -> \"{NEW_IMAGE}\""
            )
        })
        .to_vec()
}

#[test]
fn the_images_parameter_changes_php_fpm_in_both_slots_and_nothing_else() {
    let before = render_magento(&[]);
    let after = render_magento(&["--param", &format!("images=magento={NEW_IMAGE}")]);
    assert_eq!(changed_fields(&before, &after), php_fpm_changes());
}

#[test]
fn argocd_env_images_under_generate_does_the_same() {
    let before = render_magento(&[]);
    let generated = binary()
        .args(["generate", "--output", "json"])
        .current_dir(fixture("magento-stage"))
        .env("ARGOCD_APP_PARAMETERS", "null")
        .env("ARGOCD_ENV_IMAGES", format!("magento={NEW_IMAGE}"))
        .output()
        .unwrap();
    assert_eq!(
        changed_fields(&before, &objects(&success(&generated))),
        php_fpm_changes()
    );
}

#[test]
fn a_malformed_image_parameter_names_the_input() {
    let stderr = magento_failure(
        &["--param", "images=magento@sha256:nothex"],
        "step `tags` (builtin:image-tags)",
    );
    assert!(stderr.contains("parameter `images`"), "{stderr}");
}
