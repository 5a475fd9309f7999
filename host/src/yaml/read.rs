//! Reading: YAML text to JSON values, built straight from the parser's events.

use std::borrow::Cow;
use std::collections::HashMap;

use anyhow::{Result, bail};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

use super::scalar::{self, Plain};

/// Deeper nesting than this is an error rather than a stack overflow (the parser itself
/// stops flow collections at 255 levels; block nesting has no limit of its own).
const MAX_DEPTH: usize = 256;
/// How many nodes aliases may copy in one stream, so a "billion laughs" file fails fast
/// instead of filling the memory.
const MAX_ALIASED_NODES: usize = 1_000_000;

/// Every non-empty document of a YAML (or JSON) stream, as kubectl reads it: see the module
/// docs. Errors read `ORIGIN:LINE: what is wrong`.
pub fn parse_documents(text: &str, origin: &str) -> Result<Vec<Value>> {
    let mut reader = Reader {
        events: Parser::new_from_str(text),
        unbroken_end: (!text.is_empty() && !text.ends_with('\n')).then(|| text.chars().count()),
        origin,
        anchors: HashMap::new(),
        aliased_nodes: 0,
        depth: 0,
    };
    reader.documents()
}

struct Reader<'input> {
    events: Parser<'input, StrInput<'input>>,
    /// The length in characters of a stream whose last line has no line break.
    unbroken_end: Option<usize>,
    origin: &'input str,
    /// Anchored values of the current document by the parser's anchor id, with their sizes
    /// in nodes.
    anchors: HashMap<usize, (Value, usize)>,
    aliased_nodes: usize,
    depth: usize,
}

/// A mapping's merge key: its sources, how many keys were read before it, its line.
struct Merge {
    position: usize,
    sources: Vec<Map<String, Value>>,
    line: usize,
}

/// A mapping key: a name, or the merge key `<<`.
enum Key {
    Name(String),
    Merge,
}

impl<'input> Reader<'input> {
    fn documents(&mut self) -> Result<Vec<Value>> {
        let mut documents = Vec::new();
        loop {
            match self.next()? {
                (Event::StreamEnd, _) => return Ok(documents),
                (Event::DocumentStart(_), _) => {
                    self.anchors.clear();
                    let (event, span) = self.next()?;
                    if matches!(event, Event::DocumentEnd) {
                        continue;
                    }
                    let value = self.node(event, span)?;
                    if !value.is_null() {
                        documents.push(value);
                    }
                }
                _ => {} // StreamStart, DocumentEnd
            }
        }
    }

