//! `replacements:` (kustomize's ReplacementTransformer): each replacement reads one value
//! from the one object its source selects and writes it into fields of every object its
//! targets select, in order, so a later replacement sees the earlier ones' results.

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use kustomization::replacements::{FieldOptions, Replacement, SourceSelector, TargetSelector};
use kustomization::{ReplacementEntry, Target, Tree};
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::fieldpath::{index_of, list_match, lookup, split_path};
use crate::resource::{Id, Resource};
use crate::scalar;
use crate::selector::Selector;

const DEFAULT_FIELD_PATH: &str = "metadata.name";

/// Applies `replacements:` entries (of the kustomization or of a ReplacementTransformer
/// config) in order; a `path:` entry's file (in `tree.files`) holds one replacement or a
/// list of them.
pub fn apply(resources: &mut [Resource], entries: &[ReplacementEntry], tree: &Tree) -> Result<()> {
    for (i, entry) in entries.iter().enumerate() {
        let field = crate::build::at(tree, &format!("replacements[{i}]"));
        let at = |e: String| Diagnostic::error(e).at(field.clone());
        for replacement in resolve_entry(entry, tree).map_err(at)? {
            replace(resources, &replacement).map_err(at)?;
        }
    }
    Ok(())
}

/// The replacements one entry stands for.
fn resolve_entry(
    entry: &ReplacementEntry,
    tree: &Tree,
) -> std::result::Result<Vec<Replacement>, String> {
    let Some(path) = &entry.path else {
        return Ok(vec![entry.inline()]);
    };
    if entry.source.is_some() || entry.targets.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err("cannot specify both path and inline replacement".to_owned());
    }
    let documents = tree.documents(path)?;
    // kustomize reads the first document of the file, ignoring fields it does not know.
    let parsed = match documents
        .first()
        .map(|d| known_fields(d, Shape::Replacement))
    {
        Some(list @ Value::Array(_)) => Vec::<Replacement>::deserialize(&list),
        Some(one @ Value::Object(_)) => Replacement::deserialize(&one).map(|r| vec![r]),
        _ => {
            return Err(format!(
                "{path}: unsupported replacement type: expected a replacement or a list of them"
            ));
        }
    };
    parsed.map_err(|e| format!("{path}: {e}"))
}

/// The parts of a replacement, for reading a replacement file as leniently as kustomize.
#[derive(Clone, Copy)]
enum Shape {
    Replacement,
    Source,
    Target,
    Selector,
    Options,
}

impl Shape {
    /// Each known field, and the shape of its value (or of its items) when it has fields.
    fn fields(self) -> &'static [(&'static str, Option<Shape>)] {
        const ID: [(&str, Option<Shape>); 5] = [
            ("group", None),
            ("version", None),
            ("kind", None),
            ("name", None),
            ("namespace", None),
        ];
        match self {
            Shape::Replacement => &[
                ("source", Some(Shape::Source)),
                ("targets", Some(Shape::Target)),
            ],
            Shape::Source => &[
                ID[0],
                ID[1],
                ID[2],
                ID[3],
                ID[4],
                ("fieldPath", None),
                ("options", Some(Shape::Options)),
            ],
            Shape::Target => &[
                ("select", Some(Shape::Selector)),
                ("reject", Some(Shape::Selector)),
                ("fieldPaths", None),
                ("options", Some(Shape::Options)),
            ],
            Shape::Selector => &[
                ID[0],
                ID[1],
                ID[2],
                ID[3],
                ID[4],
                ("labelSelector", None),
                ("annotationSelector", None),
            ],
            Shape::Options => &[
                ("delimiter", None),
                ("index", None),
                ("encoding", None),
                ("create", None),
            ],
        }
    }
}

/// `value` without the fields `shape` does not know, at every depth.
fn known_fields(value: &Value, shape: Shape) -> Value {
    match value {
        Value::Array(items) => items.iter().map(|item| known_fields(item, shape)).collect(),
        Value::Object(map) => map
            .iter()
            .filter_map(|(key, child)| {
                let (_, inner) = shape.fields().iter().find(|(name, _)| name == key)?;
                let child = inner.map_or_else(|| child.clone(), |inner| known_fields(child, inner));
                Some((key.clone(), child))
            })
            .collect(),
        other => other.clone(),
    }
}

