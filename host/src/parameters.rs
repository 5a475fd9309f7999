//! `parameters`: the JSON array Argo CD's `parameters.dynamic.command` prints, built from
//! what each step's module announces through `describe()`.

use anyhow::Result;
use serde_json::{Map, Value, json};

use crate::pipeline;
use crate::runtime::{ParameterAnnouncement, ParameterKind, ParameterValue, Runtime};
use crate::server::protocol::ParametersRequest;

/// What `parameters` prints for the app in `request`, in-process or in the daemon.
pub fn announce(runtime: &Runtime, request: &ParametersRequest) -> Result<String> {
    let source_path = request
        .env
        .get("ARGOCD_APP_SOURCE_PATH")
        .map_or("", String::as_str);
    let announced = pipeline::announced_parameters(runtime, &request.dir, source_path)?;
    Ok(format!("{}\n", to_argocd_json(&announced)))
}

/// Argo CD's announcement shape: name, title, tooltip, required, itemType, collectionType,
/// and the default under `string`, `array` or `map`.
pub fn to_argocd_json(announcements: &[ParameterAnnouncement]) -> Value {
    Value::Array(announcements.iter().map(announcement).collect())
}

fn announcement(parameter: &ParameterAnnouncement) -> Value {
    let title = match parameter.title.as_str() {
        "" => parameter.name.as_str(),
        title => title,
    };
    let collection = match parameter.kind {
        ParameterKind::String => "string",
        ParameterKind::Array => "array",
        ParameterKind::Map => "map",
    };
    let mut entry = json!({
        "name": parameter.name,
        "title": title,
        "tooltip": parameter.tooltip,
        "required": parameter.required,
        "itemType": "string",
        "collectionType": collection,
    });
    let (key, default) = match &parameter.default {
        None => return entry,
        Some(ParameterValue::String(text)) => ("string", json!(text)),
        Some(ParameterValue::Array(items)) => ("array", json!(items)),
        Some(ParameterValue::Map(pairs)) => {
            let map: Map<String, Value> =
                pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            ("map", Value::Object(map))
        }
    };
    entry[key] = default;
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_take_argocd_shape() {
        let announcements = [
            ParameterAnnouncement {
                name: "images".into(),
                title: String::new(),
                tooltip: "Images to set".into(),
                required: false,
                kind: ParameterKind::Array,
                default: None,
            },
            ParameterAnnouncement {
                name: "active-colour".into(),
                title: "Live colour".into(),
                tooltip: "blue or green".into(),
                required: true,
                kind: ParameterKind::String,
                default: Some(ParameterValue::String("blue".into())),
            },
        ];
        assert_eq!(
            to_argocd_json(&announcements),
            json!([
                {"name": "images", "title": "images", "tooltip": "Images to set", "required": false,
                 "itemType": "string", "collectionType": "array"},
                {"name": "active-colour", "title": "Live colour", "tooltip": "blue or green",
                 "required": true, "itemType": "string", "collectionType": "string", "string": "blue"},
            ])
        );
    }
}
