//! A small writer for Alloy configuration syntax. Building the config as blocks and
//! expressions (never by pasting strings) keeps every user value quoted and escaped, and
//! renders it the way `alloy fmt` lays it out: tab indents, aligned `=` in runs of
//! attributes and in objects, `name { }` for an empty block. Blank lines set nested blocks
//! apart (`alloy fmt` keeps them).

use std::fmt::Write;

/// An expression on the right of an attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A string literal; quoted and escaped when rendered.
    Str(String),
    /// Code emitted as is: a component reference or a standard library call. Only ever
    /// built from names this module validated or wrote itself.
    Code(String),
    List(Vec<Expr>),
    /// Key/value pairs, rendered one per line in the given order.
    Object(Vec<(String, Expr)>),
}

impl Expr {
    pub fn str(text: impl Into<String>) -> Self {
        Self::Str(text.into())
    }

    pub fn code(text: impl Into<String>) -> Self {
        Self::Code(text.into())
    }
}

/// One line or block inside a body.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Attr(String, Expr),
    Block(Block),
    /// A `//` comment line. It sticks to the item that follows it.
    Comment(String),
    /// An empty line, to end a run of comments that describes no item.
    Blank,
}

/// `name "label" { … }`, or `name { … }` for blocks inside components.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub name: String,
    pub label: Option<String>,
    pub items: Vec<Item>,
}

impl Block {
    /// A component: a block with a label.
    pub fn component(name: &str, label: &str) -> Self {
        Self {
            name: name.to_owned(),
            label: Some(label.to_owned()),
            items: Vec::new(),
        }
    }

    /// A block inside a component, without a label.
    pub fn inner(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            label: None,
            items: Vec::new(),
        }
    }

    pub fn attr(mut self, name: &str, value: Expr) -> Self {
        self.items.push(Item::Attr(name.to_owned(), value));
        self
    }

    pub fn block(mut self, block: Block) -> Self {
        self.items.push(Item::Block(block));
        self
    }

    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.items.push(Item::Comment(text.into()));
        self
    }

    pub fn items(mut self, items: impl IntoIterator<Item = Item>) -> Self {
        self.items.extend(items);
        self
    }
}

/// Renders a whole file: top-level items separated as inside blocks, ending in a newline.
pub fn render(items: &[Item]) -> String {
    let mut out = String::new();
    render_items(items, 0, &mut out);
    out
}

fn render_items(items: &[Item], depth: usize, out: &mut String) {
    let mut previous: Option<&Item> = None;
    for (i, item) in items.iter().enumerate() {
        if previous.is_some_and(|before| needs_blank_line(before, item)) {
            out.push('\n');
        }
        match item {
            Item::Attr(name, value) => {
                let width = attr_run_width(&items[attr_run_start(items, i)..]);
                line(
                    out,
                    depth,
                    &format!("{name:<width$} = {}", expr(value, depth)),
                );
            }
            Item::Block(block) => render_block(block, depth, out),
            Item::Comment(text) => line(out, depth, &comment(text)),
            Item::Blank => out.push('\n'),
        }
        previous = Some(item);
    }
}

/// Blank lines set blocks apart; comments stay glued to what they describe.
fn needs_blank_line(before: &Item, item: &Item) -> bool {
    let glued = matches!(before, Item::Comment(_) | Item::Blank) || *item == Item::Blank;
    let opens_section = matches!(item, Item::Block(_) | Item::Comment(_));
    !glued && (opens_section || matches!(before, Item::Block(_)))
}

/// The index where the run of attributes containing `items[i]` starts.
fn attr_run_start(items: &[Item], i: usize) -> usize {
    items[..i]
        .iter()
        .rposition(|item| !matches!(item, Item::Attr(..)))
        .map_or(0, |before| before + 1)
}

