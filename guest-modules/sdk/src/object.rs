//! Kubernetes objects as JSON, with typed helpers for the fields transforms touch most.

use std::ops::{Deref, DerefMut};

use serde_json::{Map, Value};

use crate::path::{FieldPath, Segment};
use crate::{Diagnostic, Error, ObjectRef, Result, json};

/// One Kubernetes object. Always a JSON object; field order is kept as it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct Object(Map<String, Value>);

impl Object {
    /// Wraps a JSON value, which must be an object.
    pub fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Self(map)),
            other => Err(Diagnostic::error(format!(
                "expected a Kubernetes object, got {}",
                type_name(&other)
            ))
            .code("not-an-object")
            .into()),
        }
    }

    /// Parses one object from JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        let value = serde_json::from_str(text).map_err(|e| {
            Error::from(
                Diagnostic::error(format!("object is not valid JSON: {e}")).code("invalid-json"),
            )
        })?;
        Self::from_value(value)
    }

    /// The object as compact JSON text, as the contract carries it.
    pub fn to_json(&self) -> String {
        // Serialize the map itself: wrapping it in a `Value` would copy the whole object.
        serde_json::to_string(&self.0).expect("a JSON map always serializes")
    }

    /// The object as a JSON value.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }

    /// The top-level fields, for reading anything the typed helpers do not cover.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The top-level fields, for changing anything the typed helpers do not cover.
    pub fn as_map_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.0
    }

    /// `apiVersion` (`apps/v1`); empty when absent.
    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"]).unwrap_or_default()
    }

    /// `kind` (`Deployment`); empty when absent.
    pub fn kind(&self) -> &str {
        self.str_at(&["kind"]).unwrap_or_default()
    }

    /// `metadata.name`; empty when absent.
    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"]).unwrap_or_default()
    }

    /// `metadata.namespace`; `None` for cluster-scoped objects and objects whose
    /// namespace Argo CD fills in from the Application.
    pub fn namespace(&self) -> Option<&str> {
        self.str_at(&["metadata", "namespace"])
    }

    /// The API group: `apps` for `apps/v1`, empty for the core group (`v1`).
    pub fn group(&self) -> &str {
        self.api_version()
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    /// Whether the object is of this kind (exact, case-sensitive).
    pub fn is_kind(&self, kind: &str) -> bool {
        self.kind() == kind
    }

    /// The value of label `key` in `metadata.labels`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.str_at(&["metadata", "labels", key])
    }

    /// The value of annotation `key` in `metadata.annotations`.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.str_at(&["metadata", "annotations", key])
    }

    /// Sets `metadata.labels[key]`, creating the map if needed.
    pub fn set_label(&mut self, key: &str, value: &str) -> Result<()> {
        self.set_at(&["metadata", "labels", key], Value::from(value))
    }

    /// Sets `metadata.annotations[key]`, creating the map if needed.
    pub fn set_annotation(&mut self, key: &str, value: &str) -> Result<()> {
        self.set_at(&["metadata", "annotations", key], Value::from(value))
    }

    /// True when every `(key, value)` pair is among the object's labels.
    pub fn has_labels<'a>(&self, labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        labels
            .into_iter()
            .all(|(key, value)| self.label(key) == Some(value))
    }

    /// The value at a path such as `spec.template.spec.containers[0].image`.
    pub fn get(&self, path: &str) -> Result<Option<&Value>> {
        Ok(self.get_path(&FieldPath::parse(path)?))
    }

    /// The string at a path; `None` when absent or not a string.
    pub fn get_str(&self, path: &str) -> Result<Option<&str>> {
        Ok(self.get(path)?.and_then(Value::as_str))
    }

    /// The value at a parsed path; `None` when any step of it is missing.
    pub fn get_path(&self, path: &FieldPath) -> Option<&Value> {
        let (first, rest) = path.segments().split_first()?;
        let mut value = json::get(&self.0, key_of(first)?)?;
        for segment in rest {
            value = match (value, segment) {
                (Value::Object(map), Segment::Key(key)) => json::get(map, key)?,
                (Value::Array(items), Segment::Index(i)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// Sets the value at a path, creating missing objects on the way. Indexes must exist.
    pub fn set(&mut self, path: &str, value: impl Into<Value>) -> Result<()> {
        self.set_path(&FieldPath::parse(path)?, value.into())
    }

    /// Sets the value at a parsed path, creating missing objects on the way. The error
    /// names this object and the path.
    pub fn set_path(&mut self, path: &FieldPath, value: Value) -> Result<()> {
        let reference = self.reference();
        let slot = slot_mut(&mut self.0, path.segments()).map_err(|problem| {
            Diagnostic::error(format!("cannot set field: {problem}"))
                .on(reference)
                .at(path)
                .code("cannot-set-field")
        })?;
        *slot = value;
        Ok(())
    }

    /// Removes the value at a path and returns it.
    pub fn remove(&mut self, path: &str) -> Result<Option<Value>> {
        let path = FieldPath::parse(path)?;
        let Some((last, parents)) = path.segments().split_last() else {
            return Ok(None);
        };
        let parent = match parents {
            [] => return Ok(key_of(last).and_then(|key| self.0.remove(key))),
            _ => FieldPath::from_segments(parents),
        };
        let removed = match (self.get_path_mut(&parent), last) {
            (Some(Value::Object(map)), Segment::Key(key)) => map.remove(key),
            (Some(Value::Array(items)), Segment::Index(i)) if *i < items.len() => {
                Some(items.remove(*i))
            }
            _ => None,
        };
        Ok(removed)
    }

    /// The value at a parsed path, to change in place; `None` when any step is missing.
    pub fn get_path_mut(&mut self, path: &FieldPath) -> Option<&mut Value> {
        let (first, rest) = path.segments().split_first()?;
        let mut value = json::get_mut(&mut self.0, key_of(first)?)?;
        for segment in rest {
            value = match (value, segment) {
                (Value::Object(map), Segment::Key(key)) => json::get_mut(map, key)?,
                (Value::Array(items), Segment::Index(i)) => items.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// Every container and init container in the object, at any depth (pod specs of
    /// Deployments, CronJobs, Argo Rollouts and unknown custom resources alike), with its
    /// path. For policies that only read them; [`Object::containers_mut`] to change them.
    pub fn containers(&self) -> Vec<(FieldPath, &Map<String, Value>)> {
        let mut found = Vec::new();
        for (key, value) in &self.0 {
            collect_containers(value, FieldPath::default().key(key), &mut found);
        }
        found
    }

    /// Every container and init container, as [`Object::containers`] finds them, to change
    /// in place.
    pub fn containers_mut(&mut self) -> Vec<(FieldPath, &mut Map<String, Value>)> {
        let mut found = Vec::new();
        for (key, value) in self.0.iter_mut() {
            collect_containers_mut(value, FieldPath::default().key(key), &mut found);
        }
        found
    }

    /// The reference diagnostics use to name this object.
    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version().to_owned(),
            kind: self.kind().to_owned(),
            namespace: self.namespace().map(str::to_owned),
            name: self.name().to_owned(),
        }
    }

    fn str_at(&self, keys: &[&str]) -> Option<&str> {
        let (first, rest) = keys.split_first()?;
        let mut value = json::get(&self.0, first)?;
        for key in rest {
            value = json::member(value, key)?;
        }
        value.as_str()
    }

    fn set_at(&mut self, keys: &[&str], value: Value) -> Result<()> {
        let segments: Vec<Segment> = keys.iter().map(|k| Segment::Key(k.to_string())).collect();
        self.set_path(&FieldPath::from_segments(&segments), value)
    }
}

impl From<&Object> for ObjectRef {
    fn from(object: &Object) -> Self {
        object.reference()
    }
}

impl FieldPath {
    pub(crate) fn from_segments(segments: &[Segment]) -> Self {
        segments
            .iter()
            .fold(FieldPath::default(), |path, segment| match segment {
                Segment::Key(key) => path.key(key),
                Segment::Index(i) => path.index(*i),
            })
    }
}

fn key_of(segment: &Segment) -> Option<&str> {
    match segment {
        Segment::Key(key) => Some(key),
        Segment::Index(_) => None,
    }
}

/// Walks to the slot a path names, creating objects for missing keys.
fn slot_mut<'a>(
    root: &'a mut Map<String, Value>,
    segments: &[Segment],
) -> std::result::Result<&'a mut Value, String> {
    let (first, rest) = segments.split_first().ok_or("empty path")?;
    let first = key_of(first).ok_or("a path must start with a key")?;
    let mut slot = root.entry(first).or_insert(Value::Null);
    for segment in rest {
        slot = match segment {
            Segment::Key(key) => {
                if slot.is_null() {
                    *slot = Value::Object(Map::new());
                }
                match slot {
                    Value::Object(map) => map.entry(key.as_str()).or_insert(Value::Null),
                    other => return Err(format!("`{key}` is inside a {}", type_name(other))),
                }
            }
            Segment::Index(i) => match slot {
                Value::Array(items) => {
                    let len = items.len();
                    items
                        .get_mut(*i)
                        .ok_or_else(|| format!("index {i} is past the end ({len} items)"))?
                }
                other => return Err(format!("index {i} is inside a {}", type_name(other))),
            },
        };
    }
    Ok(slot)
}

/// Whether a key holds a list of containers.
fn holds_containers(key: &str) -> bool {
    key == "containers" || key == "initContainers"
}

fn collect_containers<'a>(
    value: &'a Value,
    path: FieldPath,
    found: &mut Vec<(FieldPath, &'a Map<String, Value>)>,
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = path.key(key);
                match (holds_containers(key), child) {
                    (true, Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Value::Object(container) = item {
                                found.push((child_path.index(i), container));
                            }
                        }
                    }
                    (_, other) => collect_containers(other, child_path, found),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_containers(item, path.index(i), found);
            }
        }
        _ => {}
    }
}