    fn next(&mut self) -> Result<(Event<'input>, Span)> {
        match self.events.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(self.syntax_error(&error)),
            None => bail!("{}: the YAML stream ended early", self.origin),
        }
    }

    fn syntax_error(&self, error: &ScanError) -> anyhow::Error {
        anyhow::anyhow!(
            "{}:{}: not valid YAML: {} (column {})",
            self.origin,
            error.marker().line(),
            error.info(),
            error.marker().col() + 1
        )
    }

    /// A block scalar running to the end of a stream whose last line has no line break
    /// ends without one, as kubectl reads it: chomping keeps only a final line break that is
    /// there, but saphyr-parser always adds one.
    fn without_missing_final_break<'t>(
        &self,
        text: Cow<'t, str>,
        style: ScalarStyle,
        span: Span,
    ) -> Cow<'t, str> {
        let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
        let at_unbroken_end = self.unbroken_end.is_some_and(|end| span.end.index() >= end);
        if !(block && at_unbroken_end && text.ends_with('\n')) {
            return text;
        }
        match text {
            Cow::Borrowed(text) => Cow::Borrowed(&text[..text.len() - 1]),
            Cow::Owned(mut text) => {
                text.pop();
                Cow::Owned(text)
            }
        }
    }

    /// `ORIGIN:LINE` for messages.
    fn at(&self, span: Span) -> String {
        format!("{}:{}", self.origin, span.start.line())
    }

    fn node(&mut self, event: Event<'input>, span: Span) -> Result<Value> {
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let text = self.without_missing_final_break(text, style, span);
                let plain = self.scalar(&text, style, tag.as_deref(), span)?;
                (self.to_json(plain, text.into_owned(), span)?, anchor)
            }
            Event::SequenceStart(anchor, _) => (self.nested(span, Self::sequence)?, anchor),
            Event::MappingStart(anchor, _) => (self.nested(span, Self::mapping)?, anchor),
            Event::Alias(id) => return self.alias(id, span),
            other => bail!("{}: unexpected YAML event {other:?}", self.at(span)),
        };
        if anchor != 0 {
            let nodes = count_nodes(&value);
            self.anchors.insert(anchor, (value.clone(), nodes));
        }
        Ok(value)
    }

    fn nested(&mut self, span: Span, read: fn(&mut Self) -> Result<Value>) -> Result<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            bail!("{}: nested deeper than {MAX_DEPTH} levels", self.at(span));
        }
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<Value> {
        let Some((value, nodes)) = self.anchors.get(&id) else {
            bail!(
                "{}: an alias refers to an anchor that is not defined yet",
                self.at(span)
            );
        };
        self.aliased_nodes += nodes;
        if self.aliased_nodes > MAX_ALIASED_NODES {
            bail!(
                "{}: aliases expand to more than {MAX_ALIASED_NODES} nodes",
                self.at(span)
            );
        }
        Ok(value.clone())
    }

    fn sequence(&mut self) -> Result<Value> {
        let mut items = Vec::new();
        loop {
            match self.next()? {
                (Event::SequenceEnd, _) => return Ok(Value::Array(items)),
                (event, span) => items.push(self.node(event, span)?),
            }
        }
    }

    fn mapping(&mut self) -> Result<Value> {
        let mut map = Map::new();
        let mut lines = Vec::new();
        let mut merge: Option<Merge> = None;
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let line = span.start.line();
            match self.key(event, span)? {
                Key::Merge => {
                    if let Some(first) = &merge {
                        bail!(
                            "{}: duplicate key `<<` (first at line {})",
                            self.at(span),
                            first.line
                        );
                    }
                    let (event, span) = self.next()?;
                    let sources = self.merge_sources(event, span)?;
                    merge = Some(Merge {
                        position: map.len(),
                        sources,
                        line,
                    });
                }
                Key::Name(name) => match map.entry(name) {
                    Entry::Vacant(entry) => {
                        let (event, span) = self.next()?;
                        entry.insert(self.node(event, span)?);
                        lines.push(line);
                    }
                    Entry::Occupied(entry) => {
                        let key = entry.key().clone();
                        bail!("{}", self.duplicate(&map, &lines, &key, span));
                    }
                },
            }
        }
        Ok(Value::Object(match merge {
            None => map,
            Some(merge) => merged(map, &merge),
        }))
    }

    /// The error for `key` at `span`, already in `map`; `lines` are the lines of `map`'s
    /// keys.
    fn duplicate(
        &self,
        map: &Map<String, Value>,
        lines: &[usize],
        key: &str,
        span: Span,
    ) -> String {
        let first = map
            .keys()
            .position(|known| known == key)
            .map(|at| lines[at]);
        format!(
            "{}: duplicate key `{key}` (first at line {})",
            self.at(span),
            first.unwrap_or_default()
        )
    }

    fn key(&mut self, event: Event<'input>, span: Span) -> Result<Key> {
        let value = match event {
            Event::Scalar(text, ScalarStyle::Plain, _, None) if text == "<<" => {
                return Ok(Key::Merge);
            }
            Event::Scalar(text, style, anchor, tag) => {
                let plain = self.scalar(&text, style, tag.as_deref(), span)?;
                if plain != Plain::Str {
                    bail!(
                        "{}: the key `{text}` is read as a {}, and Kubernetes keys are strings; \
                         quote it",
                        self.at(span),
                        plain.kind()
                    );
                }
                let name = text.into_owned();
                if anchor != 0 {
                    self.anchors
                        .insert(anchor, (Value::String(name.clone()), 1));
                }
                return Ok(Key::Name(name));
            }
            Event::Alias(id) => self.alias(id, span)?,
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                bail!(
                    "{}: a key is a mapping or a list; keys must be strings",
                    self.at(span)
                )
            }
            other => bail!("{}: unexpected YAML event {other:?}", self.at(span)),
        };
        match value {
            Value::String(name) => Ok(Key::Name(name)),
            _ => bail!(
                "{}: an alias used as a key must name a string",
                self.at(span)
            ),
        }
    }

    /// The value of `<<`: a mapping, an alias of one, or a list of those (earlier ones win).
    fn merge_sources(
        &mut self,
        event: Event<'input>,
        span: Span,
    ) -> Result<Vec<Map<String, Value>>> {
        let is_list = matches!(event, Event::SequenceStart(..));
        let sources = match (self.node(event, span)?, is_list) {
            (Value::Object(map), false) => Some(vec![map]),
            (Value::Array(items), true) => items
                .into_iter()
                .map(|item| match item {
                    Value::Object(map) => Some(map),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        match sources {
            Some(sources) => Ok(sources),
            None => bail!(
                "{}: the merge key `<<` needs a mapping or a list of mappings",
                self.at(span)
            ),
        }
    }

    /// Types a scalar. Untagged plain scalars are resolved as kubectl does (the non-specific
    /// tag `!` changes nothing for kubectl); quoted and block scalars, `!!str` and tags kubectl
    /// does not know are strings; `!!int`, `!!float`, `!!bool`, `!!null` and `!!timestamp`
    /// must resolve to what they name.
    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Plain> {
        let non_specific = |tag: &&Tag| tag.handle.is_empty() && tag.suffix == "!";
        let Some(tag) = tag.filter(|tag| !non_specific(tag)) else {
            return Ok(match style {
                ScalarStyle::Plain => scalar::kubectl(text, true),
                _ => Plain::Str,
            });
        };
        if !tag.is_yaml_core_schema() {
            return Ok(Plain::Str);
        }
        let resolved = scalar::kubectl(text, tag.suffix == "timestamp");
        let fits = match (tag.suffix.as_str(), &resolved) {
            ("str", _) => return Ok(Plain::Str),
            ("int", Plain::Int(_) | Plain::Uint(_))
            | ("float", Plain::Float(_))
            | ("bool", Plain::Bool(_))
            | ("null", Plain::Null)
            | ("timestamp", Plain::Timestamp(_)) => true,
            ("float", Plain::Int(int)) => return Ok(Plain::Float(*int as f64)),
            ("int" | "float" | "bool" | "null" | "timestamp", _) => false,
            ("binary", _) => bail!(
                "{}: `!!binary` is not supported; write the base64 text as a string",
                self.at(span)
            ),
            _ => return Ok(Plain::Str),
        };
        match fits {
            true => Ok(resolved),
            false => bail!(
                "{}: `{text}` is a {}, not a !!{}",
                self.at(span),
                resolved.kind(),
                tag.suffix
            ),
        }
    }

    /// The JSON value kubectl ends up with, after its JSON round trip.
    fn to_json(&self, plain: Plain, text: String, span: Span) -> Result<Value> {
        Ok(match plain {
            Plain::Str => Value::String(text),
            Plain::Null => Value::Null,
            Plain::Bool(boolean) => Value::Bool(boolean),
            Plain::Int(int) => Value::from(int),
            Plain::Uint(uint) => Value::from(uint),
            Plain::Timestamp(rfc3339) => Value::String(rfc3339),
            Plain::Float(float) => match scalar::integral(float) {
                Some(Plain::Int(int)) => Value::from(int),
                Some(Plain::Uint(uint)) => Value::from(uint),
                _ => match Number::from_f64(float) {
                    Some(number) => Value::Number(number),
                    None => bail!(
                        "{}: `{text}` is not a number JSON can hold (kubectl refuses it too); \
                         quote it to keep the text",
                        self.at(span)
                    ),
                },
            },
        })
    }
}

/// `map` with the keys of the merge's sources that it does not set itself, placed where
/// the merge key was.
fn merged(map: Map<String, Value>, merge: &Merge) -> Map<String, Value> {
    let mut result = Map::new();
    let merge_into = |result: &mut Map<String, Value>| {
        for source in &merge.sources {
            for (key, value) in source {
                if !map.contains_key(key) && !result.contains_key(key) {
                    result.insert(key.clone(), value.clone());
                }
            }
        }
    };
    for (index, (key, value)) in map.iter().enumerate() {
        if index == merge.position {
            merge_into(&mut result);
        }
        result.insert(key.clone(), value.clone());
    }
    if merge.position == map.len() {
        merge_into(&mut result);
    }
    result
}

fn count_nodes(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &str) -> Result<Vec<Value>> {
        parse_documents(text, "f.yaml")
    }

    fn error(text: &str) -> String {
        format!("{:#}", read(text).unwrap_err())
    }

    #[test]
    fn a_block_scalar_at_an_unbroken_end_has_no_final_line_break() {
        assert_eq!(read("a: |\n  x\n  y").unwrap(), [json!({"a": "x\ny"})]);
        assert_eq!(read("a: >\n  x\n  y").unwrap(), [json!({"a": "x y"})]);
        assert_eq!(read("a: |\n  x\n  y\n").unwrap(), [json!({"a": "x\ny\n"})]);
        assert_eq!(
            read("a: |\n  x\nb: 1").unwrap(),
            [json!({"a": "x\n", "b": 1})]
        );
    }

    #[test]
    fn documents_skip_empty_ones_and_keep_key_order() {
        let documents =
            read("---\n---\n# comment\n---\nz: 1\na: {b: [x, 'y']}\n...\n---\n~\n").unwrap();
        assert_eq!(documents, [json!({"z": 1, "a": {"b": ["x", "y"]}})]);
        let keys: Vec<&String> = documents[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "a"]);
    }

    #[test]
    fn directives_byte_order_marks_and_crlf_line_ends_read_as_usual() {
        let expected = [json!({"a": "x", "b": [1, "two"]})];
        assert_eq!(
            read("%YAML 1.1\n---\na: x\nb: [1, two]\n").unwrap(),
            expected
        );
        assert_eq!(
            read("\u{feff}a: x\r\nb:\r\n- 1\r\n- two\r\n").unwrap(),
            expected
        );
        assert_eq!(
            read("{\"a\": \"x\", \"b\": [1, \"two\"]}").unwrap(),
            expected,
            "JSON"
        );
    }

    #[test]
    fn merge_keys_apply_with_explicit_keys_and_earlier_sources_winning() {
        let text = "base: &base {a: 1, b: 1}\nother: &other {b: 2, c: 2}\nsingle:\n  <<: *base\n  a: own\nlist:\n  x: 0\n  <<: [*base, *other]\n  c: own\n";
        let document = &read(text).unwrap()[0];
        assert_eq!(document["single"], json!({"a": "own", "b": 1}));
        assert_eq!(
            document["list"],
            json!({"x": 0, "a": 1, "b": 1, "c": "own"})
        );
        let keys: Vec<&String> = document["list"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["x", "a", "b", "c"], "merged keys sit where `<<` was");
        assert_eq!(
            read("a: {'<<': 1}\n").unwrap()[0],
            json!({"a": {"<<": 1}}),
            "a quoted `<<` is a key"
        );
        assert!(error("a: {<<: 1}\n").contains("f.yaml:1: the merge key `<<` needs a mapping"));
        assert!(error("a: &a [1]\nb: {<<: *a}\n").contains("needs a mapping"));
    }

    #[test]
    fn duplicate_keys_name_file_line_and_key() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nkind: Secret\n";
        assert_eq!(
            error(text),
            "f.yaml:5: duplicate key `kind` (first at line 2)"
        );
        assert_eq!(
            error("data:\n  a: 1\n  \"a\": 2\n"),
            "f.yaml:3: duplicate key `a` (first at line 2)",
            "quoting does not make a key different"
        );
    }

    #[test]
    fn keys_must_read_as_strings() {
        assert_eq!(
            error("data:\n  on: a\n  1: b\n"),
            "f.yaml:3: the key `1` is read as a number, and Kubernetes keys are strings; quote it"
        );
        assert!(error("2001-12-14: a\n").contains("read as a timestamp"));
        assert!(error("? [a]\n: b\n").contains("keys must be strings"));
        assert_eq!(
            read("'1': a\n\"true\": b\n").unwrap()[0],
            json!({"1": "a", "true": "b"})
        );
    }

    #[test]
    fn tags_as_kubectl_reads_them() {
        let document = &read(
            "a: !!str 0644\nb: !!int \"12\"\nc: !!float 3\nd: !custom 12\ne: ! 12\nf: ! '12'\n",
        )
        .unwrap()[0];
        assert_eq!(
            document,
            &json!({"a": "0644", "b": 12, "c": 3, "d": "12", "e": 12, "f": "12"})
        );
        assert_eq!(
            error("a: !!bool yes\n"),
            "f.yaml:1: `yes` is a string, not a !!bool"
        );
    }

    #[test]
    fn values_json_cannot_hold_fail_like_kubectl() {
        assert!(
            error("a:\n  b: .inf\n").starts_with("f.yaml:2: `.inf` is not a number JSON can hold")
        );
    }

    #[test]
    fn syntax_errors_and_bombs_are_located() {
        assert!(
            error("a: [1\n").starts_with("f.yaml:2: not valid YAML"),
            "{}",
            error("a: [1\n")
        );
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..8 {
            let previous = level - 1;
            let refs = vec![format!("*a{previous}"); 10].join(", ");
            bomb.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        assert!(error(&bomb).contains("aliases expand to more than"));
        let deep: String = (0..300)
            .map(|level| format!("{}a:\n", "  ".repeat(level)))
            .collect();
        assert!(
            error(&deep).contains("nested deeper than 256 levels"),
            "{}",
            error(&deep)
        );
    }
}
