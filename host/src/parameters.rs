//! Argo CD's parameter shapes, in one place: the announcement its
//! `parameters.dynamic.command` prints (built from what each step's module announces through
//! `describe()`), and the values it sends in `ARGOCD_APP_PARAMETERS` (read by
//! [`crate::invocation`]). Both carry a value under `string`, `array` or `map`
//! (`ArgocdShapes`).

use std::collections::BTreeMap;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// A parameter's value as Argo CD writes it: under `string`, `array` or `map`. What it
/// sends may carry any combination, none included, and `null` for a shape present but
/// empty; an announcement's default carries one.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ArgocdShapes {
    #[serde(skip_serializing_if = "Option::is_none")]
    string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    array: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    map: Option<BTreeMap<String, String>>,
}

impl ArgocdShapes {
    /// One value per shape present, in Argo CD's order: string, map, array.
    pub(crate) fn into_values(self) -> Vec<ParameterValue> {
        [
            self.string.map(ParameterValue::String),
            self.map
                .map(|map| ParameterValue::Map(map.into_iter().collect())),
            self.array.map(ParameterValue::Array),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn of(value: Option<&ParameterValue>) -> Self {
        match value.cloned() {
            None => Self::default(),
            Some(ParameterValue::String(text)) => Self {
                string: Some(text),
                ..Self::default()
            },
            Some(ParameterValue::Array(items)) => Self {
                array: Some(items),
                ..Self::default()
            },
            Some(ParameterValue::Map(pairs)) => Self {
                map: Some(pairs.into_iter().collect()),
                ..Self::default()
            },
        }
    }
}

/// One announced parameter in Argo CD's shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Announcement<'a> {
    name: &'a str,
    /// The name when the module gives none.
    title: &'a str,
    tooltip: &'a str,
    required: bool,
    item_type: &'static str,
    collection_type: &'static str,
    /// The default, under the key of its shape.
    #[serde(flatten)]
    default: ArgocdShapes,
}

/// Argo CD's announcement shape: name, title, tooltip, required, itemType, collectionType,
/// and the default under `string`, `array` or `map`.
pub fn to_argocd_json(announcements: &[ParameterAnnouncement]) -> Value {
    Value::Array(announcements.iter().map(announcement).collect())
}

fn announcement(parameter: &ParameterAnnouncement) -> Value {
    let announcement = Announcement {
        name: &parameter.name,
        title: match parameter.title.as_str() {
            "" => &parameter.name,
            title => title,
        },
        tooltip: &parameter.tooltip,
        required: parameter.required,
        item_type: "string",
        collection_type: match parameter.kind {
            ParameterKind::String => "string",
            ParameterKind::Array => "array",
            ParameterKind::Map => "map",
        },
        default: ArgocdShapes::of(parameter.default.as_ref()),
    };
    serde_json::to_value(announcement).expect("an announcement is plain JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
