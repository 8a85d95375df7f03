//! A lesson file's fields, listed once.
//!
//! `lesson_fields!` takes the list of a lesson's fields (in `lesson.rs`) and makes from it the
//! run-time [`Lesson`], the file as written (`LessonFile`, every field optional: what the
//! build-time JSON decodes into in one pass), the careful reader that fills a `LessonFile` field
//! by field so each problem is reported at its own path, and the step to a `Draft` that
//! validation turns into a `Lesson`. So adding a field is one line in one list.
//! Two fields every lesson file has are not in the list because their form differs between the
//! file and the lesson: `format_version` (checked, then dropped) and `quiz` (flat items in the
//! file, typed items in the lesson: see [`quiz`](super::quiz)).

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use yaml_serde::{Mapping, Value};

use super::Lesson;
use super::parse::{decode, describe};
use super::quiz::QuizItemFile;
use super::validate::{ProblemKind, Reporter};

/// Whether a lesson file must have a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Missing is a problem.
    Required,
    /// Missing means the type's default (an empty list).
    Optional,
}

/// A missing field, for the one-pass (JSON) read: the default of an optional one, else `None`,
/// which sends the file down the careful path to be reported.
pub(crate) fn present<T: Default>(value: Option<T>, presence: Presence) -> Option<T> {
    match (value, presence) {
        (Some(v), _) => Some(v),
        (None, Presence::Optional) => Some(T::default()),
        (None, Presence::Required) => None,
    }
}

/// A lesson read from its file but not yet validated: the lesson's fields (its `quiz` still
/// empty), the items as written, and the format version the file declared.
pub(crate) struct Draft {
    pub lesson: Lesson,
    pub format_version: u32,
    pub quiz: Vec<QuizItemFile>,
}

/// Declares the lesson's fields once; see the module documentation for what it generates.
/// Each entry is `doc comments, pub NAME: TYPE = Required | Optional,`.
macro_rules! lesson_fields {
    (
        $(#[$lesson_meta:meta])*
        pub struct Lesson {
            $( $(#[$meta:meta])* pub $field:ident: $ty:ty = $presence:ident, )*
        }
    ) => {
        $(#[$lesson_meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct Lesson {
            /// The file it came from (`q05-concurrent-http.yaml`), for messages.
            pub file: String,
            $( $(#[$meta])* pub $field: $ty, )*
            /// The quiz items, validated: each kind carries exactly the fields it uses.
            pub quiz: Vec<$crate::lesson::QuizItem>,
        }

        /// A lesson file as written, every field optional so that one serde pass over the
        /// build-time JSON can read it, and the careful path can leave out what it reported.
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct LessonFile {
            pub format_version: Option<u32>,
            $( pub $field: Option<$ty>, )*
            pub quiz: Option<Vec<$crate::lesson::quiz::QuizItemFile>>,
        }

        impl LessonFile {
            /// The careful read: field by field, each problem reported at its own path.
            pub(crate) fn read(fields: &mut $crate::lesson::file::Fields<'_>) -> LessonFile {
                use $crate::lesson::file::Presence;
                LessonFile {
                    format_version: fields.read("format_version", Presence::Required),
                    $( $field: fields.read(stringify!($field), Presence::$presence), )*
                    quiz: fields.read("quiz", Presence::Required),
                }
            }

            /// The draft of a complete file; `None` if a required field is missing.
            pub(crate) fn complete(self, file: &str) -> Option<$crate::lesson::file::Draft> {
                use $crate::lesson::file::{Presence, present};
                Some($crate::lesson::file::Draft {
                    format_version: present(self.format_version, Presence::Required)?,
                    quiz: present(self.quiz, Presence::Required)?,
                    lesson: Lesson {
                        file: file.to_owned(),
                        $( $field: present(self.$field, Presence::$presence)?, )*
                        quiz: Vec::new(),
                    },
                })
            }

            /// The draft with what is missing (and was reported) filled in with defaults, so the
            /// semantic checks still run and the author sees every problem at once.
            pub(crate) fn filled(self, file: &str) -> $crate::lesson::file::Draft {
                $crate::lesson::file::Draft {
                    format_version: self.format_version.unwrap_or_default(),
                    quiz: self.quiz.unwrap_or_default(),
                    lesson: Lesson {
                        file: file.to_owned(),
                        $( $field: self.$field.unwrap_or_default(), )*
                        quiz: Vec::new(),
                    },
                }
            }
        }
    };
}
pub(crate) use lesson_fields;

/// How the careful read decodes one top-level field: a list element by element (a bad element is
/// reported and left out, so the others are still checked), anything else whole.
pub(crate) trait FieldValue: Sized {
    fn decode_field(value: Value, key: &str, r: &mut Reporter<'_>) -> Option<Self>;
}

impl<T: DeserializeOwned> FieldValue for Vec<T> {
    fn decode_field(value: Value, key: &str, r: &mut Reporter<'_>) -> Option<Self> {
        match value {
            Value::Null => Some(Vec::new()),
            Value::Sequence(items) => Some(
                items
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, item)| decode(item, &format!("{key}[{i}]"), r))
                    .collect(),
            ),
            other => {
                r.value(
                    key,
                    ProblemKind::WrongType,
                    format!("expected a list, found {}", describe(&other)),
                );
                None
            }
        }
    }
}

/// Scalar fields decode whole.
macro_rules! decode_whole {
    ($($ty:ty),*) => {$(
        impl FieldValue for $ty {
            fn decode_field(value: Value, key: &str, r: &mut Reporter<'_>) -> Option<Self> {
                decode(value, key, r)
            }
        }
    )*};
}
decode_whole!(
    u32,
    String,
    super::LessonId,
    super::LessonKind,
    super::Section
);

/// Takes the top-level fields one by one, so each problem is reported at its own path.
pub(crate) struct Fields<'a> {
    map: Mapping,
    r: Reporter<'a>,
    taken: HashSet<&'static str>,
}

impl<'a> Fields<'a> {
    pub fn new(map: Mapping, r: Reporter<'a>) -> Fields<'a> {
        Fields {
            map,
            r,
            taken: HashSet::new(),
        }
    }

    /// One field: `None` when it is missing (reported if required) or could not be decoded
    /// (reported).
    pub fn read<T: FieldValue>(&mut self, key: &'static str, presence: Presence) -> Option<T> {
        self.taken.insert(key);
        match self.map.remove(key) {
            None => {
                if presence == Presence::Required {
                    self.r.missing(key);
                }
                None
            }
            Some(value) => T::decode_field(value, key, &mut self.r),
        }
    }

    /// Report whatever fields were not taken: they are unknown.
    pub fn finish(mut self) -> Reporter<'a> {
        let mut known: Vec<&str> = self.taken.iter().copied().collect();
        known.sort_unstable();
        for (key, _) in std::mem::take(&mut self.map) {
            let name = match &key {
                Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            self.r.key(
                &name,
                ProblemKind::UnknownField,
                format!(
                    "unknown field `{name}`, expected one of: {}",
                    known.join(", ")
                ),
            );
        }
        self.r
    }
}
