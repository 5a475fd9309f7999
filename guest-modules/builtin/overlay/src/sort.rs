//! The output order: kustomize's SortOrderTransformer (plugin/builtin/sortordertransformer).
//! Without `sortOptions`, `kubectl kustomize` sorts in the legacy order: kinds listed first,
//! then every other kind by group/version/kind, then the kinds listed last; within one kind
//! by namespace, then name. `fifo` keeps the order the objects were accumulated in.

use std::cmp::Ordering;

use argocd_wasm_sdk::Diagnostic;

use crate::Result;
use kustomization::{LegacySortOptions, SortOptions, Tree};

use crate::kinds::version_of;
use crate::resource::Resource;

const DEFAULT_ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

const DEFAULT_ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Orders the build's output as the top kustomization's `sortOptions` say.
pub fn apply(tree: &Tree, resources: &mut [Resource]) -> Result<()> {
    let legacy = SortOptions {
        order: Some("legacy".into()),
        legacy_sort_options: None,
    };
    let options = tree.kustomization.sort_options.as_ref().unwrap_or(&legacy);
    sort(options, resources)
        .map_err(|problem| Diagnostic::error(problem).at(format!("{}: sortOptions", tree.file)))
}

/// Sorts by `options`, as a SortOrderTransformer configured with them does.
pub fn sort(options: &SortOptions, resources: &mut [Resource]) -> std::result::Result<(), String> {
    match options.order.as_deref() {
        Some("legacy") => {
            let owned;
            let orders = match &options.legacy_sort_options {
                Some(orders) => orders,
                None => {
                    owned = LegacySortOptions {
                        order_first: DEFAULT_ORDER_FIRST.iter().map(|k| k.to_string()).collect(),
                        order_last: DEFAULT_ORDER_LAST.iter().map(|k| k.to_string()).collect(),
                    };
                    &owned
                }
            };
            let keys: Vec<LegacyKey> = resources
                .iter()
                .map(|resource| LegacyKey::of(resource, orders))
                .collect();
            let mut order: Vec<usize> = (0..resources.len()).collect();
            order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
            reorder(resources, &order);
            Ok(())
        }
        Some("fifo") if options.legacy_sort_options.is_some() => Err(
            "`sortOptions.legacySortOptions` is set but the selected sort order is `fifo`, not `legacy`"
                .into(),
        ),
        Some("fifo") => Ok(()),
        _ => Err("`sortOptions.order` must be one of fifo, legacy".into()),
    }
}

/// A kind's rank: negative for the kinds listed first (in their order), positive for those
/// listed last, zero for the rest. A kind listed twice takes its last place, as kustomize's
/// map of ranks does.
fn type_order(orders: &LegacySortOptions, kind: &str) -> i64 {
    if let Some(index) = orders.order_last.iter().rposition(|k| k == kind) {
        return index as i64 + 1;
    }
    let first = &orders.order_first;
    first
        .iter()
        .rposition(|k| k == kind)
        .map_or(0, |index| index as i64 - first.len() as i64)
}

/// What the legacy order compares about one object, read once per object: reading fields
/// of a JSON object in every comparison dominated the time of large builds.
struct LegacyKey {
    rank: i64,
    /// `group_version_kind` with `~G`, `~V`, `~K` for empty parts; equal exactly when the
    /// group, version and kind are.
    gvk: String,
    /// A Namespace of the core group, which kustomize puts after one of another group.
    core_namespace: bool,
    kind_is_namespace: bool,
    id: String,
}

impl LegacyKey {
    fn of(resource: &Resource, orders: &LegacySortOptions) -> Self {
        let (group, version, kind) = gvk(resource);
        Self {
            rank: type_order(orders, kind),
            gvk: gvk_sort_string((group, version, kind)),
            core_namespace: kind == "Namespace" && group.is_empty(),
            kind_is_namespace: kind == "Namespace",
            id: id_sort_string(resource),
        }
    }

    fn cmp(&self, other: &Self) -> Ordering {
        if self.gvk == other.gvk {
            return self.id.cmp(&other.id);
        }
        let by_rank = self.rank.cmp(&other.rank);
        if by_rank != Ordering::Equal {
            return by_rank;
        }
        let both_namespaces = self.kind_is_namespace && other.kind_is_namespace;
        if both_namespaces && (self.core_namespace || other.core_namespace) {
            return other.gvk.cmp(&self.gvk);
        }
        self.gvk.cmp(&other.gvk)
    }
}

/// Moves `items` so that position `i` holds what was at `order[i]` (a permutation).
fn reorder<T>(items: &mut [T], order: &[usize]) {
    for target in 0..items.len() {
        // Earlier swaps moved the wanted item away from `order[target]`: each swap left the
        // item that stood at `target` at the swapped-from position, so follow the chain.
        let mut source = order[target];
        while source < target {
            source = order[source];
        }
        items.swap(target, source);
    }
}