/// One replacement: the source's value into every target.
pub fn replace(
    resources: &mut [Resource],
    replacement: &Replacement,
) -> std::result::Result<(), String> {
    // kustomize passes the config through JSON, where an empty `targets` list disappears.
    let targets = replacement.targets.as_deref().unwrap_or_default();
    let (Some(source), false) = (&replacement.source, targets.is_empty()) else {
        return Err("replacements must specify a source and at least one target".to_owned());
    };
    let value = source_value(resources, source)?;
    for target in targets {
        write_targets(resources, &value, target)?;
    }
    Ok(())
}

/// How a selector describes itself in messages.
fn describe(kind: &str, name: &str, namespace: &str) -> String {
    let or_any = |text: &str| {
        if text.is_empty() {
            "*".to_owned()
        } else {
            text.to_owned()
        }
    };
    format!(
        "{}/{} in namespace {}",
        or_any(kind),
        or_any(name),
        or_any(namespace)
    )
}

/// The object identities a selector is compared with: the current one and every earlier
/// one, all with the object's current group and version, as kustomize's `MakeResIds`.
fn ids(resource: &Resource) -> impl Iterator<Item = Id> + '_ {
    let current = Id {
        kind: resource.object.kind().to_owned(),
        name: resource.object.name().to_owned(),
        namespace: resource.object.namespace().unwrap_or("").to_owned(),
    };
    std::iter::once(current).chain(resource.previous.iter().cloned())
}

/// kustomize's `ResId.IsSelectedBy`: exact name, namespace compared with `""` as `default`,
/// and each given part of the group, version and kind.
fn id_selected(resource: &Resource, id: &Id, wanted: (&str, &str, &str, &str, &str)) -> bool {
    let (group, version, kind, name, namespace) = wanted;
    let effective = |ns: &str| {
        if ns.is_empty() {
            "default".to_owned()
        } else {
            ns.to_owned()
        }
    };
    let part = |wanted: &str, actual: &str| wanted.is_empty() || wanted == actual;
    part(name, &id.name)
        && (namespace.is_empty() || effective(namespace) == effective(&id.namespace))
        && part(group, resource.object.group())
        && part(version, resource.version())
        && part(kind, &id.kind)
}

fn selected_by_id(resource: &Resource, wanted: (&str, &str, &str, &str, &str)) -> bool {
    ids(resource).any(|id| id_selected(resource, &id, wanted))
}

fn source_id(source: &SourceSelector) -> (&str, &str, &str, &str, &str) {
    (
        &source.group,
        &source.version,
        &source.kind,
        &source.name,
        &source.namespace,
    )
}

fn selector_id(selector: &Target) -> (&str, &str, &str, &str, &str) {
    (
        &selector.group,
        &selector.version,
        &selector.kind,
        &selector.name,
        &selector.namespace,
    )
}

fn source_value(
    resources: &[Resource],
    source: &SourceSelector,
) -> std::result::Result<Value, String> {
    let selector = describe(&source.kind, &source.name, &source.namespace);
    let mut matches = resources
        .iter()
        .filter(|r| selected_by_id(r, source_id(source)));
    let object = match (matches.next(), matches.next()) {
        (None, _) => {
            return Err(format!(
                "nothing selected by the replacement source {selector}"
            ));
        }
        (Some(_), Some(_)) => {
            return Err(format!(
                "multiple matches for the replacement source {selector}"
            ));
        }
        (Some(one), None) => one,
    };
    let field_path = match source.field_path.as_str() {
        "" => DEFAULT_FIELD_PATH,
        path => path,
    };
    let found = lookup(object.object.as_map(), &split_path(field_path))?;
    let value = match found {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) if map.is_empty() => None,
        Some(Value::Array(items)) if items.is_empty() => None,
        Some(value) => Some(value),
    };
    let Some(value) = value else {
        return Err(format!(
            "fieldPath `{field_path}` is missing for the replacement source {selector}"
        ));
    };
    refine(source.options.as_ref(), value)
}

/// The source's delimiter option: one part of the value.
fn refine(options: Option<&FieldOptions>, value: &Value) -> std::result::Result<Value, String> {
    let Some(options) = options.filter(|o| !o.delimiter.is_empty()) else {
        return Ok(value.clone());
    };
    let text = scalar::text(value).ok_or("delimiter option can only be used with scalar nodes")?;
    let parts: Vec<&str> = text.split(options.delimiter.as_str()).collect();
    usize::try_from(options.index)
        .ok()
        .and_then(|i| parts.get(i))
        .map(|part| Value::from(*part))
        .ok_or_else(|| {
            format!(
                "options.index {} is out of bounds for value {text}",
                options.index
            )
        })
}

