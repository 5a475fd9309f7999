//! Quoting untrusted text (from modules, from repositories) in messages and logs: control
//! characters escaped so nothing can repaint a terminal or forge a log line, and sizes
//! bounded so nothing can flood stderr, which Argo CD shows in its UI.

/// `text` with every control character escaped (`\n`, `\u{1b}`, ...).
pub(crate) fn escape_control(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// At most `max_bytes` of `text` (cut at a character boundary), escaped, with a note of
/// how much was left out.
pub(crate) fn quote(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return escape_control(text);
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… ({} more bytes)",
        escape_control(&text[..end]),
        text.len() - end
    )
}

/// The first `max` items, then `… N more` when there are more.
pub(crate) fn bounded_list(items: &[String], max: usize) -> Vec<String> {
    let mut shown: Vec<String> = items.iter().take(max).cloned().collect();
    if items.len() > max {
        shown.push(format!("… {} more", items.len() - max));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("plain ünïcode"), "plain ünïcode");
        assert_eq!(
            escape_control("a\x1b[31mred\nb\r"),
            "a\\u{1b}[31mred\\nb\\r"
        );
    }

    #[test]
    fn quotes_are_bounded_at_character_boundaries() {
        assert_eq!(quote("short", 10), "short");
        assert_eq!(quote("ééé", 3), "é… (4 more bytes)");
    }

    #[test]
    fn lists_are_bounded_with_a_count() {
        let items: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        assert_eq!(bounded_list(&items, 2), ["0", "1", "… 3 more"]);
        assert_eq!(bounded_list(&items, 5), items);
    }
}