fn collect_containers_mut<'a>(
    value: &'a mut Value,
    path: FieldPath,
    found: &mut Vec<(FieldPath, &'a mut Map<String, Value>)>,
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let child_path = path.key(key);
                match (holds_containers(key), child) {
                    (true, Value::Array(items)) => {
                        for (i, item) in items.iter_mut().enumerate() {
                            if let Value::Object(container) = item {
                                found.push((child_path.index(i), container));
                            }
                        }
                    }
                    (_, other) => collect_containers_mut(other, child_path, found),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                collect_containers_mut(item, path.index(i), found);
            }
        }
        _ => {}
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// The objects a step works on, in order. Dereferences to `Vec<Object>`, so `push`,
/// `retain`, `iter_mut` and friends work as usual.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Objects(Vec<Object>);

impl Objects {
    /// Wraps a list of objects.
    pub fn new(objects: Vec<Object>) -> Self {
        Self(objects)
    }

    /// The objects of one kind, to read.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Object> {
        self.0.iter().filter(move |object| object.is_kind(kind))
    }

    /// The objects of one kind, to change.
    pub fn of_kind_mut<'a>(&'a mut self, kind: &'a str) -> impl Iterator<Item = &'a mut Object> {
        self.0.iter_mut().filter(move |object| object.is_kind(kind))
    }

    /// The object of this kind and name, if there is one.
    pub fn find(&self, kind: &str, name: &str) -> Option<&Object> {
        self.0
            .iter()
            .find(|object| object.is_kind(kind) && object.name() == name)
    }

    /// The objects as a plain `Vec`.
    pub fn into_vec(self) -> Vec<Object> {
        self.0
    }
}

