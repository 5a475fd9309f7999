//! Randomized routing tables (a fixed-seed generator, so failures reproduce): every valid
//! table must render a config that checks, routes every channel (routed, unrouted, absent)
//! to exactly the tier the table names, honours node-locality, and renders the same bytes
//! whatever the order of its tiers. Broken tables must be refused at the field at fault.

use argocd_wasm_sdk::testing::TestRun;
use log_routing::LogRouting;
use serde_json::{Value, json};

use crate::eval::{Pod, Runtime};
use crate::harness::{
    assert_routed, checked, expected_tier, known_channels, line_naming, pod_label, render, sink_of,
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
    "argocd-wasm-plugin.io/log-channels",
    "channels",
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
        "routes": routes,
        "labels": {"channel": rng.pick(CHANNEL_LABELS), "pod": rng.pick(POD_LABELS)},
        "lines": {"format": rng.pick(&["json", "logfmt"]), "field": rng.pick(&["channel", "chan", "log.channel"])},
        "alloy": {"nodeLocal": rng.chance(50)},
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
    let alloy = json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "alloy", "namespace": "monitoring"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "alloy", "image": "grafana/alloy", "args": ["run", "--stability.level=experimental"]}
        ]}}}
    });
    vec![shop, alloy]
}

/// Every kind of line a table must route: each channel from a pod declaring it alone, each
/// channel named by a line of a pod declaring several, unknown and absent channels, and
/// lines of pods that declare nothing (whose own channel fields are not trusted).
fn check_routing(table: &Value, text: &str) {
    let parsed = checked(text);
    let runtime = Runtime::new(&parsed, "node-a");
    let key = pod_label(table);
    let sink = |channel: Option<&str>| sink_of(table, &expected_tier(table, channel));
    let all = CHANNELS.join(".");
    let several = [(key.as_str(), all.as_str())];
    let mixed = Pod {
        namespace: "shop",
        name: "shop-1",
        container: "php",
        node: "node-a",
        labels: &several,
    };
    let undeclared = Pod {
        labels: &[],
        ..mixed
    };
    let known = known_channels(table);
    for channel in CHANNELS.iter().copied().chain(["zz_unknown"]) {
        let line = line_naming(table, channel);
        // A line may only name a channel the table knows; others keep the pod's (none).
        let named = known.iter().any(|k| k == channel).then_some(channel);
        assert_routed(&runtime, table, &mixed, &line, &sink(named), named);
        assert_routed(&runtime, table, &undeclared, &line, &sink(None), None);
        let alone = [(key.as_str(), channel)];
        let single = Pod {
            labels: &alone,
            ..mixed
        };
        assert_routed(
            &runtime,
            table,
            &single,
            "plain",
            &sink(Some(channel)),
            Some(channel),
        );
    }
    assert_routed(&runtime, table, &mixed, "plain", &sink(None), None);
    let elsewhere = Pod {
        node: "node-b",
        ..mixed
    };
    let expected = if table["alloy"]["nodeLocal"] == true {
        0
    } else {
        1
    };
    assert_eq!(
        runtime.deliver(&elsewhere, "plain").len(),
        expected,
        "node-local"
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
        check_routing(&table, &rendered.text);

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
