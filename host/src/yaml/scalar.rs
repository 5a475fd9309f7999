//! What an unquoted scalar means: to kubectl (how we read), and to every reader our output
//! must survive (how we decide to quote).

use super::timestamp;

/// An unquoted scalar as kubectl kustomize types it (go-yaml v3's resolver).
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    /// Possibly infinite or NaN (`.inf`, `.nan`), which JSON cannot hold.
    Float(f64),
    /// A timestamp, already in the RFC 3339 form kubectl writes it in.
    Timestamp(String),
    /// Not a special form: the scalar's own text.
    Str,
}

impl Plain {
    /// The type's name as messages show it.
    pub fn kind(&self) -> &'static str {
        match self {
            Plain::Null => "null",
            Plain::Bool(_) => "boolean",
            Plain::Int(_) | Plain::Uint(_) | Plain::Float(_) => "number",
            Plain::Timestamp(_) => "timestamp",
            Plain::Str => "string",
        }
    }
}

/// Types an unquoted scalar as kubectl does. Timestamps are recognised only when
/// `timestamps` is set: go-yaml v3 tries them for untagged and `!!timestamp` scalars alone.
pub fn kubectl(text: &str, timestamps: bool) -> Plain {
    match text.as_bytes().first() {
        None => Plain::Null,
        Some(b'+' | b'-' | b'0'..=b'9') => number_or_timestamp(text, timestamps),
        Some(b'.') => special_word(text).unwrap_or_else(|| dot_float(text)),
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => {
            special_word(text).unwrap_or(Plain::Str)
        }
        Some(_) => Plain::Str,
    }
}

