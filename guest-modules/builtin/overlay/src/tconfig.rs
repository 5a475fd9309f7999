//! kustomize's transformer configuration (`TransformerConfig`): for each transform, the field
//! specs it writes. [`Config::default`] holds kustomize v5.5's defaults; `configurations`
//! files and the name-reference hints of `crds` schemas merge into them, and a level's config
//! also carries what its bases and components merged (kustomize merges accumulators), so
//! every transform of a level and of the levels above it uses the result.

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use kustomization::nullable;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::fieldspec::{FieldSpec, gvk_selects};
use crate::kinds::Gvk;

/// One `nameReference` entry: objects of this kind are named by the referrers' fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameBackReference {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default, rename = "fieldSpecs", deserialize_with = "nullable")]
    pub referrers: Vec<FieldSpec>,
}

impl NameBackReference {
    /// Whether an object of this group, version and kind is what the entry names.
    pub fn selects(&self, group: &str, version: &str, kind: &str) -> bool {
        gvk_selects(
            (&self.group, &self.version, &self.kind),
            group,
            version,
            kind,
        )
    }
}

/// The field specs of every transform, as in a `configurations` file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default, deserialize_with = "nullable")]
    pub name_prefix: Vec<FieldSpec>,
    #[serde(default, deserialize_with = "nullable")]
    pub name_suffix: Vec<FieldSpec>,
    #[serde(default, deserialize_with = "nullable")]
    pub namespace: Vec<FieldSpec>,
    /// What `commonLabels` and `labels` with `includeSelectors` write.
    #[serde(default, deserialize_with = "nullable")]
    pub common_labels: Vec<FieldSpec>,
    /// Extra fields every `labels` entry writes.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: Vec<FieldSpec>,
    /// What `labels` with `includeTemplates` write.
    #[serde(default, deserialize_with = "nullable")]
    pub template_labels: Vec<FieldSpec>,
    #[serde(default, deserialize_with = "nullable")]
    pub common_annotations: Vec<FieldSpec>,
    #[serde(default, deserialize_with = "nullable")]
    pub name_reference: Vec<NameBackReference>,
    /// Where `$(VAR)` references are substituted.
    #[serde(default, deserialize_with = "nullable")]
    pub var_reference: Vec<FieldSpec>,
    #[serde(default, deserialize_with = "nullable")]
    pub images: Vec<FieldSpec>,
    #[serde(default, deserialize_with = "nullable")]
    pub replicas: Vec<FieldSpec>,
    #[serde(skip)]
    basis: Basis,
}

/// How a config's specs began, so that merging kustomize's defaults into a config that
/// already starts with them is skipped: every base's accumulator holds the defaults, and
/// merging them spec by spec is quadratic in about a hundred specs per level.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Basis {
    /// Read from a `configurations` file or a CRD, or empty.
    #[default]
    Other,
    /// kustomize's defaults and nothing else.
    Defaults,
    /// kustomize's defaults first, in their order, then merged specs (a merge only appends).
    DefaultsFirst,
}

// kustomize's defaults (`default_field_specs.txt` describes the format): DEFAULT_SECTIONS
// and DEFAULT_NAME_REFERENCES, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/default_field_specs.rs"));

impl Default for Config {
    /// kustomize v5.5's default field specs.
    fn default() -> Self {
        let mut config = Config::empty();
        for (section, specs) in DEFAULT_SECTIONS {
            config
                .section_mut(section)
                .unwrap_or_else(|| panic!("unknown section in the default field specs: {section}"))
                .extend_from_slice(specs);
        }
        config.name_reference = DEFAULT_NAME_REFERENCES
            .iter()
            .map(|(target, referrers)| NameBackReference {
                group: target.group.to_owned(),
                version: target.version.to_owned(),
                kind: target.kind.to_owned(),
                referrers: referrers.to_vec(),
            })
            .collect();
        config.basis = Basis::Defaults;
        config
    }
}

