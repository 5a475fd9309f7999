//! Kubernetes label selectors, as workloads, PodDisruptionBudgets and Services use them.

use serde_json::{Map, Value};

/// Whether `labels` carry every label of `required` with the same value: how a Service's
/// `spec.selector` (a plain map) and a selector's `matchLabels` pick objects.
pub fn matches_labels(required: &Map<String, Value>, labels: &Map<String, Value>) -> bool {
    required
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value))
}

/// Whether a `LabelSelector` (`matchLabels` and `matchExpressions`, as Deployments,
/// PodDisruptionBudgets and NetworkPolicies write it) selects an object with `labels`.
/// Every requirement must hold, so a missing or empty selector selects everything, as it
/// does in a `policy/v1` PodDisruptionBudget. An operator Kubernetes does not know selects
/// nothing.
pub fn selects(selector: &Value, labels: &Map<String, Value>) -> bool {
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    match_labels.is_none_or(|required| matches_labels(required, labels))
        && expressions
            .into_iter()
            .flatten()
            .all(|expression| expression_holds(expression, labels))
}

fn expression_holds(expression: &Value, labels: &Map<String, Value>) -> bool {
    let key = expression
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let values: Vec<&str> = expression
        .get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let value = labels.get(key).and_then(Value::as_str);
    let listed = value.is_some_and(|v| values.contains(&v));
    match expression.get("operator").and_then(Value::as_str) {
        Some("In") => listed,
        Some("NotIn") => !listed,
        Some("Exists") => value.is_some(),
        Some("DoesNotExist") => value.is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels() -> Map<String, Value> {
        json!({"app": "web", "tier": "frontend"})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn match_labels_and_expressions_must_all_hold() {
        let labels = labels();
        assert!(selects(&json!({}), &labels));
        assert!(selects(&Value::Null, &labels));
        assert!(selects(&json!({"matchLabels": {"app": "web"}}), &labels));
        assert!(!selects(&json!({"matchLabels": {"app": "api"}}), &labels));
        let expressions = |op: &str, values: Value| json!({"matchExpressions": [{"key": "tier", "operator": op, "values": values}]});
        assert!(selects(
            &expressions("In", json!(["frontend", "x"])),
            &labels
        ));
        assert!(!selects(
            &expressions("NotIn", json!(["frontend"])),
            &labels
        ));
        assert!(selects(&expressions("Exists", json!([])), &labels));
        assert!(!selects(&expressions("DoesNotExist", json!([])), &labels));
        assert!(!selects(&expressions("Gt", json!(["1"])), &labels));
    }

    #[test]
    fn a_plain_map_needs_every_label() {
        let labels = labels();
        let required = |value: Value| value.as_object().unwrap().clone();
        assert!(matches_labels(&required(json!({"app": "web"})), &labels));
        assert!(!matches_labels(
            &required(json!({"app": "web", "colour": "blue"})),
            &labels
        ));
    }
}