impl Deref for Objects {
    type Target = Vec<Object>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Objects {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Object {
        Object::from_value(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"template": {"spec": {
                "initContainers": [{"name": "migrate", "image": "magento"}],
                "containers": [{"name": "php-fpm", "image": "magento"}, {"name": "nginx", "image": "nginx"}]
            }}}
        }))
        .unwrap()
    }

    #[test]
    fn reads_identity_and_labels() {
        let object = deployment();
        assert_eq!(object.kind(), "Deployment");
        assert_eq!(object.group(), "apps");
        assert_eq!(object.name(), "web");
        assert_eq!(object.namespace(), None);
        assert!(object.has_labels([("app.kubernetes.io/name", "web")]));
        assert_eq!(
            object
                .get_str("spec.template.spec.containers[1].image")
                .unwrap(),
            Some("nginx")
        );
    }

    #[test]
    fn sets_creating_missing_maps_and_reports_bad_paths() {
        let mut object = deployment();
        object.set_label("team", "payments").unwrap();
        object.set("spec.replicas", 3).unwrap();
        assert_eq!(object.label("team"), Some("payments"));
        assert_eq!(object.get("spec.replicas").unwrap(), Some(&json!(3)));
        let error = object
            .set("spec.template.spec.containers[5].image", "x")
            .unwrap_err();
        let [diagnostic] = error.diagnostics() else {
            panic!("{error}")
        };
        assert_eq!(
            diagnostic.field.as_deref(),
            Some("spec.template.spec.containers[5].image")
        );
        assert_eq!(diagnostic.code.as_deref(), Some("cannot-set-field"));
        assert!(error.message().contains("past the end"), "{error}");
    }

    #[test]
    fn removes_keys_and_items() {
        let mut object = deployment();
        let removed = object
            .remove("spec.template.spec.initContainers[0]")
            .unwrap();
        assert_eq!(removed.unwrap()["name"], "migrate");
        assert_eq!(object.remove("metadata.nothing").unwrap(), None);
    }

    #[test]
    fn finds_containers_at_any_depth() {
        let mut object = deployment();
        let expected = [
            "spec.template.spec.initContainers[0]",
            "spec.template.spec.containers[0]",
            "spec.template.spec.containers[1]",
        ];
        let read: Vec<String> = object
            .containers()
            .into_iter()
            .map(|(path, _)| path.to_string())
            .collect();
        assert_eq!(read, expected);
        let changed: Vec<String> = object
            .containers_mut()
            .into_iter()
            .map(|(path, container)| {
                container.insert("checked".into(), json!(true));
                path.to_string()
            })
            .collect();
        assert_eq!(changed, expected);
        assert!(
            object
                .containers()
                .iter()
                .all(|(_, c)| c["checked"] == true)
        );
    }
}