impl Config {
    pub fn empty() -> Self {
        Self {
            name_prefix: Vec::new(),
            name_suffix: Vec::new(),
            namespace: Vec::new(),
            common_labels: Vec::new(),
            labels: Vec::new(),
            template_labels: Vec::new(),
            common_annotations: Vec::new(),
            name_reference: Vec::new(),
            var_reference: Vec::new(),
            images: Vec::new(),
            replicas: Vec::new(),
            basis: Basis::Other,
        }
    }

    /// The documents of one `configurations` file. Unknown fields are errors, as in
    /// kustomize's strict reading.
    pub fn from_documents(documents: &[Value]) -> Result<Config> {
        let mut config = Config::empty();
        for document in documents.iter().filter(|d| !d.is_null()) {
            let one = Config::deserialize(document).map_err(|e| {
                Diagnostic::error(format!("not a kustomize transformer configuration: {e}"))
            })?;
            config.merge(one)?;
        }
        Ok(config)
    }

    /// Merges `other` in: a spec already present (same path, kinds selecting it) is kept
    /// once, and the same field with a different `create` is an error, as in kustomize.
    pub fn merge(&mut self, other: Config) -> Result<()> {
        // Each default spec finds itself first among the defaults this config starts with:
        // nothing to add, nothing conflicting.
        if other.basis == Basis::Defaults && self.basis != Basis::Other {
            return Ok(());
        }
        if self.basis == Basis::Defaults {
            self.basis = Basis::DefaultsFirst;
        }
        let pairs = [
            (&mut self.name_prefix, other.name_prefix, "namePrefix"),
            (&mut self.name_suffix, other.name_suffix, "nameSuffix"),
            (&mut self.namespace, other.namespace, "namespace"),
            (&mut self.common_labels, other.common_labels, "commonLabels"),
            (&mut self.labels, other.labels, "labels"),
            (
                &mut self.template_labels,
                other.template_labels,
                "templateLabels",
            ),
            (
                &mut self.common_annotations,
                other.common_annotations,
                "commonAnnotations",
            ),
            (&mut self.var_reference, other.var_reference, "varReference"),
            (&mut self.images, other.images, "images"),
            (&mut self.replicas, other.replicas, "replicas"),
        ];
        for (specs, incoming, section) in pairs {
            merge_specs(specs, incoming)
                .map_err(|e| Diagnostic::error(format!("{section}: {e}")))?;
        }
        for entry in other.name_reference {
            self.merge_name_reference(entry)?;
        }
        Ok(())
    }

    fn merge_name_reference(&mut self, entry: NameBackReference) -> Result<()> {
        let same_kind = |known: &&mut NameBackReference| {
            (&known.group, &known.version, &known.kind)
                == (&entry.group, &entry.version, &entry.kind)
        };
        match self.name_reference.iter_mut().find(same_kind) {
            Some(known) => merge_specs(&mut known.referrers, entry.referrers)
                .map_err(|e| Diagnostic::error(format!("nameReference to {}: {e}", entry.kind))),
            None => {
                self.name_reference.push(entry);
                Ok(())
            }
        }
    }

    /// The field specs kustomize reads from the OpenAPI definitions of a `crds` file:
    /// properties marked `x-kubernetes-object-ref-kind` (with `-api-version` and an optional
    /// `-name-key`) name another object, `x-kubernetes-annotation` ones take commonAnnotations,
    /// `x-kubernetes-label-selector` ones commonLabels, `x-kubernetes-identity` ones the
    /// name prefix. Only definitions with `kind`, `apiVersion` and `metadata` are kinds.
    pub fn from_crds(documents: &[Value]) -> Result<Config> {
        let mut config = Config::empty();
        for definitions in documents.iter().filter_map(Value::as_object) {
            for (type_name, definition) in definitions {
                let properties = properties_of(definition);
                let is_kind = ["kind", "apiVersion", "metadata"]
                    .iter()
                    .all(|key| properties.is_some_and(|p| p.contains_key(*key)));
                if !is_kind {
                    continue;
                }
                let kind = type_name.rsplit('.').next().unwrap_or(type_name);
                let mut found = Config::empty();
                let mut path = Vec::new();
                crd_specs(&mut found, kind, definitions, type_name, &mut path, 0)?;
                config.merge(found)?;
            }
        }
        Ok(config)
    }
}

