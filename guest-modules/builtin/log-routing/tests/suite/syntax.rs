//! A parser for Alloy configuration syntax, independent of the module's writer: it reads
//! the generated text back, so a quoting or nesting mistake in the writer shows up as a
//! parse error here. It follows Alloy's grammar: blocks (`name "label" { … }`), attributes
//! (`name = expr`), Go-style strings, `//` and `/* */` comments, lists, objects, calls.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Attr {
        name: String,
        value: Expr,
        line: usize,
    },
    Block {
        name: String,
        label: Option<String>,
        body: Vec<Stmt>,
        line: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Number(String),
    Bool(bool),
    Null,
    /// `a.b.c`: a component export, a constant.
    Path(Vec<String>),
    Call(Vec<String>, Vec<Expr>),
    List(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    Unary(String, Box<Expr>),
    Binary(Box<Expr>, String, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Number(String),
    Punct(&'static str),
}

const PUNCTUATION: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "{", "}", "[", "]", "(", ")", ",", ".", "=", "!", "<", ">",
    "+", "-", "*", "/", "%", "^",
];
const BINARY: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "^",
];

/// Parses a whole file into its top-level statements.
pub fn parse(text: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let tokens = lex(text)?;
    let mut parser = Parser { tokens, pos: 0 };
    let body = parser.body()?;
    match parser.peek() {
        None => Ok(body),
        Some(token) => Err(parser.error(format!("unexpected {token:?} at top level"))),
    }
}

fn lex(text: &str) -> Result<Vec<(Token, usize)>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let error = |line, message: String| SyntaxError { line, message };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                let start = line;
                i += 2;
                loop {
                    match (chars.get(i), chars.get(i + 1)) {
                        (Some('*'), Some('/')) => break,
                        (Some(c), _) => line += usize::from(*c == '\n'),
                        (None, _) => return Err(error(start, "unterminated block comment".into())),
                    }
                    i += 1;
                }
                i += 2;
            }
            '"' => {
                let (value, end) = string(&chars, i + 1).map_err(|m| error(line, m))?;
                tokens.push((Token::Str(value), line));
                i = end;
            }
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| *c == '`')
                    .ok_or_else(|| error(line, "unterminated raw string".into()))?;
                let value: String = chars[i + 1..i + 1 + end].iter().collect();
                line += value.matches('\n').count();
                tokens.push((Token::Str(value), line));
                i += end + 2;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                tokens.push((Token::Ident(chars[start..i].iter().collect()), line));
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                tokens.push((Token::Number(chars[start..i].iter().collect()), line));
            }
            _ => {
                let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let punct = PUNCTUATION
                    .iter()
                    .find(|p| rest.starts_with(**p))
                    .ok_or_else(|| error(line, format!("unexpected character {c:?}")))?;
                tokens.push((Token::Punct(punct), line));
                i += punct.len();
            }
        }
    }
    Ok(tokens)
}

/// Reads a double-quoted string body from `start`; returns the value and the index after
/// the closing quote. Escapes are Go's.
fn string(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut value = String::new();
    let mut i = start;
    loop {
        match chars.get(i) {
            None | Some('\n') => return Err("unterminated string".into()),
            Some('"') => return Ok((value, i + 1)),
            Some('\\') => {
                let (c, used) = escape(&chars[i + 1..])?;
                value.push(c);
                i += 1 + used;
            }
            Some(c) => {
                value.push(*c);
                i += 1;
            }
        }
    }
}

