//! End-to-end tests: the real binary, real components, real sandbox.

mod support;

mod argocd;
mod authoring;
mod colour_selector;
mod containment;
mod contract;
mod foundation;
mod image_tags;
mod kustomize;
mod log_routing;
mod module_cases;
mod yaml;
mod yaml_readers;
