//! End-to-end tests: the real binary, real components, real sandbox.

mod support;

mod foundation;
