//! The kustomization's fields as the transforms use them: the shared `kustomization` types,
//! and patches resolved from the tree's files into the documents they hold.

use serde_json::{Map, Value};

pub use kustomization::{LabelSet, Operation, PatchOptions, Replica, StringMap, Target, Tree};

/// A patch's body: a strategic-merge patch (an object) or a JSON 6902 op list.
#[derive(Debug, Clone)]
pub enum PatchBody {
    Json6902(Vec<Operation>),
    Strategic(Map<String, Value>),
}

impl PatchBody {
    /// Reads one parsed patch document: a mapping is a strategic-merge patch, a list is a
    /// JSON 6902 op list.
    pub fn from_document(document: &Value) -> Result<Self, String> {
        match document {
            Value::Object(map) => Ok(Self::Strategic(map.clone())),
            Value::Array(_) => serde_json::from_value(document.clone())
                .map(Self::Json6902)
                .map_err(|e| format!("not a JSON 6902 patch: {e}")),
            _ => Err("a patch must be a mapping (strategic merge) or a list (JSON 6902)".into()),
        }
    }
}

/// The patch bodies a `path:` or inline `patch:` holds, from the tree's files.
pub fn patch_bodies(tree: &Tree, source: Option<&str>) -> Result<Vec<PatchBody>, String> {
    let source = source.ok_or("needs `path` or `patch`")?;
    let documents = tree.documents(source)?;
    if documents.is_empty() {
        return Err("the patch is empty".into());
    }
    documents.iter().map(PatchBody::from_document).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kustomization::FileData;
    use serde_json::json;

    #[test]
    fn patch_documents_are_strategic_merge_or_json6902() {
        let mut tree = Tree::default();
        tree.files.insert(
            "p.yaml".into(),
            FileData::Documents(vec![
                json!({"kind": "Deployment"}),
                json!([{"op": "remove", "path": "/spec"}]),
            ]),
        );
        tree.files
            .insert("empty".into(), FileData::Documents(Vec::new()));
        let bodies = patch_bodies(&tree, Some("p.yaml")).unwrap();
        assert!(matches!(bodies[0], PatchBody::Strategic(_)));
        assert!(matches!(&bodies[1], PatchBody::Json6902(ops) if ops.len() == 1));
        assert!(patch_bodies(&tree, Some("empty")).is_err());
        assert!(patch_bodies(&tree, None).is_err());
        assert!(PatchBody::from_document(&json!("text")).is_err());
        assert!(PatchBody::from_document(&json!([{"op": "jump"}])).is_err());
    }
}
