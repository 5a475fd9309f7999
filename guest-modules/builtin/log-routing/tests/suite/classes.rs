//! Every line class of issue #17 item 1, run through the seed's L1/L2 config (the
//! `l1-l2` golden case, the magento monitoring app's table) on the DaemonSet the module
//! emits. Each reaches the tier the rules table of docs/log-routing.md names (computed by
//! `harness::expected`, not by the module). No line of a pod that declares only L2 channels
//! reaches Loki, and a line of a pod declaring any L2 channel reaches Loki only when it
//! names an L1 channel its pod declares.

use serde_json::Value;

use crate::eval::{Delivery, Pod, Runtime, Written, stdout};
use crate::golden::golden;
use crate::harness::{
    Rendered, alloy_env, assert_routed, checked, env_refs, expected, is_loki, line_naming,
    pod_label, sink_of,
};

const WEB: &[&str] = &["admin_auth", "customer_pii", "http", "payment"];

struct Seed {
    config: Value,
    rendered: Rendered,
}

impl Seed {
    fn new() -> Self {
        let (config, rendered) = golden("l1-l2");
        Self { config, rendered }
    }

    /// Runs `check` with a runtime on node-a, where the DaemonSet's env says it runs.
    fn on_node_a(&self, check: impl FnOnce(&Runtime)) {
        let parsed = checked(&self.rendered.text);
        let env = alloy_env(&self.config, &self.rendered.objects, "node-a");
        let env = env_refs(&env);
        check(&Runtime::new(&parsed, &env));
    }

    /// Asserts the output of a pod declaring `declared` becomes one entry in the tier the
    /// rules name for a line naming `line_channel`, and that a pod declaring an L2 channel
    /// reaches Loki only with a line positively L1.
    fn assert_class(
        &self,
        runtime: &Runtime,
        declared: Option<&[&str]>,
        written: &[Written],
        line_channel: Option<&str>,
    ) -> String {
        let key = pod_label(&self.config);
        let value = declared.map(|d| d.join("."));
        let labels: Vec<(&str, &str)> = value.iter().map(|v| (key.as_str(), v.as_str())).collect();
        let pod = Pod {
            namespace: "magento-stage",
            name: "magento-web-blue-7d9f-x2",
            uid: "5b1e7c2a-0d4f-4c1e-9a57-3f2b8e1d6c90",
            container: "php-fpm",
            node: "node-a",
            labels: &labels,
        };
        let (tier, channel) = expected(&self.config, declared, line_channel);
        let declares_l2 = declared.is_some_and(|d| {
            d.iter()
                .any(|c| expected(&self.config, Some(&[c]), None).0 == "l2")
        });
        let positively_l1 = line_channel.is_some_and(|c| {
            declared.unwrap_or_default().contains(&c) && channel.as_deref() == Some(c)
        });
        assert!(
            !(declares_l2 && is_loki(&self.config, &tier)) || positively_l1,
            "the rules would send a line of a pod declaring an L2 channel to Loki unclassified"
        );
        let sink = sink_of(&self.config, &tier);
        assert_routed(
            runtime,
            &self.config,
            &pod,
            written,
            &sink,
            channel.as_deref(),
        )
    }
}

#[test]
fn a_line_naming_a_declared_channel_goes_to_its_tier() {
    let seed = Seed::new();
    seed.on_node_a(|runtime| {
        for channel in WEB {
            let line = line_naming(&seed.config, channel);
            seed.assert_class(runtime, Some(WEB), &stdout(&[&line]), Some(channel));
        }
        let http = line_naming(&seed.config, "http");
        let entry = seed.assert_class(runtime, Some(WEB), &stdout(&[&http]), Some("http"));
        assert_eq!(entry, http, "the line reaches Loki as written");
    });
}

#[test]
fn lines_of_a_mixed_pod_without_a_recognisable_channel_go_to_l2() {
    let seed = Seed::new();
    let nested = r#"{"message":"GET /checkout","context":{"channel":"http"}}"#;
    let cased = r#"{"Channel":"http","message":"GET /"}"#;
    let upper = r#"{"channel":"HTTP","message":"GET /"}"#;
    let php_fpm = r#"[30-Nov-2026 08:00:01] WARNING: [pool www] child 12 said into stderr: "{\"channel\":\"http\"}""#;
    let cron = line_naming(&seed.config, "cron");
    seed.on_node_a(|runtime| {
        for line in [
            "PHP Warning: Undefined index: card",
            nested,
            cased,
            upper,
            php_fpm,
            &cron,
        ] {
            assert_eq!(expected(&seed.config, Some(WEB), None).0, "l2");
            seed.assert_class(runtime, Some(WEB), &stdout(&[line]), None);
        }
    });
}

#[test]
fn a_stack_trace_is_one_entry_in_its_first_lines_tier() {
    let seed = Seed::new();
    let trace = [
        "PHP Fatal error:  Uncaught Exception: card declined in /var/www/Payment.php:42",
        "#0 /var/www/Checkout.php(17): Payment->charge('4111111111111111')",
        "#1 {main}",
        "  thrown in /var/www/Payment.php on line 42",
    ];
    seed.on_node_a(|runtime| {
        let entry = seed.assert_class(runtime, Some(WEB), &stdout(&trace), None);
        assert_eq!(entry, trace.join("\n"), "every frame stays with its error");
        let cron = seed.assert_class(runtime, Some(&["cron"]), &stdout(&trace), None);
        assert_eq!(
            cron,
            trace.join("\n"),
            "an L1-only pod keeps its traces in L1"
        );
    });
}

