//! Syntax highlighting: syntect's assets loaded once, highlighted lines cached per snippet.
//!
//! The output is plain data (colours and text), so the terminal UI and the `show` command can each
//! turn it into their own styling; nothing here knows about ratatui.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;

use crate::lesson::Language;

/// One run of text in one colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StyledText {
    pub rgb: (u8, u8, u8),
    pub bold: bool,
    pub italic: bool,
    pub text: String,
}

/// A highlighted snippet: one entry per source line.
pub type HighlightedLines = Arc<Vec<Vec<StyledText>>>;

/// Which of syntect's bundled themes to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Palette {
    Dark,
    Light,
}

impl Palette {
    fn theme_name(self) -> &'static str {
        match self {
            Palette::Dark => "base16-ocean.dark",
            Palette::Light => "InspiredGitHub",
        }
    }
}

struct Assets {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
}

fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets {
        syntaxes: SyntaxSet::load_defaults_newlines(),
        themes: ThemeSet::load_defaults(),
    })
}

type CacheKey = (Language, Palette, u64);

fn cache() -> &'static Mutex<HashMap<CacheKey, HighlightedLines>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, HighlightedLines>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

fn hash(code: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    code.hash(&mut h);
    h.finish()
}

/// Highlight `code`, computing it once per (snippet, language, palette) for the life of the process.
pub fn highlight(code: &str, language: Language, palette: Palette) -> HighlightedLines {
    let key = (language, palette, hash(code));
    if let Some(hit) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let lines = Arc::new(compute(code, language, palette));
    if let Ok(mut c) = cache().lock() {
        c.insert(key, Arc::clone(&lines));
    }
    lines
}

/// The highlighted snippet if it has been computed; never computes, so the UI thread never waits
/// on a grammar compiling.
pub fn cached(code: &str, language: Language, palette: Palette) -> Option<HighlightedLines> {
    let key = (language, palette, hash(code));
    cache().try_lock().ok().and_then(|c| c.get(&key).cloned())
}

/// Compile the Python and Rust grammars ahead of first use (it takes ~10 ms each): call this from
/// a background thread at start-up so the first lesson opens without a stall.
pub fn warm_up() {
    for language in [Language::Python, Language::Rust] {
        let _ = compute("x = 1\n", language, Palette::Dark);
    }
}

fn theme(palette: Palette) -> &'static Theme {
    let themes = &assets().themes.themes;
    themes
        .get(palette.theme_name())
        .or_else(|| themes.values().next())
        .expect("syntect ships its default themes")
}

fn compute(code: &str, language: Language, palette: Palette) -> Vec<Vec<StyledText>> {
    let a = assets();
    let syntax = a
        .syntaxes
        .find_syntax_by_extension(match language {
            Language::Python => "py",
            Language::Rust => "rs",
        })
        .unwrap_or_else(|| a.syntaxes.find_syntax_plain_text());
    let mut h = HighlightLines::new(syntax, theme(palette));
    let mut out = Vec::new();
    for line in syntect::util::LinesWithEndings::from(code) {
        let ranges = h.highlight_line(line, &a.syntaxes).unwrap_or_default();
        let mut spans: Vec<StyledText> = ranges
            .into_iter()
            .map(|(style, text)| StyledText {
                rgb: (style.foreground.r, style.foreground.g, style.foreground.b),
                bold: style.font_style.contains(FontStyle::BOLD),
                italic: style.font_style.contains(FontStyle::ITALIC),
                text: crate::text::sanitize(text.trim_end_matches(['\n', '\r'])).into_owned(),
            })
            .filter(|s| !s.text.is_empty())
            .collect();
        if spans.is_empty() {
            spans.push(StyledText {
                rgb: (0, 0, 0),
                bold: false,
                italic: false,
                text: String::new(),
            });
        }
        out.push(spans);
    }
    out
}

/// The snippet as 24-bit ANSI text, for `asyncdojo show` on a terminal.
pub fn to_ansi(lines: &[Vec<StyledText>]) -> String {
    let mut out = String::new();
    for line in lines {
        for span in line {
            let (r, g, b) = span.rgb;
            out.push_str(&format!("\x1b[38;2;{r};{g};{b}m"));
            if span.bold {
                out.push_str("\x1b[1m");
            }
            out.push_str(&span.text);
            out.push_str("\x1b[0m");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_line_gets_a_highlighted_line() {
        let code = "async def f():\n    await g()\n\nx = 1\n";
        let lines = highlight(code, Language::Python, Palette::Dark);
        assert_eq!(lines.len(), 4);
        let text: Vec<String> = lines
            .iter()
            .map(|l| l.iter().map(|s| s.text.as_str()).collect())
            .collect();
        assert_eq!(text, ["async def f():", "    await g()", "", "x = 1"]);
        // Keywords and names are coloured differently.
        assert!(lines[0].len() > 1);
    }

    #[test]
    fn a_second_call_is_served_from_the_cache() {
        let a = highlight("fn main() {}\n", Language::Rust, Palette::Light);
        let b = highlight("fn main() {}\n", Language::Rust, Palette::Light);
        assert!(Arc::ptr_eq(&a, &b));
    }
}