fn write_targets(
    resources: &mut [Resource],
    value: &Value,
    target: &TargetSelector,
) -> std::result::Result<(), String> {
    let select = target
        .select
        .as_ref()
        .ok_or("target must specify resources to select")?;
    let by_labels = labels_selector(select)?;
    let rejected_by_labels: Vec<Selector> = target
        .reject
        .iter()
        .filter(|r| !r.label_selector.is_empty() || !r.annotation_selector.is_empty())
        .map(labels_selector)
        .collect::<std::result::Result<_, _>>()?;
    let rejected_ids: Vec<&Target> = target.reject.iter().filter(|r| !is_empty_id(r)).collect();
    let default_paths = [DEFAULT_FIELD_PATH.to_owned()];
    let field_paths = match target.field_paths.as_slice() {
        [] => &default_paths[..],
        paths => paths,
    };
    for resource in resources.iter_mut() {
        let chosen = by_labels.matches(resource)
            && !rejected_by_labels.iter().any(|r| r.matches(resource))
            && selected_by_id(resource, selector_id(select))
            && !rejected_ids
                .iter()
                .any(|r| selected_by_id(resource, selector_id(r)));
        if chosen {
            for field_path in field_paths {
                write_field(resource, value, field_path, target.options.as_ref())?;
            }
        }
    }
    Ok(())
}

fn is_empty_id(selector: &Target) -> bool {
    let (group, version, kind, name, namespace) = selector_id(selector);
    [group, version, kind, name, namespace]
        .iter()
        .all(|part| part.is_empty())
}

/// The label and annotation selectors of a select or reject entry.
fn labels_selector(selector: &Target) -> std::result::Result<Selector, String> {
    let target = Target {
        label_selector: selector.label_selector.clone(),
        annotation_selector: selector.annotation_selector.clone(),
        ..Default::default()
    };
    Selector::compile(&target).map_err(|(field, problem)| format!("{field}: {problem}"))
}

/// Writes the value at one field path of a target object.
fn write_field(
    resource: &mut Resource,
    value: &Value,
    field_path: &str,
    options: Option<&FieldOptions>,
) -> std::result::Result<(), String> {
    let create = options.is_some_and(|o| o.create);
    let path = split_path(field_path);
    let mut root = Value::Object(std::mem::take(resource.object.as_map_mut()));
    let mut failure = None;
    let found = walk_target(&mut root, &path, create.then_some(value), &mut |node| {
        if failure.is_none() {
            failure = set_field(node, value, options).err();
        }
    });
    if let Value::Object(map) = root {
        *resource.object.as_map_mut() = map;
    }
    let verb = if create { "find or create" } else { "find" };
    match (found, failure) {
        (Err(e), _) => Err(format!(
            "unable to {verb} field \"{field_path}\" in replacement target: {e}"
        )),
        (Ok(0), _) => Err(format!(
            "unable to {verb} field \"{field_path}\" in replacement target"
        )),
        (Ok(_), Some(e)) => Err(format!(
            "field \"{field_path}\" of {}: {e}",
            resource.object.name()
        )),
        (Ok(_), None) => Ok(()),
    }
}

/// An empty node of the kind the path needs next (kustomize's `getPathPartKind`): a list
/// before an index or `[key=value]`, the value's own kind at the end, a map otherwise.
fn placeholder(rest: &[String], value: &Value) -> Value {
    match rest.first() {
        Some(next) if index_of(next).is_some() || list_match(next).is_some() => {
            Value::Array(Vec::new())
        }
        Some(_) => Value::Object(Map::new()),
        None => match value {
            Value::Object(_) => Value::Object(Map::new()),
            Value::Array(_) => Value::Array(Vec::new()),
            _ => Value::Null,
        },
    }
}

