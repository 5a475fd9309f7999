//! Writing: JSON values as block YAML the way kubectl writes it, quoting a string only
//! where some reader would otherwise take it for something else, or where YAML's syntax
//! needs it.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

use super::scalar::is_plain_string_everywhere;

/// A stream: `---` before each document.
pub fn to_stream(values: &[Value]) -> String {
    let mut out = String::new();
    for value in values {
        out.push_str("---\n");
        document(&mut out, value);
    }
    out
}

fn document(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => mapping(out, map, 0, false),
        Value::Array(items) if !items.is_empty() => sequence(out, items, 0, false),
        scalar => scalar_line(out, scalar, 0),
    }
}

/// Keys at `indent`; with `continuing`, the first key goes on the current line (after `- `).
fn mapping(out: &mut String, map: &Map<String, Value>, indent: usize, mut continuing: bool) {
    for (key, value) in map {
        if !continuing {
            push_indent(out, indent);
        }
        continuing = false;
        string(out, key, None);
        out.push(':');
        match value {
            Value::Object(child) if !child.is_empty() => {
                out.push('\n');
                mapping(out, child, indent + 2, false);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                sequence(out, items, indent, false);
            }
            scalar => {
                out.push(' ');
                scalar_line(out, scalar, indent);
            }
        }
    }
}

/// Items at `indent` (a key's own indent, as kubectl writes them).
fn sequence(out: &mut String, items: &[Value], indent: usize, mut continuing: bool) {
    for item in items {
        if !continuing {
            push_indent(out, indent);
        }
        continuing = false;
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => mapping(out, map, indent + 2, true),
            Value::Array(nested) if !nested.is_empty() => sequence(out, nested, indent + 2, true),
            scalar => scalar_line(out, scalar, indent),
        }
    }
}

/// A scalar or empty collection and the end of its line; a literal block's lines are
/// indented under `indent`.
fn scalar_line(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(boolean) => out.push_str(if *boolean { "true" } else { "false" }),
        Value::Number(number) => number_text(out, number),
        Value::String(text) => string(out, text, Some(indent + 2)),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn number_text(out: &mut String, number: &Number) {
    if number.is_f64() {
        out.push_str(&float_text(number.as_f64().unwrap_or_default()));
    } else {
        let _ = write!(out, "{number}");
    }
}

/// A float every reader reads back as a float: always with a `.`, and with a signed exponent
/// (as YAML 1.1 requires) outside the range JSON writes positionally.
fn float_text(float: f64) -> String {
    let magnitude = float.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        let scientific = format!("{float:e}");
        let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
        let point = if mantissa.contains('.') { "" } else { ".0" };
        let sign = if exponent.starts_with('-') { "" } else { "+" };
        return format!("{mantissa}{point}e{sign}{exponent}");
    }
    let positional = format!("{float}");
    match positional.contains('.') {
        true => positional,
        false => positional + ".0",
    }
}

/// How a string is written.
#[derive(Debug, PartialEq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`, with its lines indented this far.
    Literal(usize),
}

/// Writes `text` as a key (`block_indent` is `None`) or a value whose literal block, if it
/// gets one, is indented by `block_indent`.
fn string(out: &mut String, text: &str, block_indent: Option<usize>) {
    match style(text, block_indent) {
        Style::Plain => out.push_str(text),
        Style::SingleQuoted => {
            out.push('\'');
            out.push_str(&text.replace('\'', "''"));
            out.push('\'');
        }
        Style::DoubleQuoted => double_quoted(out, text),
        Style::Literal(indent) => literal(out, text, indent),
    }
}

fn style(text: &str, block_indent: Option<usize>) -> Style {
    if text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Style::DoubleQuoted;
    }
    if text.contains('\n') {
        return match block_indent {
            Some(indent) if fits_literal(text) => Style::Literal(indent),
            _ => Style::DoubleQuoted,
        };
    }
    if !is_plain_string_everywhere(text) {
        return Style::DoubleQuoted; // as kubectl quotes "yes" and "0644"
    }
    match plain_syntax_allows(text) {
        true => Style::Plain,
        false => Style::SingleQuoted,
    }
}

