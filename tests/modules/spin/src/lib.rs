//! Hostile module for the sandbox tests: never returns from `transform`.

use argocd_wasm_sdk::prelude::*;

#[derive(Deserialize)]
struct Spin {}

impl Module for Spin {
    fn info() -> Info {
        Info::new("spin", "0.0.0", "Loops forever")
    }

    fn transform(&self, _ctx: &Context, _objects: &mut Objects) -> Result<()> {
        let mut counter = 0u64;
        loop {
            // `black_box` keeps the optimiser from proving the loop has no effect.
            counter = std::hint::black_box(counter.wrapping_add(1));
        }
    }
}

register!(Spin);
