//! `replacements:` and the deprecated `vars:`, as kustomize v5.5's `ReplacementField`,
//! `Replacement` and `Var`.

use serde::{Deserialize, Serialize};

use crate::{Target, nullable};

/// One entry of `replacements:`: a replacement written inline, or `path:` to a file holding
/// one replacement or a list of them (which the host loads into the tree's files).
/// kustomize refuses an entry with both.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplacementEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetSelector>>,
}

impl ReplacementEntry {
    /// The inline part of the entry.
    pub fn inline(&self) -> Replacement {
        Replacement {
            source: self.source.clone(),
            targets: self.targets.clone(),
        }
    }
}

/// Copies one value (the source) into fields of other objects (the targets).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSelector>,
    /// kustomize refuses a replacement without targets (`targets: []` included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetSelector>>,
}

/// Which object the value comes from (exact group, version, kind, name and namespace, each
/// optional), the field (default `metadata.name`) and how to cut it.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SourceSelector {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<FieldOptions>,
}

/// Which objects receive the value (selected, minus rejected) and where. `select` and
/// `reject` are kustomize's `Selector`, as a patch target, but compare group, version,
/// kind, name and namespace exactly.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<Target>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub reject: Vec<Target>,
    /// Default `metadata.name`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub field_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<FieldOptions>,
}

/// How to read or write a field: one `delimiter`-separated part of it (`index`; on a
/// target, below 0 prepends and past the end appends), and whether to `create` a missing
/// target field.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOptions {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub delimiter: String,
    #[serde(default)]
    pub index: i64,
    /// Declared by kustomize, not implemented by it either.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub encoding: String,
    #[serde(default)]
    pub create: bool,
}

/// One entry of the deprecated `vars:`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Var {
    pub name: String,
    pub objref: ObjectReference,
    /// Default `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fieldref: Option<FieldReference>,
}

/// The object a var reads: its kind and name, as written before prefixes and suffixes.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectReference {
    /// Overrides `group` and `version` when set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

impl ObjectReference {
    /// Group and version, from `apiVersion` when it is set (as kustomize's `Target.GVK`).
    pub fn group_version(&self) -> (String, String) {
        match self.api_version.split_once('/') {
            Some((group, version)) => (group.to_owned(), version.to_owned()),
            None if !self.api_version.is_empty() => (self.group.clone(), self.api_version.clone()),
            None => (self.group.clone(), self.version.clone()),
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldReference {
    /// kustomize reads JSON keys case-insensitively; kubebuilder writes `fieldpath`.
    #[serde(default, alias = "fieldpath", skip_serializing_if = "String::is_empty")]
    pub field_path: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_inline_and_path_entries() {
        let entries: Vec<ReplacementEntry> = serde_json::from_value(json!([
            {"path": "r.yaml"},
            {"source": {"kind": "ConfigMap", "fieldPath": "data.x", "options": {"delimiter": ".", "index": 1}},
             "targets": [{"select": {"kind": "Deployment"}, "reject": [{"name": "x"}],
                          "fieldPaths": ["spec.x"], "options": {"create": true}}]}
        ]))
        .unwrap();
        assert_eq!(entries[0].path.as_deref(), Some("r.yaml"));
        assert!(entries[0].source.is_none());
        let inline = &entries[1].inline();
        assert_eq!(
            inline
                .source
                .as_ref()
                .unwrap()
                .options
                .as_ref()
                .unwrap()
                .index,
            1
        );
        assert!(
            inline.targets.as_ref().unwrap()[0]
                .options
                .as_ref()
                .unwrap()
                .create
        );
    }

    #[test]
    fn reads_vars_with_api_version_or_group_version() {
        let var: Var = serde_json::from_value(json!({
            "name": "NS", "objref": {"kind": "Certificate", "group": "cert-manager.io", "version": "v1", "name": "c"},
            "fieldref": {"fieldPath": "metadata.namespace"}
        }))
        .unwrap();
        assert_eq!(
            var.objref.group_version(),
            ("cert-manager.io".into(), "v1".into())
        );
        let var: Var = serde_json::from_value(
            json!({"name": "S", "objref": {"kind": "Service", "apiVersion": "v1", "name": "s"}}),
        )
        .unwrap();
        assert_eq!(var.objref.group_version(), (String::new(), "v1".into()));
        assert!(
            serde_json::from_value::<Var>(json!({"name": "x", "objref": {}, "other": 1})).is_err()
        );
    }
}
