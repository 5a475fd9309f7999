//! Parses and emits a 3 MiB manifest stream (the magento stage fixture, copied with new
//! names) with the host's YAML module and with serde_norway, interleaved, and prints the
//! medians. The host module is compiled in from its source.
//!
//! `yaml-bench floor FILE [RUNS]` prints instead the floor of rendering FILE, a manifest
//! stream: the median milliseconds of parsing it, a JSON round trip of every object (what
//! crossing the module boundary costs at least) and emitting it again as YAML, in one
//! process. tests/bench/kustomize_vs_plugin.py compares the plugin against it.

#[path = "../../../../host/src/yaml/mod.rs"]
#[allow(dead_code, unused_imports)]
mod yaml;

use std::time::Instant;

use serde::Deserialize as _;
use serde_json::Value;

const RUNS: usize = 11;
const FILES: [&str; 5] = [
    "configmaps.yaml",
    "hpa-pdb.yaml",
    "ingress.yaml",
    "magento-svc.yaml",
    "magento-web.yaml",
];

/// Milliseconds `work` takes.
fn millis<T>(work: impl FnOnce() -> T) -> f64 {
    let start = Instant::now();
    std::hint::black_box(work());
    start.elapsed().as_secs_f64() * 1000.0
}

fn stream() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/magento-stage/");
    let one: String = FILES
        .iter()
        .map(|file| {
            format!(
                "---\n{}",
                std::fs::read_to_string(format!("{dir}{file}")).unwrap()
            )
        })
        .collect();
    let mut text = String::new();
    for copy in 0.. {
        if text.len() >= 3 << 20 {
            break;
        }
        text.push_str(&one.replace("name: magento", &format!("name: magento{copy}")));
    }
    text
}

fn norway_parse(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).unwrap())
        .filter(|value| !value.is_null())
        .collect()
}

fn norway_emit(values: &[Value]) -> String {
    values
        .iter()
        .map(|value| format!("---\n{}", serde_norway::to_string(value).unwrap()))
        .collect()
}

/// Parse, JSON round trip of every object, emit: the least any render of `text` costs.
fn floor(text: &str) -> String {
    let objects = yaml::parse_documents(text, "floor.yaml").unwrap();
    let crossed: Vec<Value> = objects
        .iter()
        .map(|object| serde_json::from_str(&serde_json::to_string(object).unwrap()).unwrap())
        .collect();
    yaml::to_stream(&crossed)
}

fn print_floor(file: &str, runs: usize) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut samples: Vec<f64> = (0..runs).map(|_| millis(|| floor(&text))).collect();
    samples.sort_by(f64::total_cmp);
    println!("{:.2}", samples[runs / 2]);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, file, rest @ ..] = &args[..]
        && mode == "floor"
    {
        let runs = rest.first().map_or(5, |runs| runs.parse().unwrap());
        return print_floor(file, runs);
    }
    let text = stream();
    let ours = yaml::parse_documents(&text, "bench.yaml").unwrap();
    let theirs = norway_parse(&text);
    assert_eq!(
        yaml::parse_documents(&yaml::to_stream(&ours), "again").unwrap(),
        ours
    );
    let mut samples: [Vec<f64>; 6] = Default::default();
    for _ in 0..RUNS {
        samples[0].push(millis(|| {
            saphyr_parser::Parser::new_from_str(&text).count()
        }));
        samples[1].push(millis(|| {
            yaml::parse_documents(&text, "bench.yaml").unwrap()
        }));
        samples[2].push(millis(|| norway_parse(&text)));
        samples[3].push(millis(|| yaml::to_stream(&ours)));
        samples[4].push(millis(|| norway_emit(&theirs)));
        samples[5].push(millis(|| {
            ours.iter()
                .map(|v| serde_json::to_string(v).unwrap() + "\n")
                .collect::<String>()
        }));
    }
    let [events, parse, norway_parse, emit, norway_emit, json] = samples.map(|mut runs| {
        runs.sort_by(f64::total_cmp);
        runs[RUNS / 2]
    });
    let mib = text.len() as f64 / f64::from(1 << 20);
    println!(
        "{mib:.2} MiB, {} documents, median of {RUNS} interleaved runs",
        ours.len()
    );
    println!(
        "parse       ours {parse:6.1} ms   serde_norway {norway_parse:6.1} ms   (saphyr-parser events alone {events:.1} ms)"
    );
    println!(
        "emit        ours {emit:6.1} ms   serde_norway {norway_emit:6.1} ms   (JSON lines {json:.1} ms)"
    );
    println!(
        "parse+emit  ours {:6.1} ms   serde_norway {:6.1} ms",
        parse + emit,
        norway_parse + norway_emit
    );
}
