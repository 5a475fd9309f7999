//! The generated Alloy config, checked from the outside: parsed and checked against the
//! components' reference (`check`), run through an evaluator of its collection and routing
//! (`eval`), compared byte for byte with golden files (`golden`, `UPDATE_GOLDEN=1`
//! rewrites them), every line class of the fail-closed rules (`classes`), and randomized
//! routing tables (`variants`).

#[path = "suite/check.rs"]
mod check;
#[path = "suite/classes.rs"]
mod classes;
#[path = "suite/eval.rs"]
mod eval;
#[path = "suite/golden.rs"]
mod golden;
#[path = "suite/harness.rs"]
mod harness;
#[path = "suite/syntax.rs"]
mod syntax;
#[path = "suite/variants.rs"]
mod variants;
