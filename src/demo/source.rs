//! What you read is what runs: the sources a run came from, as plain data.
//!
//! A tokio run comes from its demo's shown file (`DemoSpec::source`, the whole of
//! `catalog/<demo>/shown.rs`, included at build time); an asyncio run from the demo's twin
//! (`twins/<demo>.py`, also built in). The lines marks carry are lines of these files. A run is
//! meant to carry its sources as a `Vec<Source>`: a traced script may run from several files, and
//! then a line only means something with its file, hence [`Location`].

use std::fmt;
use std::sync::{Arc, OnceLock};

use super::asyncio::{self, Runtime};
use crate::lesson::Language;

/// One source file a run ran from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as the run names it: `src/demo/catalog/gather/shown.rs`, `twins/gather.py`, or
    /// a traced script's path.
    pub file: String,
    pub language: Language,
    /// Shared, so a run, a view and the highlighting thread can hold the same text.
    pub text: Arc<str>,
}

impl Source {
    pub fn new(file: impl Into<String>, language: Language, text: impl Into<Arc<str>>) -> Source {
        Source {
            file: file.into(),
            language,
            text: text.into(),
        }
    }

    /// The file as a caption names it: its directory and its name (`gather/shown.rs`,
    /// `twins/gather.py`), enough to tell it apart without the whole path.
    pub fn short_name(&self) -> &str {
        let file = self.file.trim_end_matches(['/', '\\']);
        let mut cuts = file.rmatch_indices(['/', '\\']).map(|(i, _)| i);
        let _name = cuts.next();
        match cuts.next() {
            Some(i) => &file[i + 1..],
            None => file,
        }
    }

    pub fn line_count(&self) -> usize {
        self.text.lines().count()
    }

    /// Line `line` (1-based) of this file, if it has one.
    pub fn at(&self, line: u32) -> Option<Location> {
        (line >= 1 && line as usize <= self.line_count()).then(|| Location {
            file: self.file.clone(),
            line,
        })
    }
}

/// A line of a source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub file: String,
    /// 1-based.
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Every built-in source: each demo's shown file and each twin, made once.
struct Table {
    shown: Vec<(&'static str, Source)>,
    twins: Vec<(&'static str, Source)>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table {
        shown: super::registry()
            .iter()
            .map(|d| {
                let spec = d.spec();
                (
                    spec.id,
                    Source::new(spec.source_file, Language::Rust, spec.source),
                )
            })
            .collect(),
        twins: asyncio::twins()
            .iter()
            .map(|t| {
                (
                    t.demo,
                    Source::new(format!("twins/{}", t.file), Language::Python, t.source),
                )
            })
            .collect(),
    })
}

/// The Rust demo `demo_id` runs on tokio: its shown file.
pub fn shown(demo_id: &str) -> Option<&'static Source> {
    find(&table().shown, demo_id)
}

/// The Python demo `demo_id`'s asyncio twin runs.
pub fn twin(demo_id: &str) -> Option<&'static Source> {
    find(&table().twins, demo_id)
}

/// The source a run of demo `demo_id` on `runtime` came from.
pub fn of_run(demo_id: &str, runtime: Runtime) -> Option<&'static Source> {
    match runtime {
        Runtime::Tokio => shown(demo_id),
        Runtime::Asyncio => twin(demo_id),
    }
}

/// A lesson's model Python, to save and trace (`show N --code python`, the lesson screen's key):
/// the asyncio program its first demo with a twin runs, as the code pane shows it; else the
/// lesson's own Python snippet. Never run by asyncdojo unless the learner names it to `trace`.
/// Its text starts with a few comment lines saying how to run it (`model_header`), then is the
/// shown source exactly.
pub fn model_python(lesson: &crate::lesson::Lesson) -> Option<Source> {
    let (file, text) = match lesson.demos.iter().find_map(|d| twin(&d.demo)) {
        Some(s) => (s.file.clone(), s.text.to_string()),
        None => (
            model_file_name(lesson),
            lesson.snippet(Language::Python)?.source.clone(),
        ),
    };
    let header = model_header(lesson, &text);
    Some(Source::new(file, Language::Python, header + &text))
}

