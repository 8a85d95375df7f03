//! Making text safe to show on a terminal.
//!
//! Lesson text, demo task names and error messages all end up on a user's terminal. Validation
//! refuses control characters in lessons; this module is the second line of defence for anything
//! that reaches the screen from elsewhere (a `--lessons` directory's error messages, a panic
//! message from a demo).

/// Characters that must never reach the terminal raw: C0 and C1 controls (ESC starts ANSI
/// sequences), DEL, and the invisible bidirectional overrides that can make code read differently
/// from how it runs. Tab and newline are ordinary text.
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `text` with every forbidden character shown as a visible escape (`\u{1b}`), so nothing is lost
/// and nothing is interpreted.
pub fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_forbidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_forbidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_made_visible() {
        assert_eq!(sanitize("red \x1b[31m!"), "red \\u{1b}[31m!");
        assert_eq!(sanitize("a\u{202E}b"), "a\\u{202e}b");
        assert_eq!(sanitize("c1 \u{9b}"), "c1 \\u{9b}");
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "tabs\tand\nnewlines, ünïcode → fine";
        assert!(matches!(sanitize(text), std::borrow::Cow::Borrowed(_)));
    }
}
