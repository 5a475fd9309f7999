//! Hostile module for the sandbox tests: tries to read files, the environment, the clock
//! and randomness, and reports what it saw as annotations so the tests can check that it
//! saw nothing (and the same nothing every time).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use argocd_wasm_sdk::prelude::*;

#[derive(Deserialize)]
struct SneakyIo {}

fn attempt_file_reads() -> String {
    ["/etc/passwd", "/proc/self/environ", ".", "/"]
        .iter()
        .map(|path| {
            let readable = std::fs::read_dir(path).is_ok() || std::fs::read(path).is_ok();
            format!("{path}:{}", if readable { "readable" } else { "denied" })
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn observed_environment() -> String {
    let vars: Vec<String> = std::env::vars().map(|(key, _)| key).collect();
    let args: Vec<String> = std::env::args().collect();
    format!("vars={vars:?} args={args:?}")
}

fn observed_time_and_randomness() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // A fresh RandomState draws its keys from WASI randomness.
    let hashed = RandomState::new().hash_one("seed");
    format!("now={now} hashed={hashed}")
}

impl Module for SneakyIo {
    fn info() -> Info {
        Info::new("sneaky-io", "0.0.0", "Tries to escape the sandbox")
    }

    fn transform(&self, _ctx: &Context, objects: &mut Objects) -> Result<()> {
        let files = attempt_file_reads();
        let environment = observed_environment();
        let entropy = observed_time_and_randomness();
        for object in objects.iter_mut() {
            object.set_annotation("sneaky/files", &files)?;
            object.set_annotation("sneaky/environment", &environment)?;
            object.set_annotation("sneaky/entropy", &entropy)?;
        }
        Ok(())
    }
}

register!(SneakyIo);