/// The widest attribute name of the run that starts the slice, for `=` alignment.
fn attr_run_width(items: &[Item]) -> usize {
    items
        .iter()
        .map_while(|item| match item {
            Item::Attr(name, _) => Some(name.len()),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

fn render_block(block: &Block, depth: usize, out: &mut String) {
    let header = match &block.label {
        Some(label) => format!("{} {} {{", block.name, quote(label)),
        None => format!("{} {{", block.name),
    };
    if block.items.is_empty() {
        line(out, depth, &format!("{header} }}"));
        return;
    }
    line(out, depth, &header);
    render_items(&block.items, depth + 1, out);
    line(out, depth, "}");
}

/// One level of indentation, as `alloy fmt` writes it.
const INDENT: &str = "\t";

fn line(out: &mut String, depth: usize, text: &str) {
    for _ in 0..depth {
        out.push_str(INDENT);
    }
    out.push_str(text);
    out.push('\n');
}

/// A comment line. Its text never holds a line break: a break would end the comment and
/// turn the rest of the text into configuration.
fn comment(text: &str) -> String {
    let single_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if single_line.is_empty() {
        "//".to_owned()
    } else {
        format!("// {single_line}")
    }
}

fn expr(value: &Expr, depth: usize) -> String {
    match value {
        Expr::Str(text) => quote(text),
        Expr::Code(code) => code.clone(),
        Expr::List(items) => {
            let items: Vec<String> = items.iter().map(|item| expr(item, depth)).collect();
            format!("[{}]", items.join(", "))
        }
        Expr::Object(pairs) => object(pairs, depth),
    }
}

fn object(pairs: &[(String, Expr)], depth: usize) -> String {
    if pairs.is_empty() {
        return "{}".to_owned();
    }
    let keys: Vec<String> = pairs.iter().map(|(key, _)| object_key(key)).collect();
    let width = keys.iter().map(String::len).max().unwrap_or(0);
    let mut text = String::from("{\n");
    for (key, (_, value)) in keys.iter().zip(pairs) {
        let indent = INDENT.repeat(depth + 1);
        let value = expr(value, depth + 1);
        let _ = writeln!(text, "{indent}{key:<width$} = {value},");
    }
    text.push_str(&INDENT.repeat(depth));
    text.push('}');
    text
}

/// Object keys are bare when they are identifiers and not literals, quoted otherwise.
fn object_key(key: &str) -> String {
    let literal = matches!(key, "true" | "false" | "null");
    if crate::names::identifier_problem(key).is_none() && !literal {
        key.to_owned()
    } else {
        quote(key)
    }
}

/// An Alloy string literal: double quotes, with backslash escapes as in Go.
pub fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04x}", c as u32);
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes_strings() {
        assert_eq!(quote("plain"), r#""plain""#);
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("line\nbreak\t\u{1}"), r#""line\nbreak\t\u0001""#);
    }

    #[test]
    fn aligns_attribute_runs_and_spaces_blocks() {
        let text = render(&[
            Item::Comment("header".into()),
            Item::Block(
                Block::component("loki.write", "l1")
                    .attr("a", Expr::str("x"))
                    .attr("longer", Expr::code("sys.env(\"HOSTNAME\")"))
                    .block(Block::inner("endpoint").attr("url", Expr::str("http://loki")))
                    .attr(
                        "after",
                        Expr::List(vec![Expr::code("a.b"), Expr::code("c.d")]),
                    )
                    .block(Block::inner("stage.cri")),
            ),
        ]);
        let expected = "\
// header
loki.write \"l1\" {
\ta      = \"x\"
\tlonger = sys.env(\"HOSTNAME\")

\tendpoint {
\t\turl = \"http://loki\"
\t}

\tafter = [a.b, c.d]

\tstage.cri { }
}
";
        assert_eq!(text, expected);
    }

    #[test]
    fn renders_objects_one_pair_per_line() {
        let block = Block::inner("stage.static_labels").attr(
            "values",
            Expr::Object(vec![
                ("tier".into(), Expr::str("l2")),
                ("null".into(), Expr::str("x")),
                ("app.kubernetes.io/name".into(), Expr::str("y")),
            ]),
        );
        let expected = "\
stage.static_labels {
\tvalues = {
\t\ttier                     = \"l2\",
\t\t\"null\"                   = \"x\",
\t\t\"app.kubernetes.io/name\" = \"y\",
\t}
}
";
        assert_eq!(render(&[Item::Block(block)]), expected);
    }

    #[test]
    fn comments_never_span_lines() {
        let text = render(&[Item::Comment("key\n}\nloki.write \"x\" {".into())]);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("// key"));
    }
}
