//! Manifest files as the JSON text of their documents, remembered by a daemon so that a file
//! read again with the same text is not parsed again. Argo CD renders every app of a
//! repository again on each new commit, and the apps of a monorepo share their bases: nearly
//! every file a daemon reads, it has read before. Parsing is about a fifth of a small app's
//! render.
//!
//! The JSON text is what a kustomization tree sends a module anyway, so a remembered file
//! costs a render neither a parse nor a serialization, and memory about twice its YAML text
//! (kept as the key). The key is the whole text, compared in full on a hit, so a remembered
//! file gives exactly what parsing it would: the documents depend on nothing else (the origin
//! only names the file in errors, and errors are not remembered). The least recently used
//! files go first. Off unless the process turns it on: a one-shot `render` or `generate`
//! reads each file once anyway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Result;
use serde_json::value::RawValue;

use super::parse_documents;

/// What `remember_parsed_files` turned on, for the whole process.
static REMEMBERED: OnceLock<Remembered> = OnceLock::new();

struct Remembered {
    files: Mutex<ParsedFiles>,
    /// Told of each look-up: whether the file was remembered.
    looked_up: LookUpObserver,
}

/// Told of each look-up of a file: `true` when it was remembered (the daemon's metrics).
pub type LookUpObserver = Box<dyn Fn(bool) + Send + Sync>;

/// Keeps the JSON of parsed files from now on, up to `limit` bytes of their YAML and JSON
/// text, telling `looked_up` of every look-up. Later calls change nothing.
pub fn remember_parsed_files(limit: usize, looked_up: LookUpObserver) {
    REMEMBERED.get_or_init(|| Remembered {
        files: Mutex::new(ParsedFiles::new(limit)),
        looked_up,
    });
}

/// The documents of `text`, as [`parse_documents`] reads them, as a JSON array; the same
/// shared text as an earlier call with the same text while the process remembers files.
pub fn documents_json(text: &str, origin: &str) -> Result<Arc<RawValue>> {
    let Some(remembered) = REMEMBERED.get() else {
        return to_json(text, origin);
    };
    // A render that panicked while holding the lock left nothing half-written: a file is
    // either remembered whole or not at all.
    let lock = || (remembered.files.lock()).unwrap_or_else(|poisoned| poisoned.into_inner());
    let found = lock().get(text);
    (remembered.looked_up)(found.is_some());
    if let Some(documents) = found {
        return Ok(documents);
    }
    let documents = to_json(text, origin)?;
    lock().insert(text, Arc::clone(&documents));
    Ok(documents)
}

fn to_json(text: &str, origin: &str) -> Result<Arc<RawValue>> {
    let documents = parse_documents(text, origin)?;
    Ok(serde_json::value::to_raw_value(&documents)?.into())
}

/// Parsed files by their text, least recently used first out.
struct ParsedFiles {
    /// The most YAML and JSON text held.
    limit: usize,
    /// The YAML and JSON text held now.
    held: usize,
    /// Counts look-ups, to order files by their last use.
    clock: u64,
    files: HashMap<Box<str>, ParsedFile>,
}

struct ParsedFile {
    documents: Arc<RawValue>,
    last_used: u64,
}

impl ParsedFiles {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            held: 0,
            clock: 0,
            files: HashMap::new(),
        }
    }

    fn get(&mut self, text: &str) -> Option<Arc<RawValue>> {
        self.clock += 1;
        let file = self.files.get_mut(text)?;
        file.last_used = self.clock;
        Some(Arc::clone(&file.documents))
    }

    /// Remembers a file, forgetting the least recently used ones to make room. A file of
    /// more than a quarter of the limit is not kept: it would push out many small ones.
    fn insert(&mut self, text: &str, documents: Arc<RawValue>) {
        let size = text.len() + documents.get().len();
        if size > self.limit / 4 || self.files.contains_key(text) {
            return;
        }
        while self.held + size > self.limit {
            self.forget_least_recently_used();
        }
        self.held += size;
        let last_used = self.clock;
        self.files.insert(
            text.into(),
            ParsedFile {
                documents,
                last_used,
            },
        );
    }

    fn forget_least_recently_used(&mut self) {
        let oldest = self
            .files
            .iter()
            .min_by_key(|(_, file)| file.last_used)
            .map(|(text, _)| text.clone());
        if let Some(file) = oldest.and_then(|text| self.files.remove_entry(&text)) {
            self.held -= file.0.len() + file.1.documents.get().len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Arc<RawValue> {
        to_json(text, "test").unwrap()
    }

    #[test]
    fn gives_the_json_of_the_same_text_and_forgets_the_least_recently_used() {
        // Each file holds 5 bytes of YAML and 9 of JSON: four fit.
        let texts = ["a: 1\n", "b: 2\n", "c: 3\n", "d: 4\n", "e: 5\n"];
        let mut files = ParsedFiles::new(56);
        files.insert(texts[0], json(texts[0]));
        files.insert(texts[1], json(texts[1]));
        assert_eq!(files.get(texts[0]).unwrap().get(), r#"[{"a":1}]"#);
        assert!(files.get("a: 1").is_none(), "only the very same text");
        files.insert(texts[2], json(texts[2]));
        files.insert(texts[3], json(texts[3]));
        assert_eq!(files.held, 56);
        // Full: the fifth file pushes out b, used least recently.
        files.insert(texts[4], json(texts[4]));
        assert!(files.get(texts[1]).is_none());
        for text in [texts[0], texts[2], texts[3], texts[4]] {
            assert!(files.get(text).is_some(), "{text}");
        }
        assert_eq!(files.held, 56);
    }

    #[test]
    fn keeps_no_file_larger_than_a_quarter_of_the_limit() {
        let mut files = ParsedFiles::new(40);
        let text = "key: value\n";
        files.insert(text, json(text));
        assert!(files.get(text).is_none());
        assert_eq!(files.held, 0);
    }
}
