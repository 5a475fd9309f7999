//! Kubernetes label selectors (`matchLabels` and `matchExpressions`), as a PDB uses them.

use serde_json::Value;

/// Whether `selector` selects an object with `labels`. A missing or empty selector
/// selects everything, as it does for a `policy/v1` PodDisruptionBudget.
pub fn selects(selector: &Value, labels: &Value) -> bool {
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let labels_hold = match_labels
        .into_iter()
        .flatten()
        .all(|(key, value)| label(key) == value.as_str());
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    labels_hold
        && expressions
            .into_iter()
            .flatten()
            .all(|expression| expression_holds(expression, label))
}

fn expression_holds<'a>(expression: &Value, label: impl Fn(&str) -> Option<&'a str>) -> bool {
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
    let value = label(key);
    match expression.get("operator").and_then(Value::as_str) {
        Some("In") => value.is_some_and(|v| values.contains(&v)),
        Some("NotIn") => !value.is_some_and(|v| values.contains(&v)),
        Some("Exists") => value.is_some(),
        Some("DoesNotExist") => value.is_none(),
        // An operator we do not know selects nothing, so the workload still gets a budget.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn match_labels_and_expressions_must_all_hold() {
        let labels = json!({"app": "web", "tier": "frontend"});
        assert!(selects(&json!({}), &labels));
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
}
