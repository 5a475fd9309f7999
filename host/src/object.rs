//! Which Kubernetes object a JSON value is: the one place the host reads an object's
//! identity (kind, namespace, name, apiVersion) and names it in messages.

use std::fmt;

use serde_json::Value;

/// An object's identity, borrowed from it; a field it lacks reads as empty.
///
/// Ordered by kind, namespace, name, then apiVersion: how normalized streams sort objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId<'a> {
    pub kind: &'a str,
    /// Empty for cluster-scoped objects and objects without a namespace yet.
    pub namespace: &'a str,
    pub name: &'a str,
    pub api_version: &'a str,
}

impl<'a> ObjectId<'a> {
    pub fn of(object: &'a Value) -> Self {
        let text = |value: &'a Value| value.as_str().unwrap_or_default();
        let metadata = &object["metadata"];
        Self {
            kind: text(&object["kind"]),
            namespace: text(&metadata["namespace"]),
            name: text(&metadata["name"]),
            api_version: text(&object["apiVersion"]),
        }
    }
}

/// `Deployment stage/web`, or `ClusterRole admin` without a namespace, as messages name an
/// object. Not escaped: callers quoting untrusted text escape the whole line.
impl fmt::Display for ObjectId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.namespace {
            "" => write!(f, "{} {}", self.kind, self.name),
            namespace => write!(f, "{} {namespace}/{}", self.kind, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_orders_objects() {
        let web = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                         "metadata": {"name": "web", "namespace": "stage"}});
        let admin = json!({"kind": "ClusterRole", "metadata": {"name": "admin"}});
        assert_eq!(ObjectId::of(&web).to_string(), "Deployment stage/web");
        assert_eq!(ObjectId::of(&admin).to_string(), "ClusterRole admin");
        assert_eq!(ObjectId::of(&admin).api_version, "");
        assert!(ObjectId::of(&admin) < ObjectId::of(&web), "by kind first");
    }
}
