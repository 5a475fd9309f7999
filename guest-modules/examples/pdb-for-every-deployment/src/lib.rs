//! `pdb-for-every-deployment`: emits a `policy/v1` PodDisruptionBudget for every Deployment
//! and StatefulSet, selecting the workload's pods by `spec.selector.matchLabels`, unless a
//! PodDisruptionBudget in the stream already selects them.
//!
//! ```yaml
//! - module: modules/pdb_for_every_deployment.wasm
//!   with: {maxUnavailable: "25%"}   # or minAvailable; default minAvailable: 1
//! ```

use argocd_wasm_sdk::prelude::*;
use argocd_wasm_sdk::selects;
use serde_json::Map;

const PDB_KIND: &str = "PodDisruptionBudget";

/// The step's `with:` block.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PdbForEveryDeployment {
    min_available: Option<Value>,
    max_unavailable: Option<Value>,
    /// The workload kinds that get a budget.
    #[serde(default = "default_kinds")]
    kinds: Vec<String>,
}

fn default_kinds() -> Vec<String> {
    vec!["Deployment".into(), "StatefulSet".into()]
}

impl Module for PdbForEveryDeployment {
    fn info() -> Info {
        Info::new(
            "pdb-for-every-deployment",
            env!("CARGO_PKG_VERSION"),
            "Adds a PodDisruptionBudget for every workload that has none",
        )
        .reads(&["Deployment", "StatefulSet", PDB_KIND])
    }

    fn validate(&self) -> Vec<Diagnostic> {
        let fields = [
            ("minAvailable", &self.min_available),
            ("maxUnavailable", &self.max_unavailable),
        ];
        let mut problems: Vec<Diagnostic> = fields
            .iter()
            .filter_map(|(field, value)| value.as_ref().and_then(|v| check_budget(field, v)))
            .collect();
        if self.min_available.is_some() && self.max_unavailable.is_some() {
            problems.push(
                Diagnostic::error(
                    "set minAvailable or maxUnavailable, not both (a PodDisruptionBudget takes \
                     one)",
                )
                .code("two-budgets"),
            );
        }
        problems
    }

    fn transform(&self, ctx: &Context, objects: &mut Objects) -> Result<()> {
        let mut budgets: Vec<Object> = objects
            .iter()
            .filter(|object| object.is_kind(PDB_KIND))
            .cloned()
            .collect();
        let existing = budgets.len();
        let mut findings = Vec::new();
        for workload in objects.iter().filter(|object| self.is_workload(object)) {
            if !budgets.iter().any(|budget| protects(budget, workload)) {
                findings.extend(self.add_budget(workload, &mut budgets)?);
            }
        }
        objects.extend(budgets.drain(existing..));
        ctx.conclude(findings)
    }
}

impl PdbForEveryDeployment {
    fn is_workload(&self, object: &Object) -> bool {
        self.kinds.iter().any(|kind| object.is_kind(kind))
    }

    /// Adds the workload's budget to `budgets`, or returns why it cannot: a warning when
    /// the workload has no selector, an error when the budget's name is taken.
    fn add_budget(
        &self,
        workload: &Object,
        budgets: &mut Vec<Object>,
    ) -> Result<Option<Diagnostic>> {
        let Some(match_labels) = workload.get("spec.selector.matchLabels")? else {
            let problem = "no spec.selector.matchLabels to select its pods by; no budget added";
            let warning = Diagnostic::warning(problem)
                .on(workload)
                .code("no-selector");
            return Ok(Some(warning));
        };
        let budget = self.budget_for(workload, match_labels.clone())?;
        let taken = budgets
            .iter()
            .any(|other| other.name() == budget.name() && other.namespace() == budget.namespace());
        if !taken {
            budgets.push(budget);
            return Ok(None);
        }
        let error = Diagnostic::error(format!(
            "a PodDisruptionBudget named `{}` exists but does not select this workload's pods",
            budget.name()
        ))
        .on(workload)
        .at("spec.template.metadata.labels")
        .code("budget-name-taken");
        Ok(Some(error))
    }

    fn budget_for(&self, workload: &Object, match_labels: Value) -> Result<Object> {
        let mut spec = json!({"selector": {"matchLabels": match_labels}});
        match (&self.min_available, &self.max_unavailable) {
            (_, Some(max)) => spec["maxUnavailable"] = max.clone(),
            (Some(min), None) => spec["minAvailable"] = min.clone(),
            (None, None) => spec["minAvailable"] = json!(1),
        }
        let mut metadata = json!({"name": workload.name()});
        if let Some(namespace) = workload.namespace() {
            metadata["namespace"] = json!(namespace);
        }
        Object::from_value(json!({
            "apiVersion": "policy/v1",
            "kind": PDB_KIND,
            "metadata": metadata,
            "spec": spec,
        }))
    }
}

/// A budget is a whole number or a percentage such as `"25%"`.
fn check_budget(field: &str, value: &Value) -> Option<Diagnostic> {
    let valid = match value {
        Value::Number(n) => n.as_u64().is_some(),
        Value::String(text) => text
            .strip_suffix('%')
            .is_some_and(|percent| percent.parse::<u8>().is_ok_and(|p| p <= 100)),
        _ => false,
    };
    (!valid).then(|| {
        Diagnostic::error(format!(
            "`{value}` is neither a whole number nor a percentage like \"25%\""
        ))
        .at(format!("with.{field}"))
        .code("invalid-budget")
    })
}

/// Whether an existing budget already covers the workload: same namespace, and its
/// selector selects the workload's pods.
fn protects(budget: &Object, workload: &Object) -> bool {
    let no_labels = Map::new();
    let selector = budget.get("spec.selector").ok().flatten();
    budget.namespace() == workload.namespace()
        && selects(
            selector.unwrap_or(&Value::Null),
            workload.pod_labels().unwrap_or(&no_labels),
        )
}

register!(PdbForEveryDeployment);

#[cfg(test)]
mod tests;
