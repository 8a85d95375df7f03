//! Syntax highlighting: syntect's assets loaded once on first use, highlighted lines computed on a
//! snippet's first use and cached, as bat loads its assets lazily.
//!
//! The output is plain data (colours and text), so the terminal UI and the `show` command can each
//! turn it into their own styling; nothing here knows about ratatui.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Which highlighted snippet: its language, the palette and a hash of its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    language: Language,
    palette: Palette,
    text: u64,
}

impl Key {
    pub fn new(code: &str, language: Language, palette: Palette) -> Key {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        code.hash(&mut h);
        Key {
            language,
            palette,
            text: h.finish(),
        }
    }
}

/// Highlighted snippets, each computed on its first use and kept for the life of the process
/// (the sources are the built-in ones, a lesson set's snippets and the runs' files: a few
/// hundred KB at most).
#[derive(Default)]
pub struct Cache {
    lines: Mutex<HashMap<Key, HighlightedLines>>,
    computed: AtomicUsize,
}

impl Cache {
    /// `code` highlighted, computed only if no earlier call did. Slow the first time (a
    /// grammar compiling, then every line): call it off the UI thread.
    pub fn highlight(&self, code: &str, language: Language, palette: Palette) -> HighlightedLines {
        let key = Key::new(code, language, palette);
        if let Some(hit) = self.lines.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return hit;
        }
        // Computed outside the lock, so a reader on the UI thread is never kept waiting; two
        // threads asking for the same new snippet at once would both compute it, and the UI
        // asks one thread only.
        self.computed.fetch_add(1, Ordering::Relaxed);
        let lines = Arc::new(compute(code, language, palette));
        if let Ok(mut c) = self.lines.lock() {
            c.insert(key, Arc::clone(&lines));
        }
        lines
    }

    /// The highlighted snippet if it has been computed; never computes and never waits, so
    /// the UI thread can ask while drawing.
    pub fn get(&self, key: &Key) -> Option<HighlightedLines> {
        self.lines.try_lock().ok().and_then(|c| c.get(key).cloned())
    }

    /// How many snippets this cache has highlighted.
    pub fn computed(&self) -> usize {
        self.computed.load(Ordering::Relaxed)
    }
}

/// The process's cache: what the TUI's highlighting thread fills and the code pane reads.
pub fn shared() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

/// Highlight `code`, computing it once per (snippet, language, palette) for the life of the process.
pub fn highlight(code: &str, language: Language, palette: Palette) -> HighlightedLines {
    shared().highlight(code, language, palette)
}

/// The highlighted snippet if it has been computed; never computes, so the UI thread never waits
/// on a grammar compiling. Until it is computed, ask for it with a [`Request`].
pub fn cached(code: &str, language: Language, palette: Palette) -> Option<HighlightedLines> {
    shared().get(&Key::new(code, language, palette))
}

/// A snippet to highlight on another thread: the code pane's, when [`cached`] had nothing.
#[derive(Debug, Clone)]
pub struct Request {
    pub key: Key,
    pub code: Arc<str>,
    pub language: Language,
    pub palette: Palette,
}

impl Request {
    pub fn new(code: &str, language: Language, palette: Palette) -> Request {
        Request {
            key: Key::new(code, language, palette),
            code: code.into(),
            language,
            palette,
        }
    }

    /// Compute it into the shared cache.
    pub fn run(&self) -> HighlightedLines {
        highlight(&self.code, self.language, self.palette)
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
    fn a_snippet_is_computed_on_first_use_and_served_from_the_cache_after() {
        let cache = Cache::default();
        let code = "fn main() {}\n";
        let key = Key::new(code, Language::Rust, Palette::Light);
        assert!(
            cache.get(&key).is_none(),
            "nothing is computed before it is asked for"
        );
        let a = cache.highlight(code, Language::Rust, Palette::Light);
        assert_eq!(cache.computed(), 1);
        let b = cache.highlight(code, Language::Rust, Palette::Light);
        assert_eq!(cache.computed(), 1, "the second use recomputed");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(cache.get(&key).is_some_and(|c| Arc::ptr_eq(&a, &c)));
        // Another palette, language or text is another snippet.
        let _ = cache.highlight(code, Language::Rust, Palette::Dark);
        let _ = cache.highlight(code, Language::Python, Palette::Light);
        let _ = cache.highlight("fn main() { }\n", Language::Rust, Palette::Light);
        assert_eq!(cache.computed(), 4);
    }

    #[test]
    fn a_request_fills_the_shared_cache() {
        let code = "async def only_in_this_test():\n    pass\n";
        assert!(cached(code, Language::Python, Palette::Dark).is_none());
        let request = Request::new(code, Language::Python, Palette::Dark);
        let lines = request.run();
        let hit = cached(code, Language::Python, Palette::Dark).expect("cached after the request");
        assert!(Arc::ptr_eq(&lines, &hit));
    }
}
