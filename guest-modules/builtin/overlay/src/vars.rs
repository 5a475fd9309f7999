//! The deprecated `vars:` with kustomize's two steps. Where a kustomization declares a var,
//! the one object its `objref` names (by any current or earlier id) is marked with the var's
//! name; at the top of the build, after every transform and name reference, each var takes
//! the value of its field in the marked object, and `$(VAR)` is substituted in the fields
//! of the config's `varReference` specs.

use std::collections::BTreeMap;

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use kustomization::{Tree, Var};
use serde_json::Value;

use crate::fieldpath::{list_index_path, lookup};
use crate::fieldspec::{ObjectType, visit_map, with_paths};
use crate::resource::Resource;
use crate::scalar;
use crate::tconfig::Config;

const DEFAULT_FIELD_PATH: &str = "metadata.name";

/// Declares a kustomization's `vars` (kustomize's `MergeVars`, after its transformers):
/// marks the object each names and adds them to `declared`. Two objects matching one var,
/// or a var name declared twice, are errors, as in kustomize.
pub fn declare(resources: &mut [Resource], declared: &mut Vec<Var>, tree: &Tree) -> Result<()> {
    let vars = &tree.kustomization.vars;
    let field = crate::build::at(tree, "vars");
    for (i, var) in vars.iter().enumerate() {
        let matched: Vec<usize> = (0..resources.len())
            .filter(|&r| names(&resources[r], var))
            .collect();
        match matched.as_slice() {
            [] => {}
            [one] => resources[*one].var_names.push(var.name.clone()),
            several => {
                return Err(Diagnostic::error(format!(
                    "found {} objects matching var `{}` (unable to disambiguate)",
                    several.len(),
                    var.name
                ))
                .at(format!("{field}[{i}]")));
            }
        }
    }
    merge(declared, vars.clone(), &field)
}

/// Adds vars declared below (a base's accumulator) to `declared`; a name declared twice is
/// an error. `at` says where the incoming vars are merged.
pub fn merge(declared: &mut Vec<Var>, incoming: Vec<Var>, at: &str) -> Result<()> {
    for var in incoming {
        if declared.iter().any(|known| known.name == var.name) {
            return Err(
                Diagnostic::error(format!("var `{}` already encountered", var.name)).at(at),
            );
        }
        declared.push(var);
    }
    Ok(())
}

/// kustomize compares the objref's group, version, kind and name exactly with any id of the
/// object, and its namespace only when it names one (`""` counting as `default`).
fn names(resource: &Resource, var: &Var) -> bool {
    let objref = &var.objref;
    let (group, version) = objref.group_version();
    let object = &resource.object;
    let same_type = group == object.group() && version == resource.version();
    let effective = |ns: &str| {
        if ns.is_empty() {
            "default".to_owned()
        } else {
            ns.to_owned()
        }
    };
    let current = (
        object.kind().to_owned(),
        object.name().to_owned(),
        object.namespace().unwrap_or("").to_owned(),
    );
    let previous = resource
        .previous
        .iter()
        .map(|id| (id.kind.clone(), id.name.clone(), id.namespace.clone()));
    same_type
        && std::iter::once(current)
            .chain(previous)
            .any(|(kind, name, namespace)| {
                kind == objref.kind
                    && name == objref.name
                    && (objref.namespace.is_empty()
                        || effective(&objref.namespace) == effective(&namespace))
            })
}

/// Resolves every declared var and substitutes `$(NAME)` in the `varReference` fields.
pub fn resolve(resources: &mut [Resource], declared: &[Var], config: &Config) -> Result<()> {
    let values = values(resources, declared)?;
    if values.is_empty() {
        return Ok(());
    }
    let specs = with_paths(&config.var_reference);
    let mut object_type = ObjectType::default();
    for resource in resources.iter_mut() {
        let object_type = object_type.read(&resource.object);
        for (spec, path) in &specs {
            if spec.selects_type(object_type) {
                visit_map(resource.object.as_map_mut(), path, false, &mut |node| {
                    substitute(node, &values)
                });
            }
        }
    }
    Ok(())
}

/// Each var's value: its field in the object marked with its name.
fn values(resources: &[Resource], declared: &[Var]) -> Result<BTreeMap<String, Value>> {
    let mut values = BTreeMap::new();
    for var in declared {
        let field_path = match var.fieldref.as_ref().map(|f| f.field_path.as_str()) {
            None | Some("") => DEFAULT_FIELD_PATH,
            Some(path) => path,
        };
        let marked = resources
            .iter()
            .find(|resource| resource.var_names.contains(&var.name))
            .ok_or_else(|| {
                Diagnostic::error(format!(
                    "var `{}` cannot be mapped to a field in the set of known resources: no {} named `{}`",
                    var.name, var.objref.kind, var.objref.name
                ))
                .at("vars")
            })?;
        let value = lookup(marked.object.as_map(), &list_index_path(field_path))
            .ok()
            .flatten()
            .ok_or_else(|| {
                Diagnostic::error(format!(
                    "field `{field_path}` specified in var `{}` not found in the object it names",
                    var.name
                ))
                .on(&marked.object)
                .at("vars")
            })?;
        values.insert(var.name.clone(), value.clone());
    }
    Ok(values)
}

/// Substitutes in a string, or in the string values of a map; other values stay.
fn substitute(node: &mut Value, values: &BTreeMap<String, Value>) {
    match node {
        Value::String(text) => *node = expand(text, values),
        Value::Object(map) => {
            for value in map.values_mut() {
                if let Value::String(text) = value {
                    *value = expand(text, values);
                }
            }
        }
        _ => {}
    }
}

