//! One or more tests per rule, on a small magento web tier (seed 000).

use argocd_wasm_sdk::testing::{TestOutput, TestRun};
use argocd_wasm_sdk::{ParameterKind, ParameterValue};

use super::*;

fn deployment(name: &str, colour: &str, replicas: u64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": "magento-web", "color": colour}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "magento-web", "color": colour}},
            "template": {
                "metadata": {"labels": {"app": "magento-web", "color": colour}},
                "spec": {"containers": [
                    {"name": "nginx", "image": "nginx:1.27"},
                    {"name": "php-fpm", "image": "magento:2.4.7"}
                ]}
            }
        }
    })
}

fn service(name: &str, selector: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "labels": {"app": "magento-web"}},
        "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 80, "nodePort": 30080}]}
    })
}

fn web_service(name: &str, colour: &str) -> Value {
    service(name, json!({"app": "magento-web", "color": colour}))
}

/// Both slots at 2 replicas, blue live.
fn magento() -> Vec<Value> {
    vec![
        deployment("magento-web-blue", "blue", 2),
        deployment("magento-web-green", "green", 2),
        web_service("magento-svc", "blue"),
    ]
}

fn run(run: TestRun, objects: Vec<Value>) -> TestOutput {
    run.run::<ColourSelector>(objects)
        .unwrap_or_else(|d| panic!("{d:#?}"))
}

fn with(config: Value) -> TestRun {
    TestRun::new().config(config)
}

/// The error messages of a failed run, with the object and field each names.
fn errors(run: TestRun, objects: Vec<Value>) -> String {
    let problems = run
        .run::<ColourSelector>(objects)
        .expect_err("the run should fail");
    assert!(problems.iter().any(Diagnostic::is_error), "{problems:?}");
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

fn warnings(out: &TestOutput) -> Vec<String> {
    out.diagnostics
        .iter()
        .filter(|d| matches!(d.severity, Severity::Warning))
        .map(ToString::to_string)
        .collect()
}

fn named<'a>(out: &'a TestOutput, name: &str) -> &'a Value {
    out.objects
        .iter()
        .find(|o| o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no object {name}"))
}

fn images(object: &Value) -> Vec<&str> {
    let containers = object["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    containers
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect()
}

// --- the switch -----------------------------------------------------------------------

#[test]
fn switching_changes_only_the_colour_key_of_the_selector() {
    let out = run(with(json!({"active": "green"})), magento());
    let mut expected = magento();
    expected[2]["spec"]["selector"]["color"] = json!("green");
    assert_eq!(out.objects, expected);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
}

#[test]
fn switching_back_is_the_rollback() {
    let green = run(with(json!({"active": "green"})), magento()).objects;
    let blue = run(with(json!({"active": "blue"})), green).objects;
    assert_eq!(blue, magento());
}

#[test]
fn services_without_the_key_are_left_alone_by_default() {
    let mut objects = magento();
    objects.push(service("varnish", json!({"app": "varnish"})));
    let out = run(with(json!({"active": "green"})), objects.clone());
    assert_eq!(out.objects[3], objects[3]);
}

#[test]
fn services_can_be_chosen_by_name_or_by_their_labels() {
    let mut objects = magento();
    let mut admin = web_service("magento-admin", "blue");
    admin["metadata"]["labels"]["tier"] = json!("admin");
    objects.push(admin);
    let by_name = run(
        with(json!({"active": "green", "services": {"names": ["magento-admin"]}})),
        objects.clone(),
    );
    assert_eq!(by_name.objects[2]["spec"]["selector"]["color"], "blue");
    assert_eq!(by_name.objects[3]["spec"]["selector"]["color"], "green");
    let by_labels = run(
        with(json!({"active": "green", "services": {"selector": {"tier": "admin"}}})),
        objects,
    );
    assert_eq!(by_labels.objects[2]["spec"]["selector"]["color"], "blue");
    assert_eq!(by_labels.objects[3]["spec"]["selector"]["color"], "green");
}

#[test]
fn a_named_service_must_exist_and_have_a_selector() {
    let missing = errors(
        with(json!({"active": "blue", "services": {"names": ["magento"]}})),
        magento(),
    );
    assert!(
        missing.contains("with.services.names[0]: no Service named `magento`"),
        "{missing}"
    );
    let mut objects = magento();
    objects.push(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
                        "spec": {"type": "ExternalName", "externalName": "db.example.com"}}),
    );
    let selectorless = errors(
        with(json!({"active": "blue", "services": {"names": ["db"]}})),
        objects,
    );
    assert!(
        selectorless.contains("Service db: has no spec.selector"),
        "{selectorless}"
    );
}