/// The comment a saved model file starts with: whose it is and how to run it. A twin imports
/// `dojo`, asyncdojo's tracer API: `asyncdojo trace` gives it; plain python3 does not have it.
pub fn model_header(lesson: &crate::lesson::Lesson, text: &str) -> String {
    let name = model_file_name(lesson);
    let mut header = format!(
        "# Lesson {label}'s model Python, saved by asyncdojo. Trace it, edit it, trace it again:\n\
         #     asyncdojo trace {name}\n",
        label = lesson.label(),
    );
    let uses_dojo = text
        .lines()
        .any(|l| l.trim() == "import dojo" || l.trim_start().starts_with("from dojo "));
    if uses_dojo {
        header.push_str(
            "# It imports dojo, asyncdojo's tracer API: `asyncdojo trace` provides it and runs each\n\
             # variant that dojo.run names as a run of its own. Plain python3 needs the dojo module\n\
             # beside this file (twins/dojo/ in asyncdojo's source).\n",
        );
    }
    header.push('\n');
    header
}

/// The file name the lesson screen saves a lesson's model Python as: `q05.py`.
pub fn model_file_name(lesson: &crate::lesson::Lesson) -> String {
    let short: String = lesson
        .id
        .0
        .split('-')
        .next()
        .unwrap_or("lesson")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("{}.py", if short.is_empty() { "lesson" } else { &short })
}

fn find(sources: &'static [(&'static str, Source)], demo_id: &str) -> Option<&'static Source> {
    sources
        .iter()
        .find(|(id, _)| *id == demo_id)
        .map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_shows_the_file_its_marks_point_into() {
        for demo in crate::demo::registry() {
            let spec = demo.spec();
            let source = shown(spec.id).expect("every demo has a shown file");
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&source.file);
            let on_disk = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", spec.id, path.display()));
            assert_eq!(
                on_disk, &*source.text,
                "{}: source_file is not the source",
                spec.id
            );
            assert_eq!(source.language, Language::Rust);
            assert!(
                source.line_count() >= 5,
                "{}'s shown code is too short",
                spec.id
            );
        }
    }

    #[test]
    fn every_twin_is_the_file_it_names() {
        for t in asyncio::twins() {
            let source = of_run(t.demo, Runtime::Asyncio).expect("every twin is a source");
            assert_eq!(source.file, format!("twins/{}", t.file));
            assert_eq!(source.language, Language::Python);
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&source.file);
            let on_disk = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", t.demo, path.display()));
            assert_eq!(on_disk, &*source.text, "{}", t.demo);
        }
        // A demo without a twin (while there is one) has its Rust source only.
        let untwinned = crate::demo::ids()
            .into_iter()
            .find(|d| asyncio::twin(d).is_none());
        if let Some(demo) = untwinned {
            assert!(of_run(demo, Runtime::Asyncio).is_none(), "{demo}");
            assert!(of_run(demo, Runtime::Tokio).is_some(), "{demo}");
        }
    }

    #[test]
    fn a_caption_names_the_file_by_its_directory_and_name() {
        let s = |file: &str| Source::new(file, Language::Python, "x = 1\n");
        assert_eq!(
            s("src/demo/catalog/gather/shown.rs").short_name(),
            "gather/shown.rs"
        );
        assert_eq!(s("twins/gather.py").short_name(), "twins/gather.py");
        assert_eq!(s("main.py").short_name(), "main.py");
        assert_eq!(s("/home/me/app/main.py").short_name(), "app/main.py");
        assert_eq!(s(r"C:\code\app\main.py").short_name(), r"app\main.py");
    }

    #[test]
    fn a_location_is_a_line_the_file_has() {
        let s = Source::new("twins/x.py", Language::Python, "a = 1\nb = 2\n");
        assert_eq!(s.at(0), None);
        assert_eq!(s.at(3), None);
        let at = s.at(2).expect("line 2");
        assert_eq!(at.to_string(), "twins/x.py:2");
    }
}