/// The words go-yaml v3 reads as something else than a string.
fn special_word(text: &str) -> Option<Plain> {
    Some(match text {
        "true" | "True" | "TRUE" => Plain::Bool(true),
        "false" | "False" | "FALSE" => Plain::Bool(false),
        "~" | "null" | "Null" | "NULL" => Plain::Null,
        ".nan" | ".NaN" | ".NAN" => Plain::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Plain::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Plain::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// Scalars starting with a sign or digit: a timestamp, an integer in any of Go's notations
/// (`0x`, `0o`, `0b`, a leading `0` for octal), or a decimal float. Underscores are ignored
/// anywhere, as go-yaml v3 strips them before parsing.
fn number_or_timestamp(text: &str, timestamps: bool) -> Plain {
    if let Some(word) = special_word(text) {
        return word;
    }
    if timestamps && let Some(rfc3339) = timestamp::parse(text) {
        return Plain::Timestamp(rfc3339);
    }
    let digits = text.replace('_', "");
    if let Some(int) = go_parse_int(&digits) {
        return Plain::Int(int);
    }
    if let Some(uint) = go_parse_uint(&digits) {
        return Plain::Uint(uint);
    }
    match is_decimal_float(&digits) {
        true => finite_float(&digits),
        false => Plain::Str,
    }
}

/// A scalar starting with `.` that is not a special word: `.5`, `.5e3`, `.5_5`.
fn dot_float(text: &str) -> Plain {
    if !underscores_between_digits(text) {
        return Plain::Str;
    }
    let digits = text.replace('_', "");
    match is_decimal_float(&digits) {
        true => finite_float(&digits),
        false => Plain::Str,
    }
}

/// Go's float parser fails on values out of range, and go-yaml then keeps the text.
fn finite_float(digits: &str) -> Plain {
    match digits.parse::<f64>() {
        Ok(float) if float.is_finite() => Plain::Float(float),
        _ => Plain::Str,
    }
}

/// Go accepts `_` in a number only between two digits.
fn underscores_between_digits(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(index, &byte)| {
        byte != b'_'
            || (index > 0
                && bytes[index - 1].is_ascii_digit()
                && bytes.get(index + 1).is_some_and(u8::is_ascii_digit))
    })
}

/// go-yaml's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
pub fn is_decimal_float(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => is_digits(fraction),
        Some((whole, fraction)) => is_digits(whole) && (fraction.is_empty() || is_digits(fraction)),
        None => is_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| is_digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Go's `strconv.ParseInt(text, 0, 64)`: an optional sign, then [`go_parse_uint`].
pub fn go_parse_int(text: &str) -> Option<i64> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    let magnitude = go_parse_uint(unsigned)?;
    match negative {
        true if magnitude <= 1 << 63 => Some((magnitude as i64).wrapping_neg()),
        false if magnitude < 1 << 63 => Some(magnitude as i64),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(text, 0, 64)`: `0x`, `0o` and `0b` prefixes (either case), a
/// leading `0` for octal, else decimal; no sign.
pub fn go_parse_uint(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let (radix, digits) = match bytes {
        [] => return None,
        [b'0', prefix, _, ..] if matches!(prefix.to_ascii_lowercase(), b'x' | b'o' | b'b') => {
            let radix = match prefix.to_ascii_lowercase() {
                b'x' => 16,
                b'o' => 8,
                _ => 2,
            };
            (radix, &text[2..])
        }
        [b'0', ..] => (8, &text[1..]),
        _ => (10, text),
    };
    if digits.is_empty() {
        return Some(0); // "0" itself
    }
    if !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None; // from_str_radix would accept a sign here; Go does not
    }
    u64::from_str_radix(digits, radix).ok()
}

/// What kubectl's JSON round trip makes of a float: Go writes it with its shortest digits
/// (positional below 1e21), and an integral result that fits 64 bits is read back as an
/// integer. Returns the integer, or `None` when the value stays a float.
pub fn integral(float: f64) -> Option<Plain> {
    if float.fract() != 0.0 || float.abs() >= 1e21 {
        return None;
    }
    let shortest = format!("{float}"); // Rust, like Go, prints the shortest round-trip digits
    if let Ok(int) = shortest.parse::<i64>() {
        return Some(Plain::Int(int));
    }
    shortest.parse::<u64>().ok().map(Plain::Uint)
}

/// Whether every reader of our output reads `text`, written unquoted, as that same string:
/// kubectl (go-yaml v3), go-yaml v2 and YAML 1.1 (Argo CD, `kubectl apply`), and YAML 1.2.
pub fn is_plain_string_everywhere(text: &str) -> bool {
    kubectl(text, true) == Plain::Str && !is_yaml11_special(text) && !is_yaml12_special(text)
}

/// YAML 1.1 forms go-yaml v3 reads as strings: v2's extra booleans, the merge key, the value
/// key `=`, base-60 numbers (`1:20`) and YAML 1.1 timestamps go-yaml does not parse.
fn is_yaml11_special(text: &str) -> bool {
    matches!(
        text,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
            | "<<"
            | "="
    ) || is_base60(text)
        || timestamp::looks_like_yaml11(text)
}

/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?`, YAML 1.1's sexagesimal numbers.
fn is_base60(text: &str) -> bool {
    if !text.contains(':') {
        return false;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let mut parts = whole.split(':');
    let head = parts.next().unwrap_or_default();
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit())
        && head.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let sixties: Vec<&str> = parts.collect();
    let sixties_ok = !sixties.is_empty()
        && sixties.iter().all(|part| match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [t, d] => (b'0'..=b'5').contains(t) && d.is_ascii_digit(),
            _ => false,
        });
    let fraction_ok = fraction.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    head_ok && sixties_ok && fraction_ok
}

/// YAML 1.2 core schema forms go-yaml v3 reads as strings: integers and floats too large for
/// 64 bits (`1e500`, long hex), which a 1.2 reader still takes for numbers.
fn is_yaml12_special(text: &str) -> bool {
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
        return false;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let hex_or_octal = |prefix: &str, radix: u32| {
        text.strip_prefix(prefix)
            .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix)))
    };
    is_digits(unsigned) || is_decimal_float(text) || hex_or_octal("0x", 16) || hex_or_octal("0o", 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_integer_notations() {
        assert_eq!(go_parse_int("0644"), Some(420));
        assert_eq!(go_parse_int("0o644"), Some(420));
        assert_eq!(go_parse_int("0X1f"), Some(31));
        assert_eq!(go_parse_int("-0b101"), Some(-5));
        assert_eq!(go_parse_int("+12"), Some(12));
        assert_eq!(go_parse_int("0"), Some(0));
        assert_eq!(go_parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(go_parse_int("9223372036854775808"), None);
        assert_eq!(go_parse_uint("9223372036854775808"), Some(1 << 63));
        for not_int in ["08", "0x", "+-1", "0x+1", "1e3", "", "-"] {
            assert_eq!(go_parse_int(not_int), None, "{not_int}");
        }
    }

    #[test]
    fn integral_floats_become_the_integers_kubectl_writes() {
        assert_eq!(integral(1000.0), Some(Plain::Int(1000)));
        assert_eq!(integral(-0.0), Some(Plain::Int(0)));
        assert_eq!(
            integral(2f64.powi(63)),
            Some(Plain::Uint(9_223_372_036_854_776_000))
        );
        assert_eq!(integral(2f64.powi(64)), None);
        assert_eq!(integral(0.5), None);
    }

    #[test]
    fn quoting_covers_yaml11_and_yaml12_readers() {
        for needs_quotes in [
            "yes",
            "No",
            "ON",
            "y",
            "n",
            "1_000",
            "0644",
            "0o644",
            "1:20",
            "190:20:30.15",
            "=",
            "<<",
            "1e500",
            "0xFFFFFFFFFFFFFFFFFFFF",
            "2002-12-14",
            "2001-12-14 21:59:43.10 -5",
            "~",
            "",
            "null",
            ".inf",
            "-.5",
            "1.",
            "12e03",
        ] {
            assert!(!is_plain_string_everywhere(needs_quotes), "{needs_quotes}");
        }
        for plain in [
            "a",
            "1.2.3",
            "v1",
            "0b2",
            "0o9",
            "1,000",
            "nULL",
            "yES",
            "--appendonly",
            "1:60",
            "2002-12",
            "e3",
            "0x",
            ".",
            "-",
            "+",
        ] {
            assert!(is_plain_string_everywhere(plain), "{plain}");
        }
    }
}
