//! YAML scalars as kustomize handles them: a scalar node is text plus a type, and the text
//! written into a field keeps that field's type (kustomize copies only the text).

use serde_json::{Number, Value};

/// The text of a scalar (its YAML plain form); `None` for maps, lists and null.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

pub fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Object(_) | Value::Array(_))
}

pub fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// `text` with the type of `field`: a string stays a string, a number or boolean must read
/// as one (kustomize fails to decode it otherwise), and a new (null) field takes the type
/// YAML gives the plain text.
pub fn retyped(field: &Value, text: &str) -> Result<Value, String> {
    let mismatch = || format!("cannot decode `{text}` as {}", kind_name(field));
    match field {
        Value::String(_) => Ok(Value::from(text)),
        Value::Number(_) => match plain(text) {
            number @ Value::Number(_) => Ok(number),
            _ => Err(mismatch()),
        },
        Value::Bool(_) => match plain(text) {
            flag @ Value::Bool(_) => Ok(flag),
            _ => Err(mismatch()),
        },
        _ => Ok(plain(text)),
    }
}

/// What YAML 1.2 (core schema, as go-yaml v3 resolves it) makes of plain text.
pub fn plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(number) = integer(text) {
        return Value::Number(number);
    }
    let float_like = text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-' | '_'));
    match text
        .replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|_| float_like)
    {
        Some(float) => Number::from_f64(float).map_or_else(|| Value::from(text), Value::Number),
        None => Value::from(text),
    }
}

fn integer(text: &str) -> Option<Number> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = match digits.get(..2) {
        Some("0x") => (16, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0b") => (2, &digits[2..]),
        _ => (10, digits),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix) || c == '_') {
        return None;
    }
    let magnitude = i128::from_str_radix(&digits.replace('_', ""), radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value)
        .map(Number::from)
        .ok()
        .or_else(|| u64::try_from(value).ok().map(Number::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_text_reads_as_yaml_does() {
        assert_eq!(plain("5"), json!(5));
        assert_eq!(plain("-12"), json!(-12));
        assert_eq!(plain("1.5"), json!(1.5));
        assert_eq!(plain("true"), json!(true));
        assert_eq!(plain("~"), Value::Null);
        assert_eq!(plain("v1.2"), json!("v1.2"));
        assert_eq!(plain("1.2.3"), json!("1.2.3"));
        assert_eq!(plain("yes"), json!("yes"));
        assert_eq!(plain("0x1F"), json!(31));
    }

    #[test]
    fn written_text_keeps_the_field_type() {
        assert_eq!(retyped(&json!("x"), "5"), Ok(json!("5")));
        assert_eq!(retyped(&json!(1), "5"), Ok(json!(5)));
        assert!(retyped(&json!(1), "hello").is_err());
        assert!(retyped(&json!(true), "5").is_err());
        assert_eq!(retyped(&Value::Null, "5"), Ok(json!(5)));
        assert_eq!(text(&json!(3)), Some("3".to_owned()));
        assert_eq!(text(&json!({})), None);
    }
}
