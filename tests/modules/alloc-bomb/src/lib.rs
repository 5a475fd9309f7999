//! Hostile module for the sandbox tests: allocates without bound.

use argocd_wasm_sdk::prelude::*;

#[derive(Deserialize)]
struct AllocBomb {}

impl Module for AllocBomb {
    fn info() -> Info {
        Info::new("alloc-bomb", "0.0.0", "Allocates until something stops it")
    }

    fn transform(&self, _ctx: &Context, _objects: &mut Objects) -> Result<()> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(std::hint::black_box(vec![1u8; 16 << 20]));
        }
    }
}

register!(AllocBomb);