/// kustomize's `PathMatcher`: calls `set` on every node the path reaches and counts them.
/// Parts are fields, list indexes, `*` (every item) and `[key=value]` (items whose field
/// matches the regular expression `value`, unanchored as in kustomize). With `create`
/// (the value to write), missing fields, the item one past the end and unmatched
/// `[key=value]` items are added.
fn walk_target(
    node: &mut Value,
    path: &[String],
    create: Option<&Value>,
    set: &mut dyn FnMut(&mut Value),
) -> std::result::Result<usize, String> {
    let Some((part, rest)) = path.split_first() else {
        set(node);
        return Ok(1);
    };
    if let Some(index) = index_of(part) {
        let Some(items) = list_mut(node, create.is_some())? else {
            return Err(format!("index {index} specified but only 0 elements found"));
        };
        if items.len() == index
            && let Some(value) = create
        {
            items.push(placeholder(rest, value));
        }
        let count = items.len();
        let item = items
            .get_mut(index)
            .ok_or_else(|| format!("index {index} specified but only {count} elements found"))?;
        return walk_target(item, rest, create, set);
    }
    if part == "*" {
        let mut found = 0;
        for item in list_mut(node, false)?.into_iter().flatten() {
            found += walk_target(item, rest, create, set)?;
        }
        return Ok(found);
    }
    if let Some(pair) = list_match(part) {
        let (key, pattern) = pair?;
        let regex = Regex::new(pattern).map_err(|e| format!("`{pattern}`: {e}"))?;
        let found = walk_matching(node, key, &regex, rest, create, set)?;
        if found > 0 || create.is_none() {
            return Ok(found);
        }
        let item = match key {
            "" => Value::from(pattern),
            key => Value::Object(Map::from_iter([(key.to_owned(), Value::from(pattern))])),
        };
        list_mut(node, true)?
            .expect("a list after creating one")
            .push(item);
        return walk_matching(node, key, &regex, rest, create, set);
    }
    if node.is_null() && create.is_some() {
        *node = Value::Object(Map::new());
    }
    let map = match node {
        Value::Object(map) => map,
        Value::Null => return Ok(0),
        other => {
            return Err(format!(
                "expected a map at `{part}`, found {}",
                scalar::kind_name(other)
            ));
        }
    };
    if !map.contains_key(part.as_str()) {
        let Some(value) = create else {
            return Ok(0);
        };
        map.insert(part.clone(), placeholder(rest, value));
    }
    walk_target(map.get_mut(part.as_str()).unwrap(), rest, create, set)
}

/// The list at a node: `None` for a null node (a list when creating).
fn list_mut(
    node: &mut Value,
    create: bool,
) -> std::result::Result<Option<&mut Vec<Value>>, String> {
    if node.is_null() && create {
        *node = Value::Array(Vec::new());
    }
    match node {
        Value::Array(items) => Ok(Some(items)),
        Value::Null => Ok(None),
        other => Err(format!(
            "expected a list, found {}",
            scalar::kind_name(other)
        )),
    }
}

fn walk_matching(
    node: &mut Value,
    key: &str,
    regex: &Regex,
    rest: &[String],
    create: Option<&Value>,
    set: &mut dyn FnMut(&mut Value),
) -> std::result::Result<usize, String> {
    let mut found = 0;
    for item in list_mut(node, false)?.into_iter().flatten() {
        let text = match key {
            "" => scalar::text(item),
            key => item
                .get(key)
                .filter(|v| !v.is_null())
                .and_then(scalar::text),
        };
        if text.is_some_and(|text| regex.is_match(text.trim())) {
            found += match key {
                "" => {
                    set(item);
                    1
                }
                _ => walk_target(item, rest, create, set)?,
            };
        }
    }
    Ok(found)
}

/// Writes the value into one target node. A scalar target keeps its type (kustomize copies
/// only the text), so the text must read as that type; with a delimiter, the value replaces
/// one part of the target's text.
fn set_field(
    node: &mut Value,
    value: &Value,
    options: Option<&FieldOptions>,
) -> std::result::Result<(), String> {
    let value = match options.filter(|o| !o.delimiter.is_empty()) {
        Some(options) => Value::from(join_part(node, value, options)?),
        None => value.clone(),
    };
    let Some(text) = scalar::text(&value).filter(|_| scalar::is_scalar(node)) else {
        *node = value;
        return Ok(());
    };
    *node = scalar::retyped(node, &text)?;
    Ok(())
}

