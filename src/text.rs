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

/// Lesson text that is not Markdown (a question, a prompt, an explanation, a bug's why) as the
/// paragraphs to show, each sanitised. Authors write these as YAML block scalars, which keep the
/// line breaks of the source: inside a paragraph a line break is a space (as in Markdown), and a
/// blank line ends the paragraph. A renderer that drew the raw text would drop the line breaks
/// and glue the words on either side together.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&sanitize(line));
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// [`paragraphs`] joined into one line: for text shown on a single line (a key point, a note).
pub fn one_line(text: &str) -> String {
    paragraphs(text).join(" ")
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

    #[test]
    fn line_breaks_in_prose_are_spaces_and_blank_lines_end_paragraphs() {
        let question = "Implement an async rate limiter that allows at most N operations per time window, and that\nstays correct when hundreds of coroutines call `acquire()` at the same moment.\n";
        assert_eq!(
            paragraphs(question),
            [
                "Implement an async rate limiter that allows at most N operations per time window, and that stays correct when hundreds of coroutines call `acquire()` at the same moment."
            ]
        );
        assert_eq!(paragraphs("one\ntwo  \n\n\nthree\n"), ["one two", "three"]);
        assert_eq!(one_line("a\nb\n\nc"), "a b c");
        assert!(paragraphs("  \n").is_empty());
        assert_eq!(paragraphs("esc \x1b[31m\nred"), ["esc \\u{1b}[31m red"]);
    }
}