/// kustomize's `FsSlice.MergeAll`.
pub fn merge_specs(
    specs: &mut Vec<FieldSpec>,
    incoming: Vec<FieldSpec>,
) -> std::result::Result<(), String> {
    for spec in incoming {
        match specs.iter().find(|known| known.same_field(&spec)) {
            Some(known) if known.create != spec.create => {
                return Err(format!("conflicting fieldspecs for path `{}`", spec.path));
            }
            Some(_) => {}
            None => specs.push(spec),
        }
    }
    Ok(())
}

fn properties_of(definition: &Value) -> Option<&Map<String, Value>> {
    definition.get("Schema")?.get("properties")?.as_object()
}

/// Definitions refer to each other by `$ref`; a self-referencing schema stops here.
const MAX_CRD_DEPTH: usize = 32;

fn crd_specs(
    config: &mut Config,
    kind: &str,
    definitions: &Map<String, Value>,
    type_name: &str,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<()> {
    let Some(properties) = definitions.get(type_name).and_then(properties_of) else {
        return Ok(());
    };
    if depth > MAX_CRD_DEPTH {
        return Ok(());
    }
    for (name, property) in properties {
        path.push(name.clone());
        let text = |key: &str| property.get(key).and_then(Value::as_str);
        let spec = |path: &[String]| FieldSpec {
            kind: kind.to_owned().into(),
            path: path.join("/").into(),
            ..FieldSpec::new(crate::kinds::Gvk::ANY, "", false)
        };
        let mut found = Config::empty();
        if text("x-kubernetes-annotation").is_some() {
            found.common_annotations.push(spec(path));
        }
        if text("x-kubernetes-label-selector").is_some() {
            found.common_labels.push(spec(path));
        }
        if text("x-kubernetes-identity").is_some() {
            found.name_prefix.push(spec(path));
        }
        if let (Some(version), Some(target)) = (
            text("x-kubernetes-object-ref-api-version"),
            text("x-kubernetes-object-ref-kind"),
        ) {
            let key = text("x-kubernetes-object-ref-name-key").unwrap_or("name");
            let mut name_path = path.clone();
            name_path.push(key.to_owned());
            found.name_reference.push(NameBackReference {
                group: String::new(),
                version: version.to_owned(),
                kind: target.to_owned(),
                referrers: vec![spec(&name_path)],
            });
        }
        config.merge(found)?;
        if let Some(reference) = text("$ref") {
            crd_specs(config, kind, definitions, reference, path, depth + 1)?;
        }
        path.pop();
    }
    Ok(())
}

impl Config {
    fn section_mut(&mut self, section: &str) -> Option<&mut Vec<FieldSpec>> {
        Some(match section {
            "namePrefix" => &mut self.name_prefix,
            "nameSuffix" => &mut self.name_suffix,
            "namespace" => &mut self.namespace,
            "commonLabels" => &mut self.common_labels,
            "labels" => &mut self.labels,
            "templateLabels" => &mut self.template_labels,
            "commonAnnotations" => &mut self.common_annotations,
            "varReference" => &mut self.var_reference,
            "images" => &mut self.images,
            "replicas" => &mut self.replicas,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_hold_kustomize_field_specs() {
        let config = Config::default();
        assert_eq!(config.name_prefix.len(), 1);
        assert!(
            config
                .common_labels
                .iter()
                .any(|s| s.path == "spec/selector" && s.kind == "Service" && s.create)
        );
        assert!(
            config
                .template_labels
                .iter()
                .any(|s| s.path == "spec/volumeClaimTemplates[]/metadata/labels")
        );
        assert!(
            config
                .var_reference
                .iter()
                .any(|s| s.path == "metadata/annotations")
        );
        let config_map = config
            .name_reference
            .iter()
            .find(|entry| entry.kind == "ConfigMap")
            .unwrap();
        assert!(config_map.referrers.iter().any(|s| s.kind == "PodTemplate"));
        assert_eq!(
            config
                .name_reference
                .iter()
                .map(|e| e.referrers.len())
                .sum::<usize>(),
            167
        );
    }

    #[test]
    fn merges_configurations_into_the_defaults() {
        let custom = Config::from_documents(&[json!({
            "nameReference": [{"kind": "Issuer", "group": "cert-manager.io",
                               "fieldSpecs": [{"kind": "Certificate", "group": "cert-manager.io", "path": "spec/issuerRef/name"}]},
                              {"kind": "ConfigMap", "version": "v1",
                               "fieldSpecs": [{"kind": "Foo", "path": "spec/cm"}]}],
            "varReference": [{"path": "spec/commonName", "kind": "Certificate"}],
            "commonLabels": null
        })])
        .unwrap();
        let mut config = Config::default();
        let before = config.name_reference.len();
        config.merge(custom.clone()).unwrap();
        assert_eq!(config.name_reference.len(), before + 1);
        let config_map = config
            .name_reference
            .iter()
            .find(|e| e.kind == "ConfigMap")
            .unwrap();
        assert!(config_map.referrers.iter().any(|s| s.path == "spec/cm"));
        // Merging twice changes nothing, and neither do the defaults a base brings.
        let merged = config.clone();
        config.merge(custom).unwrap();
        config.merge(Config::default()).unwrap();
        assert_eq!(config, merged);
        // Into specs that do not start with the defaults, the defaults merge in full.
        let mut other = Config::from_documents(&[json!({"images": [{"path": "spec/x"}]})]).unwrap();
        other.merge(Config::default()).unwrap();
        assert_eq!(other.images.len(), 1 + Config::default().images.len());
        assert_eq!(other.name_reference, Config::default().name_reference);
    }

    #[test]
    fn rejects_unknown_sections_and_conflicting_create() {
        let unknown = Config::from_documents(&[json!({"nameReferences": []})]).unwrap_err();
        assert!(
            unknown.message.contains("unknown field"),
            "{}",
            unknown.message
        );
        let conflict = Config::from_documents(&[
            json!({"commonLabels": [{"path": "metadata/labels", "create": false}]}),
        ])
        .unwrap();
        let error = Config::default().merge(conflict).unwrap_err();
        assert!(
            error.message.contains("conflicting fieldspecs"),
            "{}",
            error.message
        );
    }

    #[test]
    fn reads_name_references_from_crd_schemas() {
        let definitions = json!({
            "example.com/v1.MyKind": {"Schema": {"properties": {
                "apiVersion": {}, "kind": {}, "metadata": {},
                "spec": {"$ref": "example.com/v1.MyKindSpec"}}}},
            "example.com/v1.MyKindSpec": {"Schema": {"properties": {
                "beeRef": {"x-kubernetes-object-ref-api-version": "v1beta1",
                           "x-kubernetes-object-ref-kind": "Bee"},
                "secretRef": {"x-kubernetes-object-ref-api-version": "v1",
                              "x-kubernetes-object-ref-kind": "Secret",
                              "x-kubernetes-object-ref-name-key": "secretName"}}}}
        });
        let config = Config::from_crds(&[definitions]).unwrap();
        let paths: Vec<(&str, &str)> = config
            .name_reference
            .iter()
            .map(|e| (e.kind.as_str(), &*e.referrers[0].path))
            .collect();
        assert!(paths.contains(&("Bee", "spec/beeRef/name")));
        assert!(paths.contains(&("Secret", "spec/secretRef/secretName")));
        assert!(
            config
                .name_reference
                .iter()
                .all(|e| e.referrers[0].kind == "MyKind")
        );
    }
}