/// Characters written as escapes, never as themselves: control characters (tab included,
/// as kubectl writes it), YAML 1.1's extra line breaks (NEL, LS, PS), the byte order mark
/// and the non-characters U+FFFE and U+FFFF.
fn needs_escape(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// Whether YAML's syntax lets `text` (already known to be read as a string) stand unquoted in
/// block context, by the rules libyaml's emitter follows.
fn plain_syntax_allows(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let indicator_first = match first {
        b'-' | b'?' | b':' => bytes.get(1).is_none_or(|&next| next == b' '),
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => true,
        _ => false,
    };
    !indicator_first
        && first != b' '
        && last != b' '
        && last != b':'
        && !text.starts_with("---")
        && !text.starts_with("...")
        && !text.contains(": ")
        && !text.contains(" #")
}

/// A literal block keeps a multi-line string readable; like libyaml we keep to strings
/// without trailing spaces on a line (invisible, and often stripped by editors) and start
/// with neither a space nor a line break (those would need an indentation indicator).
fn fits_literal(text: &str) -> bool {
    !text.starts_with([' ', '\n']) && !text.ends_with(' ') && !text.contains(" \n")
}

/// `|`, `|-` (no final line break) or `|+` (several), then the lines.
fn literal(out: &mut String, text: &str, indent: usize) {
    let chomping = match (text.ends_with('\n'), text.ends_with("\n\n")) {
        (false, _) => "-",
        (true, false) => "",
        (true, true) => "+",
    };
    let _ = writeln!(out, "|{chomping}");
    for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if needs_escape(c) && u32::from(c) <= 0xff => {
                let _ = write!(out, "\\x{:02X}", u32::from(c));
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One document as [`to_stream`] writes it, without its `---` line.
    fn to_document(value: &Value) -> String {
        to_stream(std::slice::from_ref(value)).replacen("---\n", "", 1)
    }

    #[test]
    fn block_style_like_kubectl() {
        let object = json!({
            "kind": "ConfigMap",
            "metadata": {"name": "a", "labels": {}},
            "list": ["x", {"b": 1, "c": [true, null]}, ["y", "z"], []],
            "data": {"on": "yes", "m": "1:20", "plain": "--appendonly", "colon": "a: b", "q": "'a'"},
        });
        assert_eq!(
            to_document(&object),
            "kind: ConfigMap\nmetadata:\n  name: a\n  labels: {}\nlist:\n- x\n- b: 1\n  c:\n  - true\n  - null\n- - \"y\"\n  - z\n- []\ndata:\n  \"on\": \"yes\"\n  m: \"1:20\"\n  plain: --appendonly\n  colon: 'a: b'\n  q: '''a'''\n"
        );
    }

    #[test]
    fn strings_no_reader_misreads_stay_plain() {
        for plain in [
            "plain words",
            "--appendonly",
            "1.2.3",
            "a:b",
            "http://x/y?q=1#f",
            "é ☃",
            "nginx:1.27-alpine",
            "a,b[c]{d}",
            "?x",
            ":x",
            "-x",
            "0b2",
            "1,000",
            "nULL",
        ] {
            assert_eq!(style(plain, Some(2)), Style::Plain, "{plain}");
        }
    }

    #[test]
    fn multi_line_strings_as_literal_blocks() {
        let object = json!({"a": "x\ny\n", "b": "x\ny", "c": "x\n\n", "d": "x \ny", "e": " x\ny", "f": "a\tb\nc"});
        assert_eq!(
            to_document(&object),
            "a: |\n  x\n  y\nb: |-\n  x\n  y\nc: |+\n  x\n\nd: \"x \\ny\"\ne: \" x\\ny\"\nf: \"a\\tb\\nc\"\n"
        );
        assert_eq!(to_document(&json!(["x\ny"])), "- |-\n  x\n  y\n");
    }

    #[test]
    fn floats_read_back_as_floats_everywhere() {
        assert_eq!(float_text(0.5), "0.5");
        assert_eq!(float_text(1e20), "100000000000000000000.0");
        assert_eq!(float_text(1e21), "1.0e+21");
        assert_eq!(float_text(-1.5e-7), "-1.5e-7");
        assert_eq!(
            to_document(&json!({"i": 12, "m": -3, "u": u64::MAX})),
            "i: 12\nm: -3\nu: 18446744073709551615\n"
        );
    }

    #[test]
    fn escapes_what_must_not_appear_raw() {
        assert_eq!(
            to_document(&json!("a\u{1}b\u{feff}\u{2028}\"\\")),
            "\"a\\x01b\\uFEFF\\L\\\"\\\\\"\n"
        );
        assert_eq!(to_document(&json!("")), "\"\"\n");
        assert_eq!(to_document(&json!({"é ☃": "ü"})), "é ☃: ü\n");
    }
}
