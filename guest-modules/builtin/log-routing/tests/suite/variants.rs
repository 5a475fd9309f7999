//! Randomized routing tables (a fixed-seed generator, so failures reproduce): every valid
//! table must render a config that checks, routes every line (named channel declared or
//! not, routed or not, absent; pods declaring one, several or no channels) to exactly the
//! tier the rules table names, reads only its node's pods, and renders the same bytes
//! whatever the order of its tiers. Broken tables must be refused at the field at fault.

use argocd_wasm_sdk::testing::TestRun;
use log_routing::LogRouting;
use serde_json::{Value, json};

use crate::eval::{Pod, Runtime, stdout};
use crate::harness::{
    alloy_env, assert_routed, assert_stability_admitted, checked, env_refs, expected, line_naming,
    pod_label, render, routed_channels, sink_of,
};

/// xorshift64*: small, deterministic, good enough to shuffle test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A random subset in random order, at least `min` long.
    fn subset<'a>(&mut self, items: &[&'a str], min: usize) -> Vec<&'a str> {
        let mut pool = items.to_vec();
        let mut chosen = Vec::new();
        while !pool.is_empty() && (chosen.len() < min || self.chance(50)) {
            chosen.push(pool.remove(self.below(pool.len())));
        }
        chosen
    }
}

const TIERS: &[&str] = &[
    "l1", "l2", "l3", "archive", "audit", "app", "_cold", "Tier9",
];
const CHANNELS: &[&str] = &[
    "payment",
    "admin_auth",
    "customer_pii",
    "http",
    "cron",
    "db-migration",
    "auth_session",
    "x1",
];
const CHANNEL_LABELS: &[&str] = &["channel", "log_channel", "_ch", "Channel2"];
const POD_LABELS: &[&str] = &[
    "log-channel",
    "argocd-wasm-plugin.io/log-channels",
    "logging.example.com/x_y",
];
/// Values that must survive quoting: quotes, backslashes, a line break, a brace.
const AWKWARD: &[&str] = &[
    "plain",
    "with \"quotes\"",
    "back\\slash",
    "line\nbreak }",
    "ünïcode",
];

fn destination(rng: &mut Rng) -> (&'static str, Value) {
    let awkward = rng.pick(AWKWARD);
    if rng.chance(50) {
        let mut loki = json!({"url": format!("https://loki.example/{awkward}")});
        if rng.chance(50) {
            loki["tenantId"] = json!(awkward);
        }
        ("loki", loki)
    } else {
        let encryption = if rng.chance(50) {
            json!({"type": "sse-kms", "kmsKeyId": format!("alias/{awkward}")})
        } else {
            json!({"type": "sse-s3"})
        };
        let s3 = json!({"bucket": "logs", "region": "eu-west-1", "prefix": awkward, "encryption": encryption});
        ("s3", s3)
    }
}

fn random_table(rng: &mut Rng) -> Value {
    let names = rng.subset(TIERS, 1);
    let tiers: Vec<Value> = names
        .iter()
        .map(|name| {
            let (kind, destination) = destination(rng);
            json!({"name": name, kind: destination})
        })
        .collect();
    let default = rng.pick(&names);
    let unclassified = rng.pick(&names);
    let mut routes = serde_json::Map::new();
    for channel in CHANNELS {
        if !rng.chance(60) {
            continue;
        }
        let tier = rng.pick(&names);
        let entry = routes.entry(tier).or_insert_with(|| json!([]));
        entry.as_array_mut().unwrap().push(json!(channel));
    }
    // A pod label value holds at most 63 characters: a few channels per workload.
    let mut declared = rng.subset(CHANNELS, 1);
    declared.truncate(3);
    json!({
        "tiers": tiers,
        "defaultTier": default,
        "unclassifiedTier": unclassified,
        "routes": routes,
        "labels": {"channel": rng.pick(CHANNEL_LABELS), "pod": rng.pick(POD_LABELS)},
        "lines": {"format": rng.pick(&["json", "logfmt"]), "field": rng.pick(&["channel", "chan", "log.channel"])},
        "alloy": {"roleArn": "arn:aws:iam::123456789012:role/alloy"},
        "workloads": [{"kind": "Deployment", "name": "shop", "channels": declared}],
    })
}

fn inputs() -> Vec<Value> {
    let shop = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {"template": {"metadata": {"labels": {"app": "shop"}},
                 "spec": {"containers": [{"name": "php", "image": "shop:1"}]}}}
    });
    vec![shop]
}