#[test]
fn a_custom_key_and_colours() {
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "labels": {"slot": "a"}}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "labels": {"slot": "b"}}}),
        service("svc", json!({"slot": "a"})),
    ];
    let out = run(
        with(json!({"key": "slot", "colours": ["a", "b"], "active": "b"})),
        objects,
    );
    assert_eq!(out.objects[2]["spec"]["selector"], json!({"slot": "b"}));
}

#[test]
fn no_service_to_switch_is_a_warning() {
    let objects = magento()[..2].to_vec();
    let out = run(with(json!({"active": "green"})), objects);
    assert_eq!(warnings(&out).len(), 1);
    assert!(warnings(&out)[0].contains("no Service switches to `green`"));
}

// --- inputs -----------------------------------------------------------------------------

#[test]
fn later_inputs_win_for_the_live_colour() {
    let colour =
        |run_: TestRun| run(run_, magento()).objects[2]["spec"]["selector"]["color"].clone();
    let config = json!({"active": "blue"});
    assert_eq!(colour(with(config.clone())), "blue");
    assert_eq!(
        colour(with(config.clone()).param_str("active-colour", "green")),
        "green"
    );
    let env_wins = with(config.clone())
        .param_str("active-colour", "green")
        .env("ACTIVE_COLOUR", "blue");
    assert_eq!(colour(env_wins), "blue");
    let empty_is_unset = with(config).env("ACTIVE_COLOUR", " ");
    assert_eq!(colour(empty_is_unset), "blue");
    assert_eq!(
        colour(TestRun::new().env("ACTIVE_COLOUR", "green")),
        "green"
    );
}

#[test]
fn an_unknown_colour_is_an_error_listing_the_colours() {
    let from_parameter = errors(with(json!({})).param_str("active-colour", "red"), magento());
    assert!(
        from_parameter
            .contains("parameter `active-colour`: `red` is not one of the colours: blue, green"),
        "{from_parameter}"
    );
    let from_config = TestRun::new()
        .config(json!({"active": "red"}))
        .validate::<ColourSelector>();
    assert_eq!(from_config[0].field.as_deref(), Some("with.active"));
    let list = errors(
        with(json!({})).param("active-colour", ParameterValue::Array(vec!["blue".into()])),
        magento(),
    );
    assert!(list.contains("must be one string"), "{list}");
}

#[test]
fn no_live_colour_at_all_is_an_error() {
    let problems = errors(TestRun::new(), magento());
    assert!(
        problems.contains("no live colour: set with.active"),
        "{problems}"
    );
}

#[test]
fn announces_the_parameters_with_the_colours_in_the_tooltip() {
    let info = ColourSelector::info();
    assert_eq!(info.name, "colour-selector");
    let [active, slots] = info.parameters.as_slice() else {
        panic!("two parameters: {:?}", info.parameters);
    };
    assert_eq!(active.name, "active-colour");
    assert!(matches!(active.kind, ParameterKind::String));
    assert!(
        active.tooltip.contains("blue or green"),
        "{}",
        active.tooltip
    );
    assert_eq!(slots.name, "slot-images");
    assert!(matches!(slots.kind, ParameterKind::Map));
}

#[test]
fn validation_names_each_bad_field() {
    let fields = |config: Value| -> Vec<String> {
        TestRun::new()
            .config(config)
            .validate::<ColourSelector>()
            .into_iter()
            .map(|d| d.field.unwrap_or_default())
            .collect()
    };
    assert_eq!(fields(json!({"key": "a b"})), ["with.key"]);
    assert_eq!(fields(json!({"colours": ["blue"]})), ["with.colours"]);
    assert_eq!(
        fields(json!({"colours": ["blue", "blue"]})),
        ["with.colours[1]"]
    );
    assert_eq!(
        fields(json!({"colours": ["blue", "not ok"]})),
        ["with.colours[1]"]
    );
    assert_eq!(fields(json!({"services": {}})), ["with.services"]);
    assert_eq!(
        fields(json!({"slots": {"red": {"images": []}}})),
        ["with.slots.red"]
    );
    assert_eq!(fields(json!({"preview": {}})), ["with.preview"]);
    let unknown = TestRun::new()
        .config(json!({"activeColour": "blue"}))
        .validate::<ColourSelector>();
    assert!(
        unknown[0].message.contains("unknown field `activeColour`"),
        "{unknown:?}"
    );
}

