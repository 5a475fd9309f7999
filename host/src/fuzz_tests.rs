//! Property tests over what a repository feeds the host: the manifest reader and the
//! kustomization loader, on thousands of mutated inputs from a fixed seed (so a failure
//! reproduces). The property: no panic, no hang, and every object read is a mapping with a
//! `kind`. Errors are fine; they are what a broken repository should get.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::invocation::Invocation;
use crate::manifests;
use crate::pipeline;
use crate::runtime::{Limits, RenderBudget, Runtime};

/// SplitMix64: a tiny, stable generator, so a seed names one sequence of inputs forever.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const MANIFEST_SEEDS: &[&str] = &[
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n",
    "---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n---\n",
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":3}}",
    "kind: A\nmetadata: &m {name: x, labels: {a: b}}\n---\nkind: B\nmetadata: *m\n",
    "kind: C\nmetadata:\n  name: y\n  annotations:\n    k: |\n      multi\n      line\n",
];

/// Fragments that stress a YAML parser: structure, anchors, tags, quoting, indentation.
const YAML_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "&a ",
    "*a",
    "!!binary ",
    "!!str ",
    "---\n",
    "...\n",
    "\t",
    "'",
    "\"",
    "<<: *a\n",
    "\n  ",
    "\n",
    "kind: List\nitems:\n",
    "? ",
    "#",
    "|",
    ">",
    "~",
    "0x1F",
    "1e999",
    "\u{feff}",
    "\\u0000",
    "%YAML 1.1\n",
    "kind: ",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 => bytes
                .splice(at..at, rng.pick(YAML_TOKENS).bytes())
                .for_each(drop),
            1 if !bytes.is_empty() => {
                let end = (at + rng.below(16)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            2 if !bytes.is_empty() => {
                let at = at.min(bytes.len() - 1);
                bytes[at] = (rng.next() & 0x7f) as u8;
            }
            _ => {
                let end = (at + rng.below(32)).min(bytes.len());
                let copy = bytes[at.min(end)..end].to_vec();
                bytes.splice(at..at, copy).for_each(drop);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn assert_objects(objects: &[Value], input: &str) {
    for object in objects {
        let kind = object.get("kind").and_then(Value::as_str);
        assert!(
            kind.is_some_and(|kind| !kind.is_empty()),
            "an object without kind from {input:?}: {object}"
        );
    }
}

#[test]
fn the_manifest_reader_survives_mutated_input() {
    let mut rng = Rng(0x13);
    for _ in 0..5000 {
        let seed = MANIFEST_SEEDS[rng.below(MANIFEST_SEEDS.len())];
        let input = mutate(&mut rng, seed);
        let started = Instant::now();
        if let Ok(objects) = manifests::parse_stream(&input, "fuzz.yaml") {
            assert_objects(&objects, &input);
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "parsing {input:?} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn the_manifest_reader_bounds_alias_expansion() {
    let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12 {
        let previous = (b'a' + level - 1) as char;
        let this = (b'a' + level) as char;
        let aliases = vec![format!("*{previous}"); 10].join(", ");
        laughs.push_str(&format!("{this}: &{this} [{aliases}]\n"));
    }
    let started = Instant::now();
    let _ = manifests::parse_stream(&format!("kind: Bomb\n{laughs}"), "bomb.yaml");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// Entries a generated kustomization may list: other levels, files, cycles, escapes.
const RESOURCE_ENTRIES: &[&str] = &[
    "../base",
    "base",
    "cm.yaml",
    "../cm.yaml",
    ".",
    "..",
    "../../..",
    "/etc/passwd",
    "missing.yaml",
    "https://example.com/x.yaml",
    "github.com/a/b",
    "../overlay",
    "link.yaml",
];

const KUSTOMIZATION_FIELDS: &[&str] = &[
    "namespace: stage\n",
    "namePrefix: p-\n",
    "nameSuffix: -s\n",
    "commonLabels: {app: web}\n",
    "commonAnnotations: {a: b}\n",
    "replicas: [{name: web, count: 2}]\n",
    "images: [{name: nginx, newTag: '1.2'}]\n",
    "patches: [{path: patch.yaml}]\n",
    "patches: [{patch: '[{op: replace, path: /data/k, value: x}]', target: {kind: ConfigMap}}]\n",
    "patchesStrategicMerge: [patch.yaml]\n",
    "patchesJson6902: [{target: {kind: ConfigMap, name: a}, path: ops.yaml}]\n",
    "configMapGenerator: [{name: x}]\n",
    "resources: not-a-list\n",
];

/// Writes a random kustomization tree under `app` (base and overlay levels, manifests,
/// patches, a symlink), mutating some of its files.
fn random_tree(rng: &mut Rng, app: &Path) {
    for level in ["base", "overlay", "."] {
        let dir = app.join(level);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::from("resources:\n");
        for _ in 0..rng.below(4) {
            text.push_str(&format!("- {}\n", rng.pick(RESOURCE_ENTRIES)));
        }
        for _ in 0..rng.below(4) {
            text.push_str(rng.pick(KUSTOMIZATION_FIELDS));
        }
        if rng.below(4) == 0 {
            text = mutate(rng, &text);
        }
        std::fs::write(dir.join("kustomization.yaml"), text).unwrap();
        let manifest = MANIFEST_SEEDS[rng.below(MANIFEST_SEEDS.len())];
        let manifest = match rng.below(3) {
            0 => mutate(rng, manifest),
            _ => manifest.to_owned(),
        };
        std::fs::write(dir.join("cm.yaml"), manifest).unwrap();
        let patch = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: patched}\n";
        std::fs::write(dir.join("patch.yaml"), mutate(rng, patch)).unwrap();
        std::fs::write(
            dir.join("ops.yaml"),
            "- {op: add, path: /data/n, value: '1'}\n",
        )
        .unwrap();
        let target = if rng.below(2) == 0 {
            "/etc/passwd"
        } else {
            "cm.yaml"
        };
        let _ = std::os::unix::fs::symlink(target, dir.join("link.yaml"));
    }
}

#[test]
fn the_kustomization_loader_survives_random_trees() {
    let runtime = Runtime::new(Limits::default(), None).unwrap();
    let mut rng = Rng(0x14);
    let mut rendered = 0;
    for _ in 0..150 {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join(".git")).unwrap();
        let app = repo.path().join("app");
        random_tree(&mut rng, &app);
        let invocation = Invocation {
            budget: RenderBudget::starting_now(Duration::from_secs(20)),
            ..Invocation::default()
        };
        if let Ok(objects) = pipeline::render(&runtime, &app, &invocation) {
            assert_objects(&objects, &app.display().to_string());
            for object in &objects {
                let text = object.to_string();
                assert!(
                    !text.contains("root:x:0"),
                    "a file outside the repository leaked"
                );
            }
            rendered += 1;
        }
    }
    assert!(
        rendered > 0,
        "no random tree rendered at all: the generator is too hostile"
    );
}
