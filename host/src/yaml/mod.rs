//! YAML in and out, the one place the host reads or writes YAML.
//!
//! Reading types every unquoted scalar exactly as `kubectl kustomize` (v5) does: go-yaml v3's
//! rules (`0644` and `0o644` are 420, `yes` and `on` stay strings, `2002-12-14` is a
//! timestamp written back as `2002-12-14T00:00:00Z`), then the JSON round trip kustomize
//! makes (an integral float such as `1e3` becomes the integer 1000). Anchors are expanded,
//! merge keys (`<<`) applied, and a duplicate key is an error naming the file and line, as
//! kubectl refuses such a file. `tests/fixtures/yaml/kubectl-scalars.json` records what
//! kubectl makes of each scalar of the matrix; the e2e tests hold us to it.
//!
//! Writing produces block YAML like kubectl's (2-space indent, sequence items at their key's
//! indent, literal blocks for multi-line strings) and quotes exactly the strings that some
//! reader would take for something else: a YAML 1.1 reader such as go-yaml v2 (which Argo CD
//! and `kubectl apply` use: `yes`, `on`, `n`, `1_000`, `1:20`), a YAML 1.2 reader (`1e500`,
//! `0x` numbers too long for 64 bits), and our own reader.

mod read;
mod remember;
mod scalar;
mod timestamp;
mod write;

pub use read::parse_documents;
pub use remember::{LookUpObserver, documents_json, remember_parsed_files};
pub use write::to_stream;

use anyhow::{Context as _, Result};
use serde::de::DeserializeOwned;

/// Reads a one-document configuration file (a pipeline file, `test.yaml`) into `T`. An empty
/// file reads as `null`.
pub fn from_str<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    let mut documents = parse_documents(text, origin)?;
    if documents.len() > 1 {
        anyhow::bail!(
            "{origin}: expected one YAML document, found {}",
            documents.len()
        );
    }
    let value = documents.pop().unwrap_or_default();
    serde_json::from_value(value).with_context(|| origin.to_owned())
}