// --- safety: the live colour must be able to serve ---------------------------------------

#[test]
fn refuses_a_live_colour_no_workload_carries() {
    let objects = vec![
        deployment("magento-web-blue", "blue", 2),
        web_service("magento-svc", "blue"),
    ];
    let problems = errors(
        with(json!({"active": "blue"})).env("ACTIVE_COLOUR", "green"),
        objects,
    );
    assert!(
        problems.contains(
            "refusing to make `green` live (from ARGOCD_ENV_ACTIVE_COLOUR): no workload carries \
             color=green; workloads carry blue"
        ),
        "{problems}"
    );
}

#[test]
fn refuses_a_live_colour_whose_workloads_all_have_zero_replicas() {
    let mut objects = magento();
    objects[1]["spec"]["replicas"] = json!(0);
    let problems = errors(with(json!({"active": "green"})), objects);
    assert!(
        problems
            .contains("Deployment magento-web-green: spec.replicas: refusing to make `green` live"),
        "{problems}"
    );
}

#[test]
fn idle_replicas_never_scale_the_colour_going_live() {
    // Green was idle at 0; making it live takes the manifests' replicas and scales blue.
    let out = run(
        with(json!({"active": "green", "idleReplicas": 0})),
        magento(),
    );
    assert_eq!(named(&out, "magento-web-green")["spec"]["replicas"], 2);
    assert_eq!(named(&out, "magento-web-blue")["spec"]["replicas"], 0);
    assert_eq!(
        named(&out, "magento-svc")["spec"]["selector"]["color"],
        "green"
    );
}

#[test]
fn refuses_a_live_service_that_would_select_only_scaled_down_pods() {
    // The green cron worker runs, but the green web tier the Service selects does not.
    let mut objects = magento();
    objects[1]["spec"]["replicas"] = json!(0);
    let mut cron = deployment("magento-cron-green", "green", 1);
    cron["spec"]["template"]["metadata"]["labels"]["app"] = json!("magento-cron");
    objects.push(cron);
    let problems = errors(with(json!({"active": "green"})), objects);
    assert!(
        problems.contains(
            "Service magento-svc: spec.selector: selects app=magento-web, color=green, but every \
             workload with such pods has 0 replicas: Deployment magento-web-green"
        ),
        "{problems}"
    );
}

// --- preview -----------------------------------------------------------------------------

fn with_preview_service() -> Vec<Value> {
    let mut objects = magento();
    objects.push(web_service("magento-stage", "blue"));
    objects
}

#[test]
fn preview_services_point_at_the_idle_colour() {
    let config = json!({"active": "blue", "preview": {"names": ["magento-stage"]}});
    let out = run(with(config.clone()), with_preview_service());
    assert_eq!(
        named(&out, "magento-svc")["spec"]["selector"]["color"],
        "blue"
    );
    assert_eq!(
        named(&out, "magento-stage")["spec"]["selector"]["color"],
        "green"
    );
    let switched = run(
        with(config).param_str("active-colour", "green"),
        with_preview_service(),
    );
    assert_eq!(
        named(&switched, "magento-svc")["spec"]["selector"]["color"],
        "green"
    );
    assert_eq!(
        named(&switched, "magento-stage")["spec"]["selector"]["color"],
        "blue"
    );
}

#[test]
fn the_preview_never_points_at_the_live_colour() {
    let config =
        json!({"active": "blue", "preview": {"colour": "green", "names": ["magento-stage"]}});
    let problems = errors(
        with(config).param_str("active-colour", "green"),
        with_preview_service(),
    );
    assert!(
        problems.contains(
            "with.preview.colour: the preview colour `green` is the live colour (from parameter \
             `active-colour`)"
        ),
        "{problems}"
    );
    let both = TestRun::new()
        .config(
            json!({"services": {"names": ["magento-svc"]}, "preview": {"names": ["magento-svc"]}}),
        )
        .validate::<ColourSelector>();
    assert!(
        both[0]
            .message
            .contains("preview would point at the live colour"),
        "{both:?}"
    );
    let same = TestRun::new()
        .config(json!({"active": "green", "preview": {"colour": "green", "names": ["x"]}}))
        .validate::<ColourSelector>();
    assert!(same[0].message.contains("is the live colour"), "{same:?}");
}

