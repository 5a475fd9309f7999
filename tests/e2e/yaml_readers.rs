//! The two readers the tests read our YAML output back with, independent of the host's
//! code: a YAML 1.1 reader that types plain scalars by go-yaml v2's resolve rules (what Argo
//! CD and `kubectl apply` use), and a YAML 1.2 reader (serde_norway, libyaml underneath).
//! A scalar a reader does not read as a string comes back as `{"!!TYPE": "text"}` (as a key:
//! `"!!TYPE text"`), so it can never equal the string that was written.

use std::sync::LazyLock;

use regex::Regex;
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde::Deserialize as _;
use serde_json::{Map, Value};

/// Every document of `text`, by go-yaml v2's rules.
pub fn yaml11(text: &str) -> Vec<Value> {
    let mut events = Parser::new_from_str(text).map(|event| event.expect("valid YAML").0);
    let mut documents = Vec::new();
    while let Some(event) = events.next() {
        if let Event::DocumentStart(_) = event {
            documents.push(node(
                events.next().expect("a document's content"),
                &mut events,
            ));
        }
    }
    documents
}

/// Every document of `text`, by serde_norway (YAML 1.2 types).
pub fn yaml12(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).expect("valid YAML"))
        .collect()
}

fn node<'a>(event: Event<'a>, events: &mut impl Iterator<Item = Event<'a>>) -> Value {
    match event {
        Event::Scalar(text, style, _, _) => match (style, v2_type(&text)) {
            (ScalarStyle::Plain, Some(kind)) => Value::Object(Map::from_iter([(
                format!("!!{kind}"),
                Value::from(text.as_ref()),
            )])),
            _ => Value::from(text.as_ref()),
        },
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            loop {
                match events.next().expect("a sequence's end") {
                    Event::SequenceEnd => return Value::Array(items),
                    item => items.push(node(item, events)),
                }
            }
        }
        Event::MappingStart(..) => {
            let mut map = Map::new();
            loop {
                let key = match events.next().expect("a mapping's end") {
                    Event::MappingEnd => return Value::Object(map),
                    key => match node(key, events) {
                        Value::String(key) => key,
                        Value::Object(typed) => {
                            let (kind, text) = typed.into_iter().next().expect("a typed scalar");
                            format!("{kind} {}", text.as_str().unwrap_or_default())
                        }
                        other => panic!("unexpected key {other}"),
                    },
                };
                let value = node(events.next().expect("a value"), events);
                map.insert(key, value);
            }
        }
        other => panic!("unexpected event {other:?} (our writer emits no aliases)"),
    }
}

/// The YAML type go-yaml v2 reads an unquoted scalar as, or `None` for a string; plus the
/// YAML 1.1 types v2's resolver leaves out but its writer still quotes (base-60 numbers)
/// and the 1.1 value key `=`.
fn v2_type(text: &str) -> Option<&'static str> {
    static WORDS: LazyLock<Vec<(&str, &str)>> = LazyLock::new(|| {
        let words = [
            (
                "bool",
                "y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF",
            ),
            ("null", "~ null Null NULL"),
            (
                "float",
                ".nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF",
            ),
            ("merge", "<<"),
            ("value", "="),
        ];
        words
            .iter()
            .flat_map(|(kind, list)| list.split(' ').map(move |word| (word, *kind)))
            .collect()
    });
    static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:[.,][0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2})?)?$").unwrap()
    });
    static INT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")
            .unwrap()
    });
    static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$").unwrap()
    });
    static BASE60: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$").unwrap()
    });
    if text.is_empty() {
        return Some("null");
    }
    if let Some((_, kind)) = WORDS.iter().find(|(word, _)| *word == text) {
        return Some(kind);
    }
    let digits = text.replace('_', "");
    match text.as_bytes()[0] {
        b'+' | b'-' | b'0'..=b'9' if TIMESTAMP.is_match(text) => Some("timestamp"),
        b'+' | b'-' | b'0'..=b'9' if INT.is_match(&digits) => Some("int"),
        b'+' | b'-' | b'0'..=b'9' | b'.' if FLOAT.is_match(&digits) => Some("float"),
        b'+' | b'-' | b'0'..=b'9' if BASE60.is_match(text) => Some("int"),
        _ => None,
    }
}
