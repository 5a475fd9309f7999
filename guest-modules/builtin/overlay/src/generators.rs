//! `configMapGenerator` and `secretGenerator`, as kustomize's ConfigMapGenerator and
//! SecretGenerator build them (api/internal/generators), and how a generated object joins the
//! objects accumulated so far (`behavior: create|merge|replace`, kustomize's
//! `appendReplaceOrMerge`). The name suffix hash is added at the end of the build
//! ([`crate::hash::add_hashes`]); until then a generated object goes by its plain name, so
//! patches and overlays' generators find it by that name.

use std::collections::BTreeMap;

use argocd_wasm_sdk::{Diagnostic, Object};

use crate::Result;
use kustomization::{GeneratorArgs, GeneratorOptions, Tree};
use serde_json::{Map, Value};

use crate::base64;
use crate::kv::{self, Bytes};
use crate::resource::Resource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorKind {
    ConfigMap,
    Secret,
}

impl GeneratorKind {
    fn kind(self) -> &'static str {
        match self {
            Self::ConfigMap => "ConfigMap",
            Self::Secret => "Secret",
        }
    }

    /// The kustomization field, for messages.
    fn field(self) -> &'static str {
        match self {
            Self::ConfigMap => "configMapGenerator",
            Self::Secret => "secretGenerator",
        }
    }
}

/// The object one generator entry makes, with the level's `generatorOptions` merged into
/// the entry's own `options` as kustomize merges them. Files and env files are read from
/// the tree's loaded files by the path as written.
pub fn generate(
    kind: GeneratorKind,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    tree: &Tree,
) -> Result<Resource> {
    let name = args.name.as_deref().unwrap_or_default();
    let fail = |problem: String| {
        Diagnostic::error(format!(
            "{}: {} `{name}`: {problem}",
            tree.file,
            kind.field()
        ))
        .at(kind.field())
    };
    if name.is_empty() {
        return Err(fail("a generated object needs a `name`".to_owned()));
    }
    if kind == GeneratorKind::ConfigMap && args.kind.is_some() {
        // kustomize's ConfigMapArgs has no `type` and rejects it as an unknown field.
        return Err(fail("`type` is a field of secretGenerator only".to_owned()));
    }
    let options = merged_options(args.options.as_ref(), global);
    let data = kv::load(args, |path| tree.files.get(path)).map_err(fail)?;

    let mut metadata = Map::new();
    metadata.insert("name".to_owned(), Value::from(name));
    if let Some(namespace) = args.namespace.as_deref().filter(|ns| !ns.is_empty()) {
        metadata.insert("namespace".to_owned(), Value::from(namespace));
    }
    insert_non_empty(&mut metadata, "labels", string_map(&options.labels));
    insert_non_empty(
        &mut metadata,
        "annotations",
        string_map(&options.annotations),
    );

    let mut object = Map::new();
    object.insert("apiVersion".to_owned(), Value::from("v1"));
    object.insert("kind".to_owned(), Value::from(kind.kind()));
    object.insert("metadata".to_owned(), Value::Object(metadata));
    match kind {
        GeneratorKind::ConfigMap => insert_config_map_data(&mut object, data),
        GeneratorKind::Secret => {
            let secret_type = args.kind.as_deref().filter(|t| !t.is_empty());
            object.insert(
                "type".to_owned(),
                Value::from(secret_type.unwrap_or("Opaque")),
            );
            // kyaml always creates a Secret's data map, even an empty one.
            let encoded = data
                .into_iter()
                .map(|(key, value)| (key, Value::from(base64::encode_wrapped(&value))))
                .collect();
            object.insert("data".to_owned(), Value::Object(encoded));
        }
    }
    if options.immutable == Some(true) {
        object.insert("immutable".to_owned(), Value::Bool(true));
    }
    let object = Object::from_value(Value::Object(object))
        .map_err(|error| fail(error.message().to_owned()))?;
    let mut resource = Resource::new(object);
    resource.needs_hash = options.disable_name_suffix_hash != Some(true);
    Ok(resource)
}

