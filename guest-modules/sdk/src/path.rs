//! Field paths such as `spec.template.spec.containers[0].image` or
//! `metadata.labels["app.kubernetes.io/name"]`.

use std::fmt;

use crate::{Diagnostic, Error, Result};

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A key of a JSON object: `spec`, or `"app.kubernetes.io/name"`.
    Key(String),
    /// A position in a JSON array: `[0]`.
    Index(usize),
}

/// A parsed path into a JSON object. Keys are separated by dots; `[N]` indexes an array;
/// `["key"]` names a key that contains dots or slashes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// Parses `spec.containers[0].image` or `metadata.labels["app.kubernetes.io/name"]`;
    /// the error says what is wrong with the text.
    pub fn parse(text: &str) -> Result<Self> {
        Parser { text, pos: 0 }.parse()
    }

    /// The keys and indexes, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// This path with a key appended.
    pub fn key(&self, key: &str) -> Self {
        self.with(Segment::Key(key.to_owned()))
    }

    /// This path with an array index appended.
    pub fn index(&self, index: usize) -> Self {
        self.with(Segment::Index(index))
    }

    /// This path without its last segment; `None` for a path of one segment.
    /// `spec.containers[0].image` → `spec.containers[0]` → `spec.containers` → `spec`.
    pub fn parent(&self) -> Option<Self> {
        match self.0.as_slice() {
            [] | [_] => None,
            [parent @ .., _] => Some(Self(parent.to_vec())),
        }
    }

    fn with(&self, segment: Segment) -> Self {
        let mut segments = self.0.clone();
        segments.push(segment);
        Self(segments)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) if is_plain_key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn parse(mut self) -> Result<FieldPath> {
        let mut segments = Vec::new();
        while self.pos < self.text.len() {
            if self.peek() == Some('[') {
                segments.push(self.bracket()?);
            } else {
                if !segments.is_empty() {
                    self.expect('.')?;
                }
                if self.peek() == Some('[') {
                    continue;
                }
                segments.push(Segment::Key(self.plain_key()?));
            }
        }
        if segments.is_empty() {
            return Err(self.error("is empty"));
        }
        Ok(FieldPath(segments))
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn expect(&mut self, wanted: char) -> Result<()> {
        if self.peek() != Some(wanted) {
            return Err(self.error(&format!("expected `{wanted}`")));
        }
        self.pos += wanted.len_utf8();
        Ok(())
    }

    fn plain_key(&mut self) -> Result<String> {
        let rest = &self.text[self.pos..];
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        if end == 0 {
            return Err(self.error("has an empty key"));
        }
        self.pos += end;
        Ok(rest[..end].to_owned())
    }

    fn bracket(&mut self) -> Result<Segment> {
        self.expect('[')?;
        let rest = &self.text[self.pos..];
        let segment = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let body = &rest[1..];
                let end = body
                    .find(quote)
                    .ok_or_else(|| self.error("has an unclosed quote"))?;
                self.pos += end + 2;
                Segment::Key(body[..end].to_owned())
            }
            _ => {
                let end = rest
                    .find(']')
                    .ok_or_else(|| self.error("has an unclosed `[`"))?;
                let index = rest[..end]
                    .parse()
                    .map_err(|_| self.error("has an index that is not a number"))?;
                self.pos += end;
                Segment::Index(index)
            }
        };
        self.expect(']')?;
        Ok(segment)
    }

    fn error(&self, problem: &str) -> Error {
        Diagnostic::error(format!("field path `{}` {problem}", self.text))
            .code("invalid-field-path")
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> String {
        FieldPath::parse(text).unwrap().to_string()
    }

    #[test]
    fn parses_dots_indexes_and_quoted_keys() {
        let path = FieldPath::parse(r#"metadata.labels["app.kubernetes.io/name"]"#).unwrap();
        assert_eq!(
            path.segments(),
            [
                Segment::Key("metadata".into()),
                Segment::Key("labels".into()),
                Segment::Key("app.kubernetes.io/name".into())
            ]
        );
        assert_eq!(
            roundtrip("spec.containers[0].image"),
            "spec.containers[0].image"
        );
        assert_eq!(roundtrip("a['b.c'].d"), r#"a["b.c"].d"#);
    }

    #[test]
    fn parents_drop_the_last_segment() {
        let path = FieldPath::parse("spec.containers[0]").unwrap();
        let parent = path.parent().unwrap();
        assert_eq!(parent.to_string(), "spec.containers");
        assert_eq!(parent.parent().unwrap().to_string(), "spec");
        assert_eq!(parent.parent().unwrap().parent(), None);
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in ["", "a..b", "a[", "a[x]", "a[\"b]", ".a"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
