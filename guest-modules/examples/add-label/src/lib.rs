//! The smallest useful module: `with: {key: team, value: payments}` adds the label
//! `team: payments` to every object the step matches.

use argocd_wasm_sdk::prelude::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddLabel {
    key: String,
    value: String,
}

impl Module for AddLabel {
    fn info() -> Info {
        Info::new(
            "add-label",
            env!("CARGO_PKG_VERSION"),
            "Adds one label to every object",
        )
    }

    fn validate(&self) -> Vec<Diagnostic> {
        if self.key.is_empty() {
            return vec![
                Diagnostic::error("the label key is empty")
                    .at("with.key")
                    .code("empty-key"),
            ];
        }
        Vec::new()
    }

    fn transform(&self, _ctx: &Context, objects: &mut Objects) -> Result<()> {
        for object in objects.iter_mut() {
            object.set_label(&self.key, &self.value)?;
        }
        Ok(())
    }
}

register!(AddLabel);

#[cfg(test)]
mod tests {
    use super::*;
    use argocd_wasm_sdk::testing::TestRun;

    #[test]
    fn labels_every_object() {
        let out = TestRun::new()
            .config(json!({"key": "team", "value": "payments"}))
            .run::<AddLabel>(vec![
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "labels": {"x": "y"}}}),
            ])
            .unwrap();
        for object in &out.objects {
            assert_eq!(object["metadata"]["labels"]["team"], "payments");
        }
        assert_eq!(out.objects[1]["metadata"]["labels"]["x"], "y");
    }

    #[test]
    fn rejects_a_missing_or_empty_key() {
        let missing = TestRun::new()
            .config(json!({"value": "x"}))
            .validate::<AddLabel>();
        assert!(
            missing[0].message.contains("missing field `key`"),
            "{missing:?}"
        );
        let empty = TestRun::new()
            .config(json!({"key": "", "value": "x"}))
            .validate::<AddLabel>();
        assert_eq!(empty[0].field.as_deref(), Some("with.key"));
    }
}