/// kustomize's `MergeGlobalOptionsIntoLocal`: the entry's labels and annotations win, the
/// level's fill in; a flag set at either place is set.
fn merged_options(
    local: Option<&GeneratorOptions>,
    global: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut merged = local.cloned().unwrap_or_default();
    if let Some(global) = global {
        for (key, value) in &global.labels {
            merged
                .labels
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        for (key, value) in &global.annotations {
            merged
                .annotations
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        let either = |local: Option<bool>, global: Option<bool>| {
            (local == Some(true) || global == Some(true)).then_some(true)
        };
        merged.disable_name_suffix_hash = either(
            merged.disable_name_suffix_hash,
            global.disable_name_suffix_hash,
        );
        merged.immutable = either(merged.immutable, global.immutable);
    }
    merged
}

/// UTF-8 values go to `data`, others base64-encoded to `binaryData`; a map without entries
/// is left out.
fn insert_config_map_data(object: &mut Map<String, Value>, data: BTreeMap<String, Bytes>) {
    let mut text = Map::new();
    let mut binary = Map::new();
    for (key, value) in data {
        match String::from_utf8(value) {
            Ok(value) => text.insert(key, Value::from(value)),
            Err(error) => binary.insert(key, Value::from(base64::encode_wrapped(error.as_bytes()))),
        };
    }
    insert_non_empty(object, "data", text);
    insert_non_empty(object, "binaryData", binary);
}

fn string_map(map: &BTreeMap<String, String>) -> Map<String, Value> {
    map.iter()
        .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
        .collect()
}

fn insert_non_empty(map: &mut Map<String, Value>, key: &str, value: Map<String, Value>) {
    if !value.is_empty() {
        map.insert(key.to_owned(), Value::Object(value));
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Behavior {
    Create,
    Merge,
    Replace,
    /// Any other word: kustomize creates with it, but cannot merge with it.
    Unspecified,
}

impl Behavior {
    fn parse(word: &str) -> Self {
        match word {
            "" | "create" => Self::Create,
            "merge" => Self::Merge,
            "replace" => Self::Replace,
            _ => Self::Unspecified,
        }
    }
}

/// Adds a generated object to the accumulated ones as kustomize's `appendReplaceOrMerge`
/// does: `create` needs no object with its id yet; `merge` and `replace` need exactly one
/// object that has or had the id, and take over its name, namespace, history, labels and
/// annotations (and, merging, its data and binaryData, the generated values winning).
pub fn absorb(resources: &mut Vec<Resource>, generated: Resource, behavior: &str) -> Result<()> {
    let wanted = generated.current();
    let describe = || {
        format!(
            "{} `{}` (namespace {})",
            wanted.kind, wanted.name, wanted.namespace
        )
    };
    let matching: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.object.group() == generated.object.group() && r.version() == generated.version()
        })
        .filter(|(_, r)| r.has_id(&wanted))
        .map(|(i, _)| i)
        .collect();
    let behavior = Behavior::parse(behavior);
    let fail = |message: String| Err(Diagnostic::error(message).on(&generated.object));
    match (matching.as_slice(), behavior) {
        ([], Behavior::Merge | Behavior::Replace) => fail(format!(
            "the generator's {} does not exist yet, so it cannot be merged or replaced; \
             use `behavior: create`",
            describe()
        )),
        ([], _) => {
            resources.push(generated);
            Ok(())
        }
        ([index], Behavior::Merge | Behavior::Replace) => {
            let index = *index;
            let old = &resources[index];
            let mut merged = generated;
            take_identity_from(&mut merged, old);
            if behavior == Behavior::Merge {
                for field in ["data", "binaryData"] {
                    merge_data(&mut merged.object, &old.object, field);
                }
                // kustomize keeps where the merged object first came from.
                if old.origin.is_some() {
                    merged.origin = old.origin.clone();
                }
            }
            resources[index] = merged;
            Ok(())
        }
        ([_], _) => fail(format!(
            "{} already exists; a generator for it needs `behavior: merge` or `behavior: replace`",
            describe()
        )),
        (_, _) => fail(format!(
            "{} objects could accept the generator's {}",
            matching.len(),
            describe()
        )),
    }
}

/// kustomize's `CopyMergeMetaDataFieldsFrom`: the old object's labels and annotations under
/// the new ones, its name, namespace, history, prefixes and suffixes, and the vars naming
/// it (its build annotations); the hash suffix only if both want it.
fn take_identity_from(new: &mut Resource, old: &Resource) {
    for field in ["labels", "annotations"] {
        let merged = merged_string_maps(meta_map(&old.object, field), meta_map(&new.object, field));
        let metadata = metadata_mut(&mut new.object);
        metadata.shift_remove(field);
        insert_non_empty(metadata, field, merged);
    }
    new.set_name(old.object.name());
    new.set_namespace(old.object.namespace().filter(|ns| !ns.is_empty()));
    new.previous = old.previous.clone();
    new.renames = old.renames.clone();
    new.var_names = old.var_names.clone();
    new.needs_hash = new.needs_hash && old.needs_hash;
}

/// The old object's entries under the new object's, sorted, as kyaml's `SetDataMap` writes.
fn merge_data(new: &mut Object, old: &Object, field: &str) {
    let merged = merged_string_maps(old.as_map().get(field), new.as_map().get(field));
    let map = new.as_map_mut();
    map.shift_remove(field);
    insert_non_empty(map, field, merged);
}

fn merged_string_maps(old: Option<&Value>, new: Option<&Value>) -> Map<String, Value> {
    let mut merged: BTreeMap<String, Value> = BTreeMap::new();
    for map in [old, new]
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        for (key, value) in map {
            merged.insert(key.clone(), Value::from(scalar_text(value)));
        }
    }
    merged.into_iter().collect()
}

/// A map value as kyaml reads it into a string map: the scalar's text.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn meta_map<'a>(object: &'a Object, field: &str) -> Option<&'a Value> {
    object.as_map().get("metadata")?.get(field)
}

