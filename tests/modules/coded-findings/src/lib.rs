//! Test module for the host's contract 0.2.0 bindings, written straight on wit-bindgen so it
//! stays on 0.2.0 whichever contract the SDK builds for. It labels every object
//! `contract: 0.2.0` and reports findings with codes:
//! - `with: {refuse: true}` fails the transform with `coded-findings/refused`, naming the
//!   first object;
//! - any other key in `with:` is refused by `validate-config` as `coded-findings/unknown-key`.

wit_bindgen::generate!({
    path: "../../../wit/0.2.0",
    world: "transformer",
});

use argocd::wasm_plugin::types::{ObjectRef, Severity};
use serde_json::Value;

/// The contract this module is built for, as `argocd-wasm-plugin-contract` records it.
#[cfg(target_arch = "wasm32")]
#[used]
#[unsafe(link_section = "argocd-wasm-plugin-contract")]
static CONTRACT: [u8; 5] = *b"0.2.0";

const NAME: &str = "coded-findings";

struct CodedFindings;

fn error(code: &str, message: String, object: Option<ObjectRef>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        message,
        object,
        field: None,
        code: Some(format!("{NAME}/{code}")),
    }
}

fn config(text: &str) -> serde_json::Map<String, Value> {
    serde_json::from_str(text).unwrap_or_default()
}

fn object_ref(object: &Value) -> ObjectRef {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    ObjectRef {
        api_version: text(&object["apiVersion"]),
        kind: text(&object["kind"]),
        namespace: object["metadata"]["namespace"].as_str().map(str::to_owned),
        name: text(&object["metadata"]["name"]),
    }
}

impl Guest for CodedFindings {
    fn describe() -> Info {
        Info {
            name: NAME.into(),
            version: "0.0.0".into(),
            description: "Labels objects and reports coded findings (contract 0.2.0)".into(),
            parameters: Vec::new(),
            reads_kinds: Vec::new(),
        }
    }

    fn validate_config(config_json: String) -> Vec<Diagnostic> {
        config(&config_json)
            .keys()
            .filter(|key| *key != "refuse")
            .map(|key| error("unknown-key", format!("unknown key `{key}`"), None))
            .collect()
    }

    fn transform(ctx: Context, resources: Vec<String>) -> Result<Output, Vec<Diagnostic>> {
        let mut objects: Vec<Value> = resources
            .iter()
            .map(|text| serde_json::from_str(text).unwrap_or_default())
            .collect();
        if config(&ctx.config).get("refuse") == Some(&Value::Bool(true)) {
            let first = objects.first().map(object_ref);
            return Err(vec![error("refused", "refused on request".into(), first)]);
        }
        for object in &mut objects {
            object["metadata"]["labels"]["contract"] = Value::from("0.2.0");
        }
        Ok(Output {
            resources: objects.iter().map(Value::to_string).collect(),
            diagnostics: Vec::new(),
        })
    }
}

export!(CodedFindings);
