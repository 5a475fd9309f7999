//! Timestamps: read as go-yaml v3 reads them (Go's `time.Parse` with its four layouts) and
//! written as kubectl writes them (RFC 3339 with nanoseconds, trailing zeros dropped).

use std::sync::LazyLock;

use regex::Regex;

/// The RFC 3339 text kubectl writes for `text`, if go-yaml reads it as a timestamp. The
/// layouts: `2006-1-2T15:4:5.999999999Z07:00` (also with a lower-case `t`),
/// `2006-1-2 15:4:5.999999999` (UTC) and `2006-1-2` (midnight UTC).
pub fn parse(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.len() < 5 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    let year: u32 = text[..4].parse().ok()?;
    let mut cursor = Cursor(&text[5..]);
    let month = cursor.number()?;
    cursor.expect(b'-')?;
    let day = cursor.number()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in(month, year) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    let separator = match cursor.next() {
        None => return Some(format!("{date}T00:00:00Z")),
        Some(separator @ (b'T' | b't' | b' ')) => separator,
        Some(_) => return None,
    };
    let hour = cursor.number()?;
    cursor.expect(b':')?;
    let minute = cursor.number()?;
    cursor.expect(b':')?;
    let second = cursor.number()?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let fraction = cursor.fraction();
    let zone = match separator {
        b' ' => "Z".to_owned(),
        _ => cursor.zone()?,
    };
    match cursor.0.is_empty() {
        true => Some(format!(
            "{date}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"
        )),
        false => None,
    }
}

/// Whether a YAML 1.1 reader takes `text` for a timestamp (the regular expression of
/// yaml.org/type/timestamp), including forms Go cannot parse such as `2001-12-14 21:59:43.10 -5`.
pub fn looks_like_yaml11(text: &str) -> bool {
    static YAML11: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}",
            r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}",
            r"(?:\.[0-9]*)?(?:[ \t]*Z|[ \t]*[-+][0-9]{1,2}(?::[0-9]{2})?)?)$"
        ))
        .expect("a valid regular expression")
    });
    text.as_bytes()
        .get(..5)
        .is_some_and(|head| head[..4].iter().all(u8::is_ascii_digit))
        && YAML11.is_match(text)
}

fn days_in(month: u32, year: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The unread rest of a timestamp.
struct Cursor<'a>(&'a str);

impl Cursor<'_> {
    fn next(&mut self) -> Option<u8> {
        let byte = *self.0.as_bytes().first()?;
        self.0 = &self.0[1..];
        Some(byte)
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        (self.next()? == wanted).then_some(())
    }

    /// One or two digits, as Go reads `1`, `2`, `15`, `4` and `5` in a layout.
    fn number(&mut self) -> Option<u32> {
        let digits = self
            .0
            .bytes()
            .take(2)
            .take_while(u8::is_ascii_digit)
            .count();
        let value = self
            .0
            .get(..digits)
            .filter(|d| !d.is_empty())?
            .parse()
            .ok()?;
        self.0 = &self.0[digits..];
        Some(value)
    }

    /// `.` or `,` and digits, as RFC 3339 writes them: at most nine digits (Go drops the
    /// rest), trailing zeros dropped.
    fn fraction(&mut self) -> String {
        let bytes = self.0.as_bytes();
        if bytes.len() < 2 || !matches!(bytes[0], b'.' | b',') || !bytes[1].is_ascii_digit() {
            return String::new();
        }
        let digits = bytes[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        let kept = self.0[1..1 + digits.min(9)]
            .trim_end_matches('0')
            .to_owned();
        self.0 = &self.0[1 + digits..];
        match kept.is_empty() {
            true => kept,
            false => format!(".{kept}"),
        }
    }

    /// `Z` or `±hh:mm`; an offset of zero is written `Z`.
    fn zone(&mut self) -> Option<String> {
        if self.0.starts_with('Z') {
            self.0 = &self.0[1..];
            return Some("Z".to_owned());
        }
        let zone = self.0.as_bytes().get(..6)?;
        let two_digits = |at: usize| {
            zone[at..at + 2]
                .iter()
                .all(u8::is_ascii_digit)
                .then(|| u32::from(zone[at] - b'0') * 10 + u32::from(zone[at + 1] - b'0'))
        };
        let sign = match zone[0] {
            b'+' => '+',
            b'-' => '-',
            _ => return None,
        };
        let (hours, minutes) = (two_digits(1)?, two_digits(4)?);
        if zone[3] != b':' || hours > 24 || minutes > 60 {
            return None;
        }
        self.0 = &self.0[6..];
        let offset = hours * 60 + minutes;
        Some(match offset {
            0 => "Z".to_owned(),
            _ => format!("{sign}{:02}:{:02}", offset / 60, offset % 60),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts_in_rfc3339() {
        let cases = [
            ("2002-12-14", Some("2002-12-14T00:00:00Z")),
            (
                "2001-12-14t21:59:43.10-05:00",
                Some("2001-12-14T21:59:43.1-05:00"),
            ),
            ("2001-12-14T21:59:43.000Z", Some("2001-12-14T21:59:43Z")),
            ("2001-1-2 3:4:5", Some("2001-01-02T03:04:05Z")),
            (
                "2001-12-14T21:59:43,5+00:00",
                Some("2001-12-14T21:59:43.5Z"),
            ),
            (
                "2001-12-14T21:59:43.1234567891Z",
                Some("2001-12-14T21:59:43.123456789Z"),
            ),
            ("2000-02-29", Some("2000-02-29T00:00:00Z")),
            ("2001-02-29", None),
            ("2001-12-14T21:59:43", None),
            ("2001-12-14 21:59:43.10 -5", None),
            ("2001-12-14x", None),
            ("2001-13-01", None),
            ("20011-12-14", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn yaml11_timestamps_include_what_go_cannot_parse() {
        assert!(looks_like_yaml11("2001-12-14 21:59:43.10 -5"));
        assert!(looks_like_yaml11("2002-12-14"));
        assert!(!looks_like_yaml11("2002-12-1"));
        assert!(!looks_like_yaml11("2002-12-14-release"));
    }
}
