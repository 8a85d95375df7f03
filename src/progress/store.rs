//! The progress file: versioned JSON in the data directory, written atomically.
//!
//! - **Where**: `--data-dir`, else `ASYNCDOJO_DATA`, else the platform data directory (the
//!   `directories` crate: `~/.local/share/asyncdojo` on Linux) — see [`resolve_data_dir`].
//! - **Atomic**: a save writes a temporary file in the same directory, fsyncs it, renames it over
//!   `progress.json` and fsyncs the directory, so a kill at any instant leaves the old file or the
//!   new one, never a mix. Temporary files a killed writer left behind are ignored, and removed
//!   once they are old.
//! - **Never a crash, never a silent loss**: a corrupt file, or one from a newer asyncdojo, is
//!   renamed aside (`progress.json.corrupt-<time>`, `progress.json.newer-v<N>-<time>`) with a
//!   [`Warning`], and progress starts fresh. A file that can be neither read nor moved aside is left
//!   alone and saving is refused, so it is never overwritten.
//! - **Read-only**: opening works wherever reading does; saving returns a [`SaveError`] whose
//!   message says progress will not be saved, and [`Store::open`] warns up front.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Progress;

/// The file in the data directory.
pub const FILE_NAME: &str = "progress.json";

/// The format this build writes and reads. Any change to the stored shape bumps it, so an older
/// asyncdojo sets a newer file aside instead of dropping fields it does not know — except a
/// setting with a default (`preferences`): an older build that drops it loses nothing but the
/// setting, which is asked for again, and setting a whole file aside for that would be worse.
pub const FORMAT_VERSION: u32 = 1;

/// Overrides the data directory when `--data-dir` is not given.
pub const DATA_ENV: &str = "ASYNCDOJO_DATA";

/// A progress file larger than this is not read (it is set aside as corrupt).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Temporary files older than this are left-overs of a killed writer and are removed on open.
const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// The platform's data directory for asyncdojo, if the platform has one (no home directory: none).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "asyncdojo").map(|d| d.data_dir().to_path_buf())
}

/// The data directory to use: `flag` (`--data-dir`), else `env` (the value of `ASYNCDOJO_DATA`, if
/// set and not empty), else [`default_data_dir`].
pub fn resolve_data_dir_from(flag: Option<&Path>, env: Option<&OsStr>) -> Option<PathBuf> {
    if let Some(dir) = flag {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = env.filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    default_data_dir()
}

/// [`resolve_data_dir_from`] with the process environment's `ASYNCDOJO_DATA`.
pub fn resolve_data_dir(flag: Option<&Path>) -> Option<PathBuf> {
    let env: Option<OsString> = std::env::var_os(DATA_ENV);
    resolve_data_dir_from(flag, env.as_deref())
}

/// Why a progress file was set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetAsideReason {
    /// Not valid JSON, not a progress file, or not readable as this version's format.
    Corrupt(String),
    /// Written by a newer asyncdojo.
    Newer { version: u64 },
}

impl fmt::Display for SetAsideReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetAsideReason::Corrupt(why) => write!(f, "could not be read ({why})"),
            SetAsideReason::Newer { version } => write!(
                f,
                "was written by a newer asyncdojo (format {version}; this one reads format \
                 {FORMAT_VERSION}): update asyncdojo to use it"
            ),
        }
    }
}

/// Something the learner should be told after opening the store. None of them is fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The file was unusable; it was renamed to `moved_to` and progress starts fresh.
    SetAside {
        path: PathBuf,
        moved_to: PathBuf,
        reason: SetAsideReason,
    },
    /// The file could be neither used nor moved aside. Progress starts fresh and is not saved,
    /// so the file is never overwritten.
    Unusable { path: PathBuf, reason: String },
    /// The data directory cannot be written: saving will fail.
    NotSaving { dir: PathBuf, reason: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::SetAside {
                path,
                moved_to,
                reason,
            } => write!(
                f,
                "progress file {} {reason}; it was moved to {} and progress starts fresh",
                path.display(),
                moved_to.display()
            ),
            Warning::Unusable { path, reason } => write!(
                f,
                "progress file {} cannot be used: {reason}. Progress starts fresh and will not \
                 be saved, so the file is left as it is",
                path.display()
            ),
            Warning::NotSaving { dir, reason } => write!(
                f,
                "progress will not be saved: {} is not writable ({reason})",
                dir.display()
            ),
        }
    }
}

/// A save that did not happen. Its message starts "progress will not be saved".
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("progress will not be saved: {reason}")]
    Refused { reason: String },
    #[error("progress will not be saved: could not write {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// The progress file of one data directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    path: PathBuf,
    /// Saving is refused: the existing file must not be overwritten.
    refused: Option<String>,
    /// The directory looked unwritable when opened (saving is still tried).
    unwritable: Option<String>,
}