/// Every kind of line a table must route: each channel named by a line of a pod declaring
/// all channels, of a pod declaring it alone, of a pod declaring nothing; unknown and
/// absent channels; and the same pod seen from another node.
fn check_routing(table: &Value, rendered: &crate::harness::Rendered) {
    let parsed = checked(&rendered.text);
    let env = alloy_env(table, &rendered.objects, "node-a");
    let env = env_refs(&env);
    let runtime = Runtime::new(&parsed, &env);
    let key = pod_label(table);
    let route = |declared: Option<&[&str]>, line_channel: Option<&str>| {
        let (tier, channel) = expected(table, declared, line_channel);
        (sink_of(table, &tier), channel)
    };
    let all = CHANNELS.join(".");
    let several = [(key.as_str(), all.as_str())];
    let mixed = Pod {
        namespace: "shop",
        name: "shop-1",
        uid: "7c0d2a1e-1111-2222-3333-444455556666",
        container: "php",
        node: "node-a",
        labels: &several,
    };
    let undeclared = Pod {
        labels: &[],
        ..mixed
    };
    let routed = routed_channels(table);
    assert!(routed.iter().all(|c| CHANNELS.contains(&c.as_str())));
    for channel in CHANNELS.iter().copied().chain(["zz_unknown"]) {
        let line = line_naming(table, channel);
        let (sink, label) = route(Some(CHANNELS), Some(channel));
        assert_routed(
            &runtime,
            table,
            &mixed,
            &stdout(&[&line]),
            &sink,
            label.as_deref(),
        );
        let (sink, label) = route(None, Some(channel));
        assert_routed(
            &runtime,
            table,
            &undeclared,
            &stdout(&[&line]),
            &sink,
            label.as_deref(),
        );
        let alone = [(key.as_str(), channel)];
        let single = Pod {
            labels: &alone,
            ..mixed
        };
        let (sink, label) = route(Some(&[channel]), None);
        assert_routed(
            &runtime,
            table,
            &single,
            &stdout(&["plain"]),
            &sink,
            label.as_deref(),
        );
    }
    let (sink, label) = route(Some(CHANNELS), None);
    assert_routed(
        &runtime,
        table,
        &mixed,
        &stdout(&["plain"]),
        &sink,
        label.as_deref(),
    );
    let elsewhere = Pod {
        node: "node-b",
        ..mixed
    };
    assert!(
        runtime.deliver(&elsewhere, &stdout(&["plain"])).is_empty(),
        "only this node's pods"
    );
}

#[test]
fn random_tables_render_configs_that_check_and_route_exactly_once() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for round in 0..150 {
        let table = random_table(&mut rng);
        let findings = TestRun::new()
            .config(table.clone())
            .validate::<LogRouting>();
        assert!(
            !findings.iter().any(|d| d.is_error()),
            "round {round}: {findings:?}\n{table:#}"
        );
        let rendered = render(&table, inputs());
        check_routing(&table, &rendered);
        assert_stability_admitted(&table, &rendered);

        let mut reversed = table.clone();
        reversed["tiers"].as_array_mut().unwrap().reverse();
        assert_eq!(
            render(&reversed, inputs()).text,
            rendered.text,
            "round {round}: tier order changed the output"
        );
        assert_eq!(
            render(&table, inputs()).objects,
            rendered.objects,
            "round {round}"
        );
    }
}

/// One defect, the field path its error must name, and a word the message must contain.
type Defect = (fn(&mut Value), &'static str, &'static str);

const DEFECTS: &[Defect] = &[
    (
        |t| {
            t.as_object_mut().unwrap().remove("unclassifiedTier");
        },
        "with.unclassifiedTier",
        "is required",
    ),
    (
        |t| t["defaultTier"] = json!("nowhere"),
        "with.defaultTier",
        "unknown tier",
    ),
    (
        |t| t["routes"]["ghost"] = json!(["payment"]),
        "with.routes.ghost",
        "unknown tier",
    ),
    (
        |t| {
            let first = t["tiers"][0]["name"].clone();
            let second = json!("zz_second");
            t["tiers"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": second, "loki": {"url": "http://l"}}));
            t["routes"] = json!({first.as_str().unwrap(): ["dup"], "zz_second": ["dup"]});
        },
        "with.routes.zz_second[0]",
        "two tiers",
    ),
    (
        |t| t["labels"]["channel"] = json!("log-channel"),
        "with.labels.channel",
        "[a-zA-Z_]",
    ),
    (
        |t| t["labels"]["pod"] = json!("Bad Key"),
        "with.labels.pod",
        "label key",
    ),
    (
        |t| {
            t["tiers"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "naked", "s3": {"bucket": "b", "region": "r", "prefix": "p"}}))
        },
        "s3.encryption",
        "encryption",
    ),
];

#[test]
fn random_tables_with_a_defect_are_refused_at_the_field() {
    let mut rng = Rng(0x0bad_cafe_f00d_0002);
    for round in 0..60 {
        let mut table = random_table(&mut rng);
        let (break_it, field, word) = DEFECTS[round % DEFECTS.len()];
        break_it(&mut table);
        let findings = TestRun::new()
            .config(table.clone())
            .validate::<LogRouting>();
        let found = findings.iter().any(|d| {
            d.is_error()
                && d.field
                    .as_deref()
                    .is_some_and(|f| f.ends_with(field) || f == field)
                && d.message.contains(word)
        });
        assert!(
            found,
            "round {round}: expected an error at {field}: {findings:#?}\n{table:#}"
        );
        let refused = TestRun::new()
            .config(table.clone())
            .run::<LogRouting>(inputs());
        assert!(
            refused.is_err(),
            "round {round}: the transform must refuse it too"
        );
    }
}