/// (group, version, kind).
fn gvk(resource: &Resource) -> (&str, &str, &str) {
    let object = &resource.object;
    (
        object.group(),
        version_of(object.api_version()),
        object.kind(),
    )
}

fn gvk_sort_string((group, version, kind): (&str, &str, &str)) -> String {
    fn or<'a>(text: &'a str, empty: &'static str) -> &'a str {
        if text.is_empty() { empty } else { text }
    }
    [or(group, "~G"), or(version, "~V"), or(kind, "~K")].join("_")
}

/// Within one kind, kustomize compares `gvk|namespace|name` as one string (`~X` for no
/// namespace), so `a-b|x` sorts before `a|x`. The group, version and kind are equal here.
fn id_sort_string(resource: &Resource) -> String {
    let object = &resource.object;
    let namespace = object
        .namespace()
        .filter(|ns| !ns.is_empty())
        .unwrap_or("~X");
    let name = Some(object.name())
        .filter(|n| !n.is_empty())
        .unwrap_or("~N");
    format!("{namespace}|{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use argocd_wasm_sdk::Object;
    use serde_json::json;

    fn resource(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Resource {
        let mut metadata = json!({"name": name});
        if let Some(namespace) = namespace {
            metadata["namespace"] = json!(namespace);
        }
        Resource::new(
            Object::from_value(
                json!({"apiVersion": api_version, "kind": kind, "metadata": metadata}),
            )
            .unwrap(),
        )
    }

    fn names(resources: &[Resource]) -> Vec<String> {
        resources
            .iter()
            .map(|r| format!("{}/{}", r.object.kind(), r.object.name()))
            .collect()
    }

    #[test]
    fn legacy_puts_known_kinds_first_and_webhooks_last() {
        let mut resources = vec![
            resource(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                None,
                "v",
            ),
            resource("apps/v1", "Deployment", Some("b"), "web"),
            resource("example.com/v1", "Widget", None, "w"),
            resource("v1", "Service", None, "svc"),
            resource("apps/v1", "Deployment", Some("a"), "web"),
            resource("apps/v1", "Deployment", Some("a-b"), "web"),
            resource("apps/v1", "Deployment", None, "api"),
            resource("v1", "Namespace", None, "ns"),
            resource("batch/v1", "Job", None, "j"),
        ];
        let tree = Tree::default();
        apply(&tree, &mut resources).unwrap();
        assert_eq!(
            names(&resources),
            [
                "Namespace/ns",
                "Service/svc",
                "Deployment/web",
                "Deployment/web",
                "Deployment/web",
                "Deployment/api",
                "Job/j",
                "Widget/w",
                "ValidatingWebhookConfiguration/v",
            ]
        );
        // `a-b|web` < `a|web` < `b|web` < `~X|api`, as kustomize compares the joined ids.
        assert_eq!(resources[2].object.namespace(), Some("a-b"));
        assert_eq!(resources[3].object.namespace(), Some("a"));
    }

    #[test]
    fn reorder_applies_any_permutation() {
        let permutations = [
            vec![0, 1, 2, 3, 4],
            vec![4, 3, 2, 1, 0],
            vec![2, 0, 4, 1, 3],
            vec![1, 2, 3, 4, 0],
            vec![3, 4, 0, 2, 1],
        ];
        for order in permutations {
            let mut items: Vec<usize> = (10..15).collect();
            reorder(&mut items, &order);
            let expected: Vec<usize> = order.iter().map(|&i| i + 10).collect();
            assert_eq!(items, expected, "order {order:?}");
        }
    }

    #[test]
    fn fifo_keeps_the_order_and_custom_lists_rank_kinds() {
        let mut resources = vec![
            resource("v1", "Service", None, "s"),
            resource("v1", "ConfigMap", None, "c"),
        ];
        let fifo = SortOptions {
            order: Some("fifo".into()),
            legacy_sort_options: None,
        };
        sort(&fifo, &mut resources).unwrap();
        assert_eq!(names(&resources), ["Service/s", "ConfigMap/c"]);
        let custom = SortOptions {
            order: Some("legacy".into()),
            legacy_sort_options: Some(LegacySortOptions {
                order_first: vec!["Service".into()],
                order_last: vec![],
            }),
        };
        sort(&custom, &mut resources).unwrap();
        assert_eq!(names(&resources), ["Service/s", "ConfigMap/c"]);
        let bad = SortOptions {
            order: Some("random".into()),
            legacy_sort_options: None,
        };
        assert!(sort(&bad, &mut resources).is_err());
    }
}