/// An opened store, what it held, and what to tell the learner.
#[derive(Debug)]
pub struct Opened {
    pub store: Store,
    pub progress: Progress,
    pub warnings: Vec<Warning>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    format_version: u32,
    written_by: String,
    progress: &'a Progress,
}

#[derive(Deserialize)]
struct FileIn {
    #[allow(dead_code)]
    format_version: u32,
    progress: Progress,
}

/// Read a progress file's text: the progress, or why it must be set aside.
pub fn decode(text: &str) -> Result<Progress, SetAsideReason> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| SetAsideReason::Corrupt(format!("not valid JSON: {e}")))?;
    let version = value
        .get("format_version")
        .ok_or_else(|| SetAsideReason::Corrupt("no format_version".into()))?
        .as_u64()
        .ok_or_else(|| SetAsideReason::Corrupt("format_version is not a whole number".into()))?;
    if version > u64::from(FORMAT_VERSION) {
        return Err(SetAsideReason::Newer { version });
    }
    if version != u64::from(FORMAT_VERSION) {
        return Err(SetAsideReason::Corrupt(format!(
            "unknown format_version {version}"
        )));
    }
    let file: FileIn = serde_path_to_error::deserialize(value)
        .map_err(|e| SetAsideReason::Corrupt(format!("{}: {}", e.path(), e.inner())))?;
    Ok(file.progress)
}

/// The bytes a save writes.
pub fn encode(progress: &Progress) -> Vec<u8> {
    let file = FileOut {
        format_version: FORMAT_VERSION,
        written_by: format!("asyncdojo {}", env!("CARGO_PKG_VERSION")),
        progress,
    };
    let mut bytes = serde_json::to_vec_pretty(&file).expect("progress always serialises");
    bytes.push(b'\n');
    bytes
}

impl Store {
    /// Open the progress file in `dir` (created on first save). Never fails: whatever goes wrong
    /// becomes a [`Warning`] and a fresh start, with the old file kept.
    pub fn open(dir: impl Into<PathBuf>) -> Opened {
        Store::open_at(dir, Utc::now())
    }