#[test]
fn with_more_than_two_colours_the_preview_colour_is_named() {
    let ambiguous = TestRun::new()
        .config(json!({"colours": ["blue", "green", "red"], "preview": {"names": ["x"]}}))
        .validate::<ColourSelector>();
    assert_eq!(ambiguous[0].field.as_deref(), Some("with.preview.colour"));
}

fn generate(config: Value) -> Value {
    json!({"active": "blue", "preview": {"generate": config}})
}

#[test]
fn generates_a_preview_service_and_ingress_for_the_idle_colour() {
    let config = generate(json!({"host": "stage-{colour}.example.com", "ingressClassName": "alb"}));
    let out = run(with(config), magento());
    assert_eq!(out.objects.len(), 5);
    assert_eq!(
        out.objects[3],
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "magento-svc-preview", "labels": {"app": "magento-web"}},
            "spec": {"selector": {"app": "magento-web", "color": "green"},
                     "ports": [{"port": 80, "targetPort": 80}]}
        })
    );
    assert_eq!(
        out.objects[4],
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "magento-svc-preview", "labels": {"app": "magento-web"}},
            "spec": {"ingressClassName": "alb", "rules": [{"host": "stage-green.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {
                    "name": "magento-svc-preview", "port": {"number": 80}}}}
            ]}}]}
        })
    );
}

#[test]
fn a_generated_preview_can_name_its_port() {
    let out = run(
        with(generate(
            json!({"host": "stage.example.com", "servicePort": "http"}),
        )),
        magento(),
    );
    let backend = &out.objects[4]["spec"]["rules"][0]["http"]["paths"][0]["backend"];
    assert_eq!(backend["service"]["port"], json!({"name": "http"}));
}

#[test]
fn generating_needs_one_live_service_and_a_free_name() {
    let host = json!({"host": "stage-{colour}.example.com"});
    let two = errors(with(generate(host.clone())), with_preview_service());
    assert!(
        two.contains("needs exactly one switching Service to copy, found 2"),
        "{two}"
    );
    let mut taken = magento();
    taken.push(web_service("magento-svc-preview", "green"));
    let config = json!({"active": "blue", "services": {"names": ["magento-svc"]},
                        "preview": {"generate": host}});
    let clash = errors(with(config), taken);
    assert!(
        clash.contains("would generate `magento-svc-preview`"),
        "{clash}"
    );
    let bad_host = TestRun::new()
        .config(generate(json!({"host": "stage_{colour}.example.com"})))
        .validate::<ColourSelector>();
    assert!(
        bad_host[0].message.contains("is not a host name"),
        "{bad_host:?}"
    );
}

// --- Argo Rollouts ---------------------------------------------------------------------------

fn rollout() -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web"},
           "spec": {"strategy": {"blueGreen": {"activeService": "web-active", "previewService": "web-preview"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}}})
}

#[test]
fn never_touches_a_service_argo_rollouts_manages() {
    let mut annotated = web_service("annotated", "blue");
    annotated["metadata"]["annotations"] =
        json!({"argo-rollouts.argoproj.io/managed-by-rollouts": "web"});
    let hashed = service(
        "hashed",
        json!({"app": "web", "color": "blue", "rollouts-pod-template-hash": "abc"}),
    );
    let referenced = service("web-active", json!({"app": "web", "color": "blue"}));
    let mut objects = magento();
    objects.extend([annotated, hashed, referenced, rollout()]);
    let out = run(with(json!({"active": "green"})), objects.clone());
    assert_eq!(&out.objects[3..], &objects[3..]);
    assert_eq!(out.objects[2]["spec"]["selector"]["color"], "green");
    let notes: Vec<String> = out.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(
        notes[0].starts_with("info: Service annotated: is managed by Argo Rollouts"),
        "{notes:?}"
    );
    assert!(
        notes[1].contains("its selector has rollouts-pod-template-hash"),
        "{notes:?}"
    );
    assert!(
        notes[2].contains("Rollout `web` names it in spec.strategy.blueGreen.activeService"),
        "{notes:?}"
    );
}