/// kustomize's `DoReplacements`: `$(NAME)` becomes the var's value (keeping its type when it
/// is the whole text), `$$` an escaped `$`; unknown names and maps or lists stay as written.
pub fn expand(input: &str, values: &BTreeMap<String, Value>) -> Value {
    let primitive = |name: &str| values.get(name).filter(|v| scalar::text(v).is_some());
    let mut out = String::new();
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        let (before, from_dollar) = rest.split_at(at);
        out.push_str(before);
        let after = &from_dollar[1..];
        match after.chars().next() {
            None => {
                out.push('$');
                rest = after;
            }
            Some('$') => {
                out.push('$');
                rest = &after[1..];
            }
            Some('(') => match after.find(')') {
                Some(close) => {
                    let name = &after[1..close];
                    match primitive(name) {
                        Some(value) if input == format!("$({name})") => return value.clone(),
                        Some(value) => out.push_str(&scalar::text(value).unwrap_or_default()),
                        None => out.push_str(&from_dollar[..close + 2]),
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = &after[1..];
                }
            },
            Some(other) => {
                out.push('$');
                out.push(other);
                rest = &after[other.len_utf8()..];
            }
        }
    }
    out.push_str(rest);
    Value::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argocd_wasm_sdk::Object;
    use serde_json::json;

    fn resource(value: Value) -> Resource {
        Resource::new(Object::from_value(value).unwrap())
    }

    fn var(value: Value) -> Var {
        serde_json::from_value(value).unwrap()
    }

    fn declaring(vars: &[Var]) -> Tree {
        let mut tree = Tree::default();
        tree.kustomization.vars = vars.to_vec();
        tree
    }

    fn values(pairs: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(pairs).unwrap()
    }

    #[test]
    fn expands_like_kustomize() {
        let values = values(json!({"A": "x", "N": 5, "M": {"k": 1}}));
        assert_eq!(expand("$(A)", &values), json!("x"));
        assert_eq!(expand("$(N)", &values), json!(5));
        assert_eq!(expand("a-$(N)-$(A)", &values), json!("a-5-x"));
        assert_eq!(
            expand("$$(A) $(B) $(M) $x $", &values),
            json!("$(A) $(B) $(M) $x $")
        );
        assert_eq!(expand("$(A", &values), json!("$(A"));
    }

    fn service() -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": "ns"},
               "spec": {"ports": [{"port": 80}]}})
    }

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": [{"name": "c",
                 "args": ["--svc=$(SVC).$(NS)", "$(PORT)"], "env": [{"name": "P", "value": "$(PORT)"}],
                 "image": "$(SVC)"}]}}}})
    }

    #[test]
    fn marks_declares_and_substitutes_in_var_reference_fields() {
        let mut resources = vec![resource(service()), resource(deployment())];
        let vars = [
            var(
                json!({"name": "SVC", "objref": {"kind": "Service", "apiVersion": "v1", "name": "svc"}}),
            ),
            var(
                json!({"name": "NS", "objref": {"kind": "Service", "version": "v1", "name": "svc"},
                       "fieldref": {"fieldPath": "metadata.namespace"}}),
            ),
            var(
                json!({"name": "PORT", "objref": {"kind": "Service", "version": "v1", "name": "svc"},
                       "fieldref": {"fieldPath": "spec.ports[0].port"}}),
            ),
        ];
        let mut declared = Vec::new();
        declare(&mut resources, &mut declared, &declaring(&vars)).unwrap();
        resources[0].object.as_map_mut()["metadata"]["name"] = json!("p-svc");
        resolve(&mut resources, &declared, &Config::default()).unwrap();
        let container = &resources[1].object.as_map()["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["args"], json!(["--svc=p-svc.ns", 80]));
        assert_eq!(container["env"][0]["value"], json!(80));
        assert_eq!(container["image"], json!("$(SVC)"));
    }

    #[test]
    fn refuses_duplicates_ambiguity_and_unmapped_vars() {
        let svc = var(
            json!({"name": "SVC", "objref": {"kind": "Service", "version": "v1", "name": "svc"}}),
        );
        let mut declared = Vec::new();
        let mut resources = vec![resource(service())];
        declare(
            &mut resources,
            &mut declared,
            &declaring(std::slice::from_ref(&svc)),
        )
        .unwrap();
        let twice = declare(
            &mut resources,
            &mut declared,
            &declaring(std::slice::from_ref(&svc)),
        )
        .unwrap_err();
        assert!(
            twice.message.contains("already encountered"),
            "{}",
            twice.message
        );

        let mut other = service();
        other["metadata"]["namespace"] = json!("other");
        let mut two = vec![resource(service()), resource(other)];
        let ambiguous = declare(
            &mut two,
            &mut Vec::new(),
            &declaring(std::slice::from_ref(&svc)),
        )
        .unwrap_err();
        assert!(
            ambiguous.message.contains("unable to disambiguate"),
            "{}",
            ambiguous.message
        );

        let unversioned = var(json!({"name": "X", "objref": {"kind": "Service", "name": "svc"}}));
        let mut resources = vec![resource(service())];
        let mut declared = Vec::new();
        declare(&mut resources, &mut declared, &declaring(&[unversioned])).unwrap();
        let unmapped = resolve(&mut resources, &declared, &Config::default()).unwrap_err();
        assert!(
            unmapped.message.contains("cannot be mapped"),
            "{}",
            unmapped.message
        );
    }
}