    /// [`open`](Self::open), with the time that names a set-aside file.
    pub fn open_at(dir: impl Into<PathBuf>, now: DateTime<Utc>) -> Opened {
        let dir = dir.into();
        let path = dir.join(FILE_NAME);
        let mut store = Store {
            dir,
            path,
            refused: None,
            unwritable: None,
        };
        let mut warnings = Vec::new();
        store.remove_stale_temps();
        let progress = match store.read() {
            Ok(Some(text)) => match decode(&text) {
                Ok(p) => p,
                Err(reason) => {
                    store.set_aside_or_refuse(reason, now, &mut warnings);
                    Progress::default()
                }
            },
            Ok(None) => Progress::default(),
            Err(ReadError::Bad(why)) => {
                store.set_aside_or_refuse(SetAsideReason::Corrupt(why), now, &mut warnings);
                Progress::default()
            }
            Err(ReadError::Io(e)) => {
                let reason = format!("reading it failed ({e})");
                store.refused = Some(format!(
                    "{} is kept as it is: {reason}",
                    store.path.display()
                ));
                warnings.push(Warning::Unusable {
                    path: store.path.clone(),
                    reason,
                });
                Progress::default()
            }
        };
        if store.refused.is_none()
            && let Err(e) = store.probe()
        {
            let reason = e.to_string();
            store.unwritable = Some(reason.clone());
            warnings.push(Warning::NotSaving {
                dir: store.dir.clone(),
                reason,
            });
        }
        Opened {
            store,
            progress,
            warnings,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/progress.json`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether saves are expected to work (the directory was writable when opened and no
    /// unusable file is being protected).
    pub fn can_save(&self) -> bool {
        self.refused.is_none() && self.unwritable.is_none()
    }

    /// Write `progress` atomically. On error nothing on disk changed but a stray temporary file
    /// at worst; the message says progress will not be saved.
    pub fn save(&self, progress: &Progress) -> Result<(), SaveError> {
        if let Some(reason) = &self.refused {
            return Err(SaveError::Refused {
                reason: reason.clone(),
            });
        }
        write_atomic(&self.dir, &self.path, &encode(progress)).map_err(|source| SaveError::Io {
            path: self.path.clone(),
            source,
        })
    }

    fn read(&self) -> Result<Option<String>, ReadError> {
        let meta = match fs::metadata(&self.path) {
            Ok(m) => m,
            // No file, or no directory (a path through a regular file): nothing saved yet.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(ReadError::Io(e)),
        };
        if !meta.is_file() {
            return Err(ReadError::Bad("not a regular file".into()));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(ReadError::Bad(format!(
                "{} bytes, more than the {MAX_FILE_BYTES} a progress file may have",
                meta.len()
            )));
        }
        match fs::read(&self.path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|e| ReadError::Bad(format!("not UTF-8: {e}"))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ReadError::Io(e)),
        }
    }

    fn set_aside_or_refuse(
        &mut self,
        reason: SetAsideReason,
        now: DateTime<Utc>,
        warnings: &mut Vec<Warning>,
    ) {
        match self.set_aside(&reason, now) {
            Ok(moved_to) => warnings.push(Warning::SetAside {
                path: self.path.clone(),
                moved_to,
                reason,
            }),
            Err(e) => {
                let why = format!("it {reason}, and moving it aside failed ({e})");
                self.refused = Some(format!("{} is kept as it is: {why}", self.path.display()));
                warnings.push(Warning::Unusable {
                    path: self.path.clone(),
                    reason: why,
                });
            }
        }
    }

    /// Rename the file to a free `progress.json.<what>-<time>[-N]` name beside it.
    fn set_aside(&self, reason: &SetAsideReason, now: DateTime<Utc>) -> io::Result<PathBuf> {
        let what = match reason {
            SetAsideReason::Corrupt(_) => "corrupt".to_owned(),
            SetAsideReason::Newer { version } => format!("newer-v{version}"),
        };
        let stem = format!("{FILE_NAME}.{what}-{}", now.format("%Y%m%dT%H%M%SZ"));
        let mut target = self.dir.join(&stem);
        let mut n = 2;
        while fs::symlink_metadata(&target).is_ok() {
            target = self.dir.join(format!("{stem}-{n}"));
            n += 1;
        }
        fs::rename(&self.path, &target)?;
        sync_dir(&self.dir)?;
        Ok(target)
    }

    /// Can a file be created in the directory? (Creates the directory.)
    fn probe(&self) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let tmp = temp_path(&self.dir);
        OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        fs::remove_file(&tmp)
    }

    fn remove_stale_temps(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !is_temp_name(name) {
                continue;
            }
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age > STALE_TEMP_AGE);
            if old {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

enum ReadError {
    /// The content cannot be a progress file: set it aside.
    Bad(String),
    /// Reading failed: leave the file alone.
    Io(io::Error),
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `.progress.json.<pid>.<n>.tmp`: unique per process and save, so two writers never share one.
fn temp_path(dir: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{FILE_NAME}.{}.{n}.tmp", std::process::id()))
}

/// Is this a temporary file a save made (perhaps left by a killed process)?
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(&format!(".{FILE_NAME}.")) && name.ends_with(".tmp")
}

/// Temporary file, write, fsync, rename over `path`, fsync the directory.
fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = temp_path(dir);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        // Gone already if the rename happened; otherwise don't leave it behind.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Make a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Windows has no directory handle to fsync; `MoveFileEx` (std's rename) is the best it offers.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::asyncio::RunOn;

    /// A file as asyncdojo wrote it before the runtime preference existed.
    const BEFORE_PREFERENCES: &str = r#"{
  "format_version": 1,
  "written_by": "asyncdojo 0.1.0",
  "progress": {
    "lessons": {
      "q01-sync-vs-async": {
        "first_read": "2025-01-02T03:04:05Z",
        "last_read": "2025-01-02T03:04:05Z",
        "demos_run": { "gather": 2 }
      }
    },
    "active_days": ["2025-01-02"]
  }
}"#;

    #[test]
    fn a_file_from_before_the_runtime_preference_loads_with_none_set() {
        let progress = decode(BEFORE_PREFERENCES).expect("an old file still loads");
        assert_eq!(progress.preferences.runtime, None);
        assert_eq!(progress.lessons.len(), 1, "and keeps what it held");
    }

    #[test]
    fn the_runtime_preference_round_trips_through_the_file() {
        let mut progress = decode(BEFORE_PREFERENCES).expect("old file");
        for runtime in [RunOn::Asyncio, RunOn::Tokio, RunOn::Both] {
            progress.preferences.runtime = Some(runtime);
            let text = String::from_utf8(encode(&progress)).expect("utf-8");
            assert!(
                text.contains(&format!("\"runtime\": \"{}\"", runtime.name())),
                "{text}"
            );
            assert_eq!(decode(&text).expect("reads back"), progress);
        }
        // Unset, the file stays as it was written before.
        progress.preferences.runtime = None;
        let text = String::from_utf8(encode(&progress)).expect("utf-8");
        assert!(!text.contains("preferences"), "{text}");
    }
}