#[test]
fn naming_a_service_argo_rollouts_manages_is_an_error() {
    let mut objects = magento();
    objects.extend([
        service("web-preview", json!({"app": "web", "color": "blue"})),
        rollout(),
    ]);
    let config = json!({"active": "blue", "preview": {"names": ["web-preview"]}});
    let problems = errors(with(config), objects);
    assert!(
        problems.contains("Service web-preview: is managed by Argo Rollouts (Rollout `web` names it in spec.strategy.blueGreen.previewService)"),
        "{problems}"
    );
}

#[test]
fn a_rollout_of_another_namespace_does_not_claim_the_service() {
    let mut other = rollout();
    other["metadata"]["namespace"] = json!("other");
    let mut active = web_service("web-active", "blue");
    active["metadata"]["namespace"] = json!("stage");
    let mut objects = magento();
    objects.extend([active, other]);
    let out = run(with(json!({"active": "green"})), objects);
    assert_eq!(
        named(&out, "web-active")["spec"]["selector"]["color"],
        "green"
    );
}

// --- warnings about selectors ----------------------------------------------------------------

#[test]
fn warns_when_a_service_selects_a_colour_no_workload_carries() {
    let objects = vec![
        deployment("magento-web-blue", "blue", 2),
        web_service("magento-svc", "blue"),
        web_service("magento-stage", "blue"),
    ];
    let config = json!({"active": "blue", "preview": {"names": ["magento-stage"]}});
    let out = run(with(config), objects);
    assert_eq!(
        warnings(&out),
        [
            "warning: Service magento-stage: spec.selector: selects app=magento-web, color=green, \
          but no workload among the objects runs such pods"
        ]
    );
}

#[test]
fn warns_when_the_preview_selects_only_scaled_down_pods() {
    let config =
        json!({"active": "blue", "idleReplicas": 0, "preview": {"names": ["magento-stage"]}});
    let out = run(with(config), with_preview_service());
    let found = warnings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("magento-stage"), "{found:?}");
    assert!(
        found[0].contains("has 0 replicas: Deployment magento-web-green"),
        "{found:?}"
    );
}

#[test]
fn warns_when_an_object_and_its_pods_disagree_on_the_colour() {
    let mut objects = magento();
    objects[1]["metadata"]["labels"]["color"] = json!("blue");
    let out = run(with(json!({"active": "blue"})), objects);
    assert_eq!(
        warnings(&out),
        [
            "warning: Deployment magento-web-green: metadata.labels.color: labelled color=blue, but \
          its pods are labelled color=green: Services route by the pods' label, so this belongs \
          to green"
        ]
    );
}

// --- slots ---------------------------------------------------------------------------------

#[test]
fn slot_images_apply_only_to_their_colour() {
    let config = json!({"active": "blue", "slots": {"green": {"images": [
        "magento:2.4.8",
        {"name": "nginx", "newName": "registry.example.com/nginx", "newTag": "1.28"}
    ]}}});
    let out = run(with(config), magento());
    assert_eq!(
        images(named(&out, "magento-web-blue")),
        ["nginx:1.27", "magento:2.4.7"]
    );
    assert_eq!(
        images(named(&out, "magento-web-green")),
        ["registry.example.com/nginx:1.28", "magento:2.4.8"]
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
}

#[test]
fn slot_images_stay_with_their_slot_after_the_switch() {
    let config = json!({"active": "green", "slots": {"green": {"images": ["magento:2.4.8"]}}});
    let out = run(with(config), magento());
    assert_eq!(images(named(&out, "magento-web-green"))[1], "magento:2.4.8");
    assert_eq!(images(named(&out, "magento-web-blue"))[1], "magento:2.4.7");
}

#[test]
fn slot_images_from_the_parameter_and_env_win_by_image_name() {
    let config =
        json!({"active": "blue", "slots": {"green": {"images": ["magento:2.4.8", "nginx:1.28"]}}});
    let pairs = vec![("green".to_owned(), "magento:2.4.9".to_owned())];
    let parameter = with(config.clone()).param("slot-images", ParameterValue::Map(pairs.clone()));
    let out = run(parameter, magento());
    assert_eq!(
        images(named(&out, "magento-web-green")),
        ["nginx:1.28", "magento:2.4.9"]
    );
    let env = with(config)
        .param("slot-images", ParameterValue::Map(pairs))
        .env(
            "SLOT_IMAGES_GREEN",
            "magento=registry.example.com/magento:*",
        );
    let out = run(env, magento());
    assert_eq!(
        images(named(&out, "magento-web-green")),
        ["nginx:1.28", "registry.example.com/magento:2.4.9"]
    );
    assert_eq!(
        images(named(&out, "magento-web-blue")),
        ["nginx:1.27", "magento:2.4.7"]
    );
}

#[test]
fn bad_slot_images_are_errors_naming_the_input() {
    let config = json!({"active": "blue", "slots": {"green": {"images": [42, "magento@latest"]}}});
    let found: Vec<String> = TestRun::new()
        .config(config)
        .validate::<ColourSelector>()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("error: with.slots.green.images[0]: an image is"),
        "{found:?}"
    );
    assert!(found[1].contains("digest `latest` is invalid"), "{found:?}");
    let unknown = ParameterValue::Map(vec![("red".into(), "magento:1".into())]);
    let problems = errors(
        with(json!({"active": "blue"})).param("slot-images", unknown),
        magento(),
    );
    assert!(
        problems.contains("parameter `slot-images` key `red`: `red` is not one of the colours"),
        "{problems}"
    );
    let env = errors(
        with(json!({"active": "blue"})).env("SLOT_IMAGES_GREEN", "magento"),
        magento(),
    );
    assert!(
        env.contains("ARGOCD_ENV_SLOT_IMAGES_GREEN item 1: `magento`"),
        "{env}"
    );
}