fn escape(rest: &[char]) -> Result<(char, usize), String> {
    let simple = match rest.first() {
        Some('a') => Some('\u{7}'),
        Some('b') => Some('\u{8}'),
        Some('f') => Some('\u{c}'),
        Some('n') => Some('\n'),
        Some('r') => Some('\r'),
        Some('t') => Some('\t'),
        Some('v') => Some('\u{b}'),
        Some('\\') => Some('\\'),
        Some('"') => Some('"'),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((c, 1));
    }
    let (digits, radix) = match rest.first() {
        Some('x') => (2, 16),
        Some('u') => (4, 16),
        Some('U') => (8, 16),
        Some(c) if c.is_digit(8) => (3, 8),
        other => return Err(format!("unknown escape sequence \\{other:?}")),
    };
    let skip = usize::from(radix == 16);
    let code: String = rest.iter().skip(skip).take(digits).collect();
    let value = u32::from_str_radix(&code, radix)
        .ok()
        .filter(|_| code.len() == digits)
        .and_then(char::from_u32)
        .ok_or_else(|| format!("bad escape sequence \\{code}"))?;
    Ok((value, skip + digits))
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(token, _)| token)
    }

    fn line(&self) -> usize {
        self.tokens
            .get(self.pos)
            .or(self.tokens.last())
            .map_or(1, |(_, line)| *line)
    }

    fn error(&self, message: String) -> SyntaxError {
        SyntaxError {
            line: self.line(),
            message,
        }
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).map(|(token, _)| token.clone());
        self.pos += 1;
        token
    }

    fn eat(&mut self, punct: &str) -> bool {
        let matches = matches!(self.peek(), Some(Token::Punct(p)) if *p == punct);
        if matches {
            self.pos += 1;
        }
        matches
    }

    fn expect(&mut self, punct: &str) -> Result<(), SyntaxError> {
        if self.eat(punct) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{punct}`, found {:?}", self.peek())))
        }
    }

    fn ident(&mut self) -> Result<String, SyntaxError> {
        match self.next() {
            Some(Token::Ident(name)) => Ok(name),
            other => {
                self.pos -= 1;
                Err(self.error(format!("expected an identifier, found {other:?}")))
            }
        }
    }

    /// Statements until `}` or the end of the file.
    fn body(&mut self) -> Result<Vec<Stmt>, SyntaxError> {
        let mut body = Vec::new();
        while matches!(self.peek(), Some(Token::Ident(_))) {
            body.push(self.statement()?);
        }
        Ok(body)
    }

    fn statement(&mut self) -> Result<Stmt, SyntaxError> {
        let line = self.line();
        let mut name = vec![self.ident()?];
        while self.eat(".") {
            name.push(self.ident()?);
        }
        if name.len() == 1 && self.eat("=") {
            let value = self.expr()?;
            return Ok(Stmt::Attr {
                name: name.remove(0),
                value,
                line,
            });
        }
        let label = match self.peek() {
            Some(Token::Str(label)) => {
                let label = label.clone();
                self.pos += 1;
                Some(label)
            }
            _ => None,
        };
        self.expect("{")?;
        let body = self.body()?;
        self.expect("}")?;
        Ok(Stmt::Block {
            name: name.join("."),
            label,
            body,
            line,
        })
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.unary()?;
        while let Some(Token::Punct(op)) = self.peek() {
            let op = *op;
            if !BINARY.contains(&op) {
                break;
            }
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::Binary(Box::new(left), op.to_owned(), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        for op in ["!", "-"] {
            if self.eat(op) {
                return Ok(Expr::Unary(op.to_owned(), Box::new(self.unary()?)));
            }
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        match self.next() {
            Some(Token::Str(value)) => Ok(Expr::Str(value)),
            Some(Token::Number(value)) => Ok(Expr::Number(value)),
            Some(Token::Ident(name)) => self.path_or_call(name),
            Some(Token::Punct("[")) => self.list(),
            Some(Token::Punct("{")) => self.object(),
            Some(Token::Punct("(")) => {
                let inner = self.expr()?;
                self.expect(")")?;
                Ok(inner)
            }
            other => {
                self.pos -= 1;
                Err(self.error(format!("expected an expression, found {other:?}")))
            }
        }
    }

    fn path_or_call(&mut self, first: String) -> Result<Expr, SyntaxError> {
        match first.as_str() {
            "true" => return Ok(Expr::Bool(true)),
            "false" => return Ok(Expr::Bool(false)),
            "null" => return Ok(Expr::Null),
            _ => {}
        }
        let mut path = vec![first];
        while self.eat(".") {
            path.push(self.ident()?);
        }
        if !self.eat("(") {
            return Ok(Expr::Path(path));
        }
        let args = self.items(")", Parser::expr)?;
        Ok(Expr::Call(path, args))
    }

    fn list(&mut self) -> Result<Expr, SyntaxError> {
        Ok(Expr::List(self.items("]", Parser::expr)?))
    }

    fn object(&mut self) -> Result<Expr, SyntaxError> {
        Ok(Expr::Object(self.items("}", Parser::object_pair)?))
    }

    fn object_pair(&mut self) -> Result<(String, Expr), SyntaxError> {
        let key = match self.next() {
            Some(Token::Ident(key) | Token::Str(key)) => key,
            other => {
                self.pos -= 1;
                return Err(self.error(format!("expected an object key, found {other:?}")));
            }
        };
        self.expect("=")?;
        Ok((key, self.expr()?))
    }

    /// Comma-separated items up to `close`, a trailing comma allowed.
    fn items<T>(
        &mut self,
        close: &str,
        item: fn(&mut Parser) -> Result<T, SyntaxError>,
    ) -> Result<Vec<T>, SyntaxError> {
        let mut items = Vec::new();
        while !self.eat(close) {
            items.push(item(self)?);
            if !self.eat(",") {
                self.expect(close)?;
                break;
            }
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_attributes_and_expressions() {
        let text = r#"
            // comment
            discovery.kubernetes "pods" { role = "pod" }
            /* block
               comment */
            loki.process "x" {
              forward_to = [loki.write.a.receiver, loki.write.b.receiver,]
              stage.static_labels { values = { tier = "a\"b", "k.v" = `raw` } }
              field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)
            }
        "#;
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.len(), 2);
        let Stmt::Block { body, .. } = &parsed[1] else {
            panic!("{parsed:?}")
        };
        assert!(
            matches!(&body[0], Stmt::Attr { value: Expr::List(items), .. } if items.len() == 2)
        );
    }

    #[test]
    fn rejects_broken_syntax() {
        let broken = [
            r#"a "x" { b = "unterminated }"#,
            r#"a "x" { b = "x" "#,
            r#"a "x" { b = "x" }}"#,
            r#"a "x" { b = [1, 2 }"#,
            r#"a "x" { b = "\q" }"#,
            "a \"x\" { b = \"line\nbreak\" }",
            r#"a "x" { b = { c = 1 d = 2 } }"#,
            r#"a "x" { /* open }"#,
            r#"a "x" { b = $ }"#,
            r#"a.b = 1"#,
        ];
        for text in broken {
            assert!(parse(text).is_err(), "should not parse: {text}");
        }
    }
}