fn join_part(
    node: &Value,
    value: &Value,
    options: &FieldOptions,
) -> std::result::Result<String, String> {
    let current = match node {
        Value::Null => String::new(),
        node => scalar::text(node).ok_or("delimiter option can only be used with scalar nodes")?,
    };
    let part = scalar::text(value).unwrap_or_default();
    let delimiter = options.delimiter.as_str();
    let mut parts: Vec<String> = current.split(delimiter).map(str::to_owned).collect();
    match usize::try_from(options.index) {
        Err(_) => parts.insert(0, part),
        Ok(index) if index >= parts.len() => parts.push(part),
        Ok(index) => parts[index] = part,
    }
    Ok(parts.join(delimiter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argocd_wasm_sdk::Object;
    use kustomization::FileData;
    use serde_json::json;

    fn resources(values: Vec<Value>) -> Vec<Resource> {
        values
            .into_iter()
            .map(|v| Resource::new(Object::from_value(v).unwrap()))
            .collect()
    }

    fn entries(value: Value) -> Vec<ReplacementEntry> {
        serde_json::from_value(value).unwrap()
    }

    fn config_map() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "src", "labels": {"app": "x"}},
               "data": {"num": "5", "url": "http://svc.ns:80", "text": "hello"}})
    }

    fn deployment(name: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"tier": name}},
               "spec": {"replicas": 1, "template": {"spec": {"containers": [
                   {"name": "app", "image": "nginx", "args": ["a", "b"]},
                   {"name": "app-side", "image": "side", "env": [{"name": "X", "value": "y"}]}]}}}})
    }

    fn run(values: Vec<Value>, replacements: Value) -> std::result::Result<Vec<Value>, String> {
        let mut resources = resources(values);
        apply(&mut resources, &entries(replacements), &Tree::default()).map_err(|d| d.message)?;
        Ok(resources
            .into_iter()
            .map(|r| r.object.into_value())
            .collect())
    }

    #[test]
    fn copies_text_keeping_the_target_type() {
        let out = run(
            vec![config_map(), deployment("web")],
            json!([{"source": {"kind": "ConfigMap", "name": "src", "fieldPath": "data.num"},
                    "targets": [{"select": {"kind": "Deployment"},
                                 "fieldPaths": ["spec.replicas", "metadata.labels.tier",
                                                "spec.template.spec.containers.[name=app].image",
                                                "spec.template.spec.containers.*.args.0"]},
                                {"select": {"kind": "Deployment"}, "fieldPaths": ["spec.new.deep"],
                                 "options": {"create": true}}]}]),
        )
        .unwrap();
        let web = &out[1];
        assert_eq!(web["spec"]["replicas"], json!(5));
        assert_eq!(web["metadata"]["labels"]["tier"], json!("5"));
        // `[name=app]` is an unanchored pattern in kustomize: it also matches `app-side`.
        let containers = &web["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["image"], json!("5"));
        assert_eq!(containers[1]["image"], json!("5"));
        assert_eq!(containers[0]["args"], json!(["5", "b"]));
        assert_eq!(web["spec"]["new"]["deep"], json!(5));
    }

    #[test]
    fn delimiters_cut_the_source_and_splice_the_target() {
        let mut web = deployment("web");
        web["metadata"]["annotations"] = json!({"host": "a.b.c", "pre": "a.b", "post": "a.b"});
        let target = |field: &str, index: i64| {
            json!({"select": {"kind": "Deployment"}, "fieldPaths": [format!("metadata.annotations.{field}")],
                   "options": {"delimiter": ".", "index": index}})
        };
        let out = run(
            vec![config_map(), web],
            json!([{"source": {"kind": "ConfigMap", "fieldPath": "data.url", "options": {"delimiter": ":", "index": 1}},
                    "targets": [target("host", 0), target("pre", -1), target("post", 9)]}]),
        )
        .unwrap();
        assert_eq!(
            out[1]["metadata"]["annotations"],
            json!({"host": "//svc.ns.b.c", "pre": "//svc.ns.a.b", "post": "a.b.//svc.ns"})
        );
    }

    #[test]
    fn rejects_by_id_and_by_labels() {
        let out = run(
            vec![config_map(), deployment("a"), deployment("b"), deployment("c")],
            json!([{"source": {"kind": "ConfigMap", "name": "src"},
                    "targets": [{"select": {"kind": "Deployment"}, "fieldPaths": ["spec.template.metadata.name"],
                                 "options": {"create": true},
                                 "reject": [{"name": "a"}, {"labelSelector": "tier=b"}]}]}]),
        )
        .unwrap();
        let marked: Vec<bool> = out[1..]
            .iter()
            .map(|d| d["spec"]["template"].get("metadata").is_some())
            .collect();
        assert_eq!(marked, [false, false, true]);
    }

    #[test]
    fn reads_replacements_from_a_file() {
        let mut tree = Tree::default();
        tree.files.insert(
            "r.yaml".into(),
            FileData::Documents(vec![json!([{"source": {"kind": "ConfigMap", "fieldPath": "data.text"},
                                              "targets": [{"select": {"name": "web"}, "fieldPaths": ["metadata.labels.tier"]}]}])]),
        );
        tree.files.insert(
            "one.yaml".into(),
            FileData::Documents(vec![json!({"source": {"kind": "ConfigMap", "fieldPath": "data.num", "comment": "ignored"},
                                             "targets": [{"select": {"name": "web"}, "fieldPaths": ["metadata.labels.one"],
                                                          "options": {"create": true}}], "note": 1})]),
        );
        let mut resources = resources(vec![config_map(), deployment("web")]);
        apply(
            &mut resources,
            &entries(json!([{"path": "r.yaml"}, {"path": "one.yaml"}])),
            &tree,
        )
        .unwrap();
        // A created field takes the type YAML gives the text, as kyaml's untagged node does.
        assert_eq!(
            resources[1].object.as_map()["metadata"]["labels"]["one"],
            json!(5)
        );
        assert_eq!(resources[1].object.label("tier"), Some("hello"));
        let both = entries(json!([{"path": "r.yaml", "source": {"kind": "ConfigMap"}}]));
        let error = apply(&mut resources, &both, &tree).unwrap_err();
        assert!(
            error.message.contains("cannot specify both"),
            "{}",
            error.message
        );
    }

    #[test]
    fn fails_where_kustomize_fails() {
        let cases = [
            (
                json!([{"source": {"kind": "Secret"}, "targets": [{"select": {"kind": "Pod"}}]}]),
                "nothing selected",
            ),
            (
                json!([{"source": {"kind": "Deployment"}, "targets": [{"select": {"kind": "Pod"}}]}]),
                "multiple matches",
            ),
            (
                json!([{"source": {"kind": "ConfigMap"}, "targets": []}]),
                "must specify a source and at least one target",
            ),
            (
                json!([{"source": {"kind": "ConfigMap"}}]),
                "must specify a source and at least one target",
            ),
            (
                json!([{"source": {"kind": "ConfigMap", "fieldPath": "data.none"}, "targets": [{"select": {"kind": "Pod"}}]}]),
                "is missing",
            ),
            (
                json!([{"source": {"kind": "ConfigMap", "fieldPath": "data.num"},
                     "targets": [{"select": {"kind": "Deployment"}, "fieldPaths": ["spec.missing"]}]}]),
                "unable to find field \"spec.missing\"",
            ),
            (
                json!([{"source": {"kind": "ConfigMap", "fieldPath": "data.text"},
                     "targets": [{"select": {"kind": "Deployment"}, "fieldPaths": ["spec.replicas"]}]}]),
                "cannot decode `hello`",
            ),
            (
                json!([{"source": {"kind": "ConfigMap", "fieldPath": "data.num"}, "targets": [{"fieldPaths": ["x"]}]}]),
                "target must specify resources to select",
            ),
            (
                json!([{"source": {"kind": "ConfigMap", "fieldPath": "data.num", "options": {"delimiter": ".", "index": 3}},
                     "targets": [{"select": {"kind": "Pod"}}]}]),
                "out of bounds",
            ),
        ];
        for (replacements, expected) in cases {
            let error = run(
                vec![config_map(), deployment("a"), deployment("b")],
                replacements,
            )
            .unwrap_err();
            assert!(error.contains(expected), "{error} lacks {expected}");
        }
    }

    #[test]
    fn sources_are_found_by_earlier_names() {
        let mut resources = resources(vec![config_map(), deployment("web")]);
        resources[0].store_previous_id();
        resources[0].set_name("p-src");
        let replacement = entries(json!([{"source": {"kind": "ConfigMap", "name": "src"},
                                            "targets": [{"select": {"kind": "Deployment", "name": "web"},
                                                         "fieldPaths": ["metadata.labels.cm"], "options": {"create": true}}]}]));
        apply(&mut resources, &replacement, &Tree::default()).unwrap();
        assert_eq!(resources[1].object.label("cm"), Some("p-src"));
    }
}