#[test]
fn a_slot_image_that_matches_nothing_in_its_slot_is_a_warning() {
    let config = json!({"active": "blue", "slots": {"green": {"images": ["varnish:7"]}}});
    let out = run(with(config), magento());
    assert_eq!(
        warnings(&out),
        [
            "warning: with.slots.green.images[0]: image `varnish` matched no container of the green \
          slot (color=green)"
        ]
    );
}

// --- idle replicas ---------------------------------------------------------------------------

#[test]
fn idle_replicas_scale_the_idle_workloads_and_warn_about_the_unscalable() {
    let mut objects = magento();
    objects.push(json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent-green"},
        "spec": {"template": {"metadata": {"labels": {"color": "green"}}, "spec": {"containers": []}}}}));
    let out = run(
        with(json!({"active": "blue", "idleReplicas": 0})),
        objects.clone(),
    );
    assert_eq!(named(&out, "magento-web-green")["spec"]["replicas"], 0);
    assert_eq!(named(&out, "magento-web-blue")["spec"]["replicas"], 2);
    assert_eq!(out.objects[3], objects[3]);
    assert_eq!(
        warnings(&out),
        [
            "warning: DaemonSet agent-green: idleReplicas cannot scale a DaemonSet: it keeps running \
          while idle"
        ]
    );
    let kept = run(with(json!({"active": "blue"})), magento());
    assert_eq!(named(&kept, "magento-web-green")["spec"]["replicas"], 2);
}

// --- codes ------------------------------------------------------------------------------

/// The codes of a failed run's errors.
fn error_codes(run: TestRun, objects: Vec<Value>) -> Vec<String> {
    let problems = run
        .run::<ColourSelector>(objects)
        .expect_err("the run should fail");
    problems
        .iter()
        .filter(|d| d.is_error())
        .filter_map(|d| d.code.clone())
        .collect()
}

#[test]
fn errors_carry_stable_codes() {
    assert_eq!(
        error_codes(TestRun::new(), magento()),
        ["colour-selector/no-live-colour"]
    );
    assert_eq!(
        error_codes(with(json!({})).param_str("active-colour", "red"), magento()),
        ["colour-selector/unknown-colour"]
    );
    let list = ParameterValue::Array(vec!["blue".into()]);
    assert_eq!(
        error_codes(with(json!({})).param("active-colour", list), magento()),
        ["colour-selector/parameter-not-a-string"]
    );
    let invalid = TestRun::new()
        .config(json!({"key": "not a key", "colours": ["blue"]}))
        .validate::<ColourSelector>();
    let codes: Vec<&str> = invalid.iter().filter_map(|d| d.code.as_deref()).collect();
    assert_eq!(
        codes,
        [
            "colour-selector/invalid-key",
            "colour-selector/too-few-colours"
        ]
    );
    let nothing_runs_green = vec![
        deployment("magento-web-blue", "blue", 2),
        web_service("magento-svc", "blue"),
    ];
    assert_eq!(
        error_codes(with(json!({"active": "green"})), nothing_runs_green),
        ["colour-selector/live-colour-not-running"]
    );
}