#[test]
fn a_pod_declaring_only_l2_channels_never_reaches_loki() {
    let seed = Seed::new();
    let http = line_naming(&seed.config, "http");
    seed.on_node_a(|runtime| {
        // The queue consumer carries the platform's own `log-channel: payment` label.
        for declared in [&["payment"][..], &["admin_auth", "payment"]] {
            for line in [http.as_str(), "consumer started", "{\"channel\":\"cron\"}"] {
                seed.assert_class(runtime, Some(declared), &stdout(&[line]), Some("http"));
            }
        }
    });
}

#[test]
fn a_declared_channel_no_route_names_fails_closed() {
    let seed = Seed::new();
    let search = line_naming(&seed.config, "search");
    let http = line_naming(&seed.config, "http");
    seed.on_node_a(|runtime| {
        let declared: &[&str] = &["http", "search"];
        seed.assert_class(runtime, Some(declared), &stdout(&[&search]), Some("search"));
        seed.assert_class(runtime, Some(declared), &stdout(&["plain"]), None);
        seed.assert_class(runtime, Some(declared), &stdout(&[&http]), Some("http"));
    });
}

#[test]
fn pods_without_the_label_go_to_the_default_tier() {
    let seed = Seed::new();
    let payment = line_naming(&seed.config, "payment");
    seed.on_node_a(|runtime| {
        for line in ["GET / 200", payment.as_str()] {
            assert_eq!(expected(&seed.config, None, Some("payment")).0, "l1");
            seed.assert_class(runtime, None, &stdout(&[line]), Some("payment"));
        }
    });
}

#[test]
fn l1_only_pods_and_split_lines_reach_loki() {
    let seed = Seed::new();
    seed.on_node_a(|runtime| {
        seed.assert_class(
            runtime,
            Some(&["cron"]),
            &stdout(&["cron run finished"]),
            None,
        );
        seed.assert_class(runtime, Some(&["cron", "http"]), &stdout(&["plain"]), None);
        // containerd splits long lines: the parts are one entry again before parsing.
        let split = [
            Written {
                stream: "stderr",
                flag: "P",
                content: "{\"channel\":\"ht",
            },
            Written {
                stream: "stderr",
                flag: "F",
                content: "tp\",\"message\":\"GET /\"}",
            },
        ];
        let line = seed.assert_class(runtime, Some(WEB), &split, Some("http"));
        assert_eq!(line, "{\"channel\":\"http\",\"message\":\"GET /\"}");
    });
}

#[test]
fn only_this_nodes_pods_are_read() {
    let seed = Seed::new();
    let parsed = checked(&seed.rendered.text);
    let key = pod_label(&seed.config);
    let labels = [(key.as_str(), "http")];
    let pod = Pod {
        namespace: "magento-stage",
        name: "web-1",
        uid: "uid-1",
        container: "nginx",
        node: "node-b",
        labels: &labels,
    };
    let env = alloy_env(&seed.config, &seed.rendered.objects, "node-a");
    let env = env_refs(&env);
    assert!(
        Runtime::new(&parsed, &env)
            .deliver(&pod, &stdout(&["x"]))
            .is_empty()
    );
    let on_b = alloy_env(&seed.config, &seed.rendered.objects, "node-b");
    let on_b = env_refs(&on_b);
    assert_eq!(
        Runtime::new(&parsed, &on_b)
            .deliver(&pod, &stdout(&["x"]))
            .len(),
        1
    );
    // Without NODE_NAME (HOSTNAME is the pod name in a DaemonSet) nothing is read at all:
    // the render refuses such a DaemonSet (kit::requirements).
    let hostname_only = [("HOSTNAME", "alloy-x7k2p")];
    assert!(
        Runtime::new(&parsed, &hostname_only)
            .deliver(&pod, &stdout(&["x"]))
            .is_empty()
    );
}

#[test]
fn each_reader_feeds_exactly_one_tier() {
    // Separate readers keep tiers independent: a Loki outage blocks only the reader whose
    // lines go to Loki. Each reader, given lines of every class, reaches one sink only.
    let seed = Seed::new();
    let parsed = checked(&seed.rendered.text);
    let readers: Vec<_> = parsed.components_of("loki.source.file").collect();
    assert_eq!(readers.len(), 2, "one reader per tier");
    seed.on_node_a(|runtime| {
        let key = pod_label(&seed.config);
        let value = WEB.join(".");
        let labels = [(key.as_str(), value.as_str())];
        let pod = Pod {
            namespace: "magento-stage",
            name: "web-1",
            uid: "uid-1",
            container: "php-fpm",
            node: "node-a",
            labels: &labels,
        };
        let lines: Vec<String> = ["http", "payment"]
            .iter()
            .map(|c| line_naming(&seed.config, c))
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let deliveries: Vec<Delivery> = runtime.deliver(&pod, &stdout(&lines));
        let sinks: Vec<&str> = deliveries.iter().map(|d| d.sink.as_str()).collect();
        assert_eq!(
            sinks,
            ["loki.write.tier_l1", "otelcol.exporter.awss3.tier_l2"],
            "one entry per tier, each from its own reader"
        );
    });
}
