//! End-to-end tests: the real binary, real components, real sandbox.

mod support;

mod foundation;
mod image_tags;
mod module_cases;