fn metadata_mut(object: &mut Object) -> &mut Map<String, Value> {
    let metadata = object
        .as_map_mut()
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    metadata
        .as_object_mut()
        .expect("metadata was just made a map")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::add_hashes;
    use kustomization::FileData;
    use serde_json::json;

    fn tree(files: &[(&str, FileData)]) -> Tree {
        Tree {
            file: "base/kustomization.yaml".to_owned(),
            files: files
                .iter()
                .map(|(path, data)| (path.to_string(), data.clone()))
                .collect(),
            ..Tree::default()
        }
    }

    fn args(value: Value) -> GeneratorArgs {
        serde_json::from_value(value).unwrap()
    }

    fn generate_hashed(kind: GeneratorKind, value: Value, tree: &Tree) -> Value {
        let resource = generate(kind, &args(value), None, tree).unwrap();
        let mut resources = vec![resource];
        add_hashes(&mut resources).unwrap();
        resources.remove(0).object.into_value()
    }

    #[test]
    fn config_maps_from_literals_envs_and_files() {
        // kustomize's TestGeneratorBasics, whose output kubectl kustomize gives too.
        let tree = tree(&[
            ("foo.env", FileData::Text("\nMOUNTAIN=everest\nOCEAN=pacific\n".into())),
            ("bar.env", FileData::Text("\nBIRD=falcon\n".into())),
            (
                "phrase.dat",
                FileData::Text(
                    "\nLife is short.\nBut the years are long.\nNot while the evil days come not.\n"
                        .into(),
                ),
            ),
            (
                "forces.txt",
                FileData::Text("\ngravitational\nelectromagnetic\nstrong nuclear\nweak nuclear\n".into()),
            ),
        ]);
        let sources = json!({
            "name": "bob",
            "literals": ["fruit=apple", "vegetable=broccoli"],
            "envs": ["foo.env"], "env": "bar.env",
            "files": ["passphrase=phrase.dat", "forces.txt"]
        });
        let config_map = generate_hashed(GeneratorKind::ConfigMap, sources.clone(), &tree);
        assert_eq!(config_map["metadata"]["name"], "bob-g9df72cd5b");
        let keys: Vec<&String> = config_map["data"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "BIRD",
                "MOUNTAIN",
                "OCEAN",
                "forces.txt",
                "fruit",
                "passphrase",
                "vegetable"
            ]
        );
        let secret = generate_hashed(GeneratorKind::Secret, sources, &tree);
        assert_eq!(secret["metadata"]["name"], "bob-58g62h555c");
        assert_eq!(secret["type"], "Opaque");
        assert_eq!(secret["data"]["fruit"], "YXBwbGU=");
    }

    #[test]
    fn binary_files_go_to_binary_data() {
        let hello = kustomization::base64::encode(&[0xff, b'h', b'e', b'l', b'l', b'o'].repeat(30));
        let tree = tree(&[("data.bin", FileData::Base64(hello))]);
        let config_map = generate_hashed(
            GeneratorKind::ConfigMap,
            json!({"name": "p1-com1", "files": ["data.bin"]}),
            &tree,
        );
        // kustomize's TestGeneratorOverlaysBinaryData.
        assert_eq!(config_map["metadata"]["name"], "p1-com1-96gmmt6gt5");
        assert!(config_map.get("data").is_none());
        let encoded = config_map["binaryData"]["data.bin"].as_str().unwrap();
        assert!(encoded.starts_with("/2hlbGxv/2hlbGxv") && encoded.ends_with("bGxv\n"));
    }

    #[test]
    fn options_merge_with_generator_options() {
        let global = GeneratorOptions {
            labels: [
                ("team".into(), "global".into()),
                ("tier".into(), "web".into()),
            ]
            .into(),
            immutable: Some(true),
            ..GeneratorOptions::default()
        };
        let entry = args(json!({"name": "cm", "literals": ["a=b"],
            "options": {"labels": {"team": "local"}, "annotations": {"note": "x"},
                        "disableNameSuffixHash": true}}));
        let resource =
            generate(GeneratorKind::ConfigMap, &entry, Some(&global), &tree(&[])).unwrap();
        assert!(!resource.needs_hash);
        let object = resource.object.into_value();
        assert_eq!(
            object["metadata"],
            json!({"name": "cm", "labels": {"team": "local", "tier": "web"}, "annotations": {"note": "x"}})
        );
        assert_eq!(object["immutable"], true);
        assert!(object.get("type").is_none());
    }

    #[test]
    fn empty_generators_and_secret_types() {
        let config_map = generate_hashed(
            GeneratorKind::ConfigMap,
            json!({"name": "empty"}),
            &tree(&[]),
        );
        assert_eq!(
            config_map,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "empty-6ct58987ht"}})
        );
        let secret = generate(
            GeneratorKind::Secret,
            &args(json!({"name": "tls", "namespace": "ns", "type": "kubernetes.io/tls"})),
            None,
            &tree(&[]),
        )
        .unwrap()
        .object
        .into_value();
        assert_eq!(
            secret,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "namespace": "ns"},
                   "type": "kubernetes.io/tls", "data": {}})
        );
    }

    #[test]
    fn errors_name_the_file_and_generator() {
        let error = generate(
            GeneratorKind::Secret,
            &args(json!({"name": "s", "literals": ["novalue"]})),
            None,
            &tree(&[]),
        )
        .unwrap_err();
        assert!(
            error
                .message
                .starts_with("base/kustomization.yaml: secretGenerator `s`: invalid literal"),
            "{}",
            error.message
        );
        let typed = generate(
            GeneratorKind::ConfigMap,
            &args(json!({"name": "c", "type": "Opaque"})),
            None,
            &tree(&[]),
        )
        .unwrap_err();
        assert!(
            typed
                .message
                .contains("`type` is a field of secretGenerator only"),
            "{}",
            typed.message
        );
        let nameless =
            generate(GeneratorKind::ConfigMap, &args(json!({})), None, &tree(&[])).unwrap_err();
        assert!(
            nameless.message.contains("needs a `name`"),
            "{}",
            nameless.message
        );
    }

    fn literal_map(name: &str, literals: &[&str], behavior: &str) -> (Resource, String) {
        let entry = args(json!({"name": name, "literals": literals}));
        let resource = generate(GeneratorKind::ConfigMap, &entry, None, &tree(&[])).unwrap();
        (resource, behavior.to_owned())
    }

    #[test]
    fn merge_keeps_the_old_identity_and_adds_data() {
        let mut resources = Vec::new();
        let (base, create) = literal_map("cm", &["fruit=apple"], "create");
        absorb(&mut resources, base, &create).unwrap();
        // The base's namePrefix.
        resources[0].store_previous_id();
        resources[0].set_name("p-cm");
        resources[0].renames.prefixes.push("p-".to_owned());
        let (overlay, merge) = literal_map("cm", &["veggie=broccoli"], "merge");
        absorb(&mut resources, overlay, &merge).unwrap();
        assert_eq!(resources.len(), 1);
        add_hashes(&mut resources).unwrap();
        // kustomize's TestGeneratorSimpleOverlay.
        assert_eq!(resources[0].object.name(), "p-cm-877mt5hc89");
        assert_eq!(
            resources[0].object.as_map()["data"],
            json!({"fruit": "apple", "veggie": "broccoli"})
        );
        let names: Vec<&str> = resources[0]
            .previous
            .iter()
            .map(|id| id.name.as_str())
            .collect();
        assert_eq!(names, ["cm", "p-cm"]);
        assert_eq!(resources[0].renames.prefixes, ["p-"]);
    }

    #[test]
    fn replace_drops_old_data_but_keeps_labels() {
        let plain = Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "project", "namespace": "ns", "labels": {"a": "1"}},
            "data": {"OLD": "x"}}))
        .unwrap();
        let mut resources = vec![Resource::new(plain)];
        let entry = args(
            json!({"name": "project", "namespace": "ns", "literals": ["NEW=y"],
            "options": {"labels": {"b": "2"}}}),
        );
        let generated = generate(GeneratorKind::ConfigMap, &entry, None, &tree(&[])).unwrap();
        absorb(&mut resources, generated, "replace").unwrap();
        let object = resources[0].object.as_map();
        assert_eq!(object["data"], json!({"NEW": "y"}));
        assert_eq!(object["metadata"]["labels"], json!({"a": "1", "b": "2"}));
        assert!(!resources[0].needs_hash, "a plain ConfigMap keeps its name");
    }

    #[test]
    fn behaviors_fail_as_in_kustomize() {
        let mut resources = Vec::new();
        let (first, create) = literal_map("cm", &["a=1"], "create");
        absorb(&mut resources, first, &create).unwrap();
        let (again, create) = literal_map("cm", &["a=2"], "create");
        let error = absorb(&mut resources, again, &create).unwrap_err();
        assert!(
            error.message.contains("already exists"),
            "{}",
            error.message
        );
        let (missing, merge) = literal_map("other", &["a=2"], "merge");
        let error = absorb(&mut resources, missing, &merge).unwrap_err();
        assert!(
            error.message.contains("does not exist yet"),
            "{}",
            error.message
        );
    }
}
