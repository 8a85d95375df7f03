//! Where lessons come from: the set embedded in the binary, or a directory. Each file is parsed
//! and validated on its own ([`super::parse`]); a file with any problem is left out, the rest
//! still load, and checks across files (unique ids and numbers) run on what loaded.

use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::parse::{MAX_FILE_BYTES, Parsed, from_build_time_json, parse_lesson};
use super::run::{self, Note};
use super::spans::{Position, SpanIndex};
use super::validate::{DemoCatalog, Problem, ProblemKind, check_set};
use super::{Lesson, LessonId};

/// The shipped lessons, embedded at build time (see build.rs) so the binary works from anywhere.
/// Name, YAML, and the same lesson as JSON converted at build time (empty if it did not convert).
const EMBEDDED: &[(&str, &[u8], &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_lessons.rs"));

/// The embedded lesson files: name, YAML bytes, and the JSON converted at build time.
pub fn embedded_files() -> &'static [(&'static str, &'static [u8], &'static str)] {
    EMBEDDED
}

/// Loading a directory failed as a whole (as opposed to problems inside files).
#[derive(Debug, Error)]
pub enum LoadError {
    // The cause is the source, not part of this message: printed as a chain (`{:#}`) it would
    // say the OS error twice.
    #[error("cannot read lesson directory {path}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} has no lesson files (*.yaml)")]
    Empty { path: PathBuf },
}

/// The lessons that loaded, in guide order, and every problem found in the others.
#[derive(Debug, Default)]
pub struct LessonSet {
    pub lessons: Vec<Lesson>,
    pub problems: Vec<Problem>,
    /// How many files were read.
    pub files: usize,
}

impl LessonSet {
    /// The lesson a user named by id or number (`q05-…`, `5`, `q5`, `c1`).
    pub fn find(&self, query: &str) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.is_named_by(query))
    }

    pub fn get(&self, id: &LessonId) -> Option<&Lesson> {
        self.lessons.iter().find(|l| &l.id == id)
    }

    fn from_parsed(results: Vec<Parsed>) -> LessonSet {
        let files = results.len();
        let mut lessons = Vec::new();
        let mut places = Vec::new();
        let mut problems = Vec::new();
        for result in results {
            match result {
                Ok((lesson, pos)) => {
                    lessons.push(lesson);
                    places.push(pos);
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        let rejected = check_set(&lessons, &places, &mut problems);
        let mut kept: Vec<Lesson> = lessons
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !rejected.contains(i))
            .map(|(_, l)| l)
            .collect();
        kept.sort_by_key(|l| l.guide_order());
        problems.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
        LessonSet {
            lessons: kept,
            problems,
            files,
        }
    }
}

/// The lessons built into the binary.
pub fn load_embedded(catalog: &(dyn DemoCatalog + Sync)) -> LessonSet {
    let results = on_two_threads(EMBEDDED, |&(name, yaml, json)| {
        parse_embedded(name, yaml, json, catalog)
    });
    LessonSet::from_parsed(results)
}

/// An embedded lesson: from its build-time JSON when that gives a clean lesson, else the YAML.
fn parse_embedded(
    name: &str,
    yaml: &[u8],
    json: &str,
    catalog: &(dyn DemoCatalog + Sync),
) -> Parsed {
    if let Ok(text) = std::str::from_utf8(yaml)
        && let Some(lesson) = from_build_time_json(name, text, json, catalog)
    {
        return Ok(lesson);
    }
    parse_lesson(name, yaml, catalog)
}

/// Parse files on two threads: parsing dominates start-up, and files are independent. Results
/// keep the files' order.
fn on_two_threads<T: Sync>(files: &[T], parse: impl Fn(&T) -> Parsed + Sync) -> Vec<Parsed> {
    let run = |chunk: &[T]| -> Vec<Parsed> { chunk.iter().map(&parse).collect() };
    if files.len() < 4 {
        return run(files);
    }
    let (first, second) = files.split_at(files.len() / 2);
    std::thread::scope(|s| {
        let other = std::thread::Builder::new()
            .name("lesson-loader".into())
            .spawn_scoped(s, || run(second));
        let mut out = run(first);
        match other.map(|h| h.join()) {
            Ok(Ok(mut rest)) => out.append(&mut rest),
            // No second thread (or it failed): parse the rest here.
            _ => out.extend(run(second)),
        }
        out
    })
}

/// The notes `check` prints beside the problems: every snippet of `set` that the snippet tests do
/// not run, with its reason and place. `dir` is where `set` was loaded from (`None`: the
/// embedded lessons). Places are found only here, so loading for the app costs nothing extra.
pub fn run_notes(set: &LessonSet, dir: Option<&Path>) -> Vec<Note> {
    let mut notes = Vec::new();
    for lesson in &set.lessons {
        let skipped = run::skipped(lesson);
        if skipped.is_empty() {
            continue;
        }
        let text = match dir {
            Some(dir) => std::fs::read(dir.join(&lesson.file)).ok(),
            None => EMBEDDED
                .iter()
                .find(|(name, _, _)| *name == lesson.file)
                .map(|(_, bytes, _)| bytes.to_vec()),
        };
        let text = text
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let spans = SpanIndex::build(&text);
        for (path, message) in skipped {
            let pos = spans.value(&path);
            notes.push(Note {
                file: lesson.file.clone(),
                line: pos.line,
                col: pos.col,
                path,
                message,
            });
        }
    }
    notes
}

/// Every `*.yaml`/`*.yml` file in `dir` (not recursive), in file-name order.
pub fn load_dir(dir: &Path, catalog: &(dyn DemoCatalog + Sync)) -> Result<LessonSet, LoadError> {
    let dir_err = |source| LoadError::Dir {
        path: dir.to_owned(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(dir_err)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    if paths.is_empty() {
        return Err(LoadError::Empty {
            path: dir.to_owned(),
        });
    }
    paths.sort();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut unreadable = Vec::new();
    for path in &paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        match read_bounded(path) {
            Ok(bytes) => files.push((name, bytes)),
            Err(err) => unreadable.push(Err(vec![Problem::at(
                &name,
                Position { line: 1, col: 1 },
                "",
                ProblemKind::Unreadable,
                format!("cannot read the file: {err}"),
            )])),
        }
    }
    let mut results = on_two_threads(&files, |(name, bytes)| parse_lesson(name, bytes, catalog));
    results.append(&mut unreadable);
    Ok(LessonSet::from_parsed(results))
}

/// Reads at most one byte past the limit, so the size check never buffers a huge file.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}
