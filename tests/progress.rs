//! Saved progress: round-trips, a writer killed at random instants, corrupt and newer files set
//! aside and reported, read-only data directories reported and not fatal, stats and streaks, and
//! the issue's "done when": a five-question interview, graded, quit, and due the next day.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use asyncdojo::demo::Registry;
use asyncdojo::lesson::{self, Lesson, LessonId};
use asyncdojo::practice::score::score_spot_item;
use asyncdojo::practice::{
    Grade, Interview, InterviewAction as A, InterviewConfig, InterviewEffect, ItemKey, LessonMark,
    QuizOutcome, due_queue, record_interview, record_quiz, record_self_grade, run_predict,
    score_choice, stats, streak,
};
use asyncdojo::progress::store::{decode, encode, is_temp_name, resolve_data_dir_from};
use asyncdojo::progress::{
    FILE_NAME, FORMAT_VERSION, Moment, Progress, SetAsideReason, Store, Warning,
};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};

fn lessons() -> Vec<Lesson> {
    lesson::load_embedded(&Registry).lessons
}

fn lesson<'a>(ls: &'a [Lesson], id: &str) -> &'a Lesson {
    ls.iter().find(|l| l.id.0 == id).expect("lesson")
}

fn at(day: u64, hour: u32, minute: u32) -> Moment {
    let base = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
    let t: DateTime<Utc> = base.checked_add_days(Days::new(day)).unwrap()
        + chrono::Duration::hours(i64::from(hour))
        + chrono::Duration::minutes(i64::from(minute));
    Moment::utc(t)
}

/// Progress touching every kind of record, including a lesson that no longer ships.
fn rich_progress(ls: &[Lesson]) -> Progress {
    let q01 = lesson(ls, "q01-sync-vs-async");
    let now = at(0, 9, 0);
    let mut p = Progress::default();
    p.mark_read(&q01.id, &now);
    p.record_demo_run(&q01.id, "gather", &now);
    p.record_demo_run(&q01.id, "gather", &now);
    let choice = q01.quiz.iter().find(|q| q.id == "parallel-or-not").unwrap();
    record_quiz(
        &mut p,
        &ItemKey::quiz(&q01.id, &choice.id),
        &QuizOutcome::Choice(score_choice(choice, 1).unwrap()),
        &now,
    );
    let predict = q01.quiz.iter().find(|q| q.id == "first-done").unwrap();
    let measured = run_predict(predict).unwrap().measured;
    let s =
        asyncdojo::practice::score::score_predict_item(predict, "request 2", &measured).unwrap();
    record_quiz(
        &mut p,
        &ItemKey::quiz(&q01.id, &predict.id),
        &QuizOutcome::Predict(s),
        &now,
    );
    let spot = q01.quiz.iter().find(|q| q.id == "spot-guide-q1").unwrap();
    record_quiz(
        &mut p,
        &ItemKey::quiz(&q01.id, &spot.id),
        &QuizOutcome::Spot(score_spot_item(q01, spot, &[6, 3]).unwrap()),
        &at(1, 9, 0),
    );
    record_self_grade(
        &mut p,
        &ItemKey::interview(&q01.id),
        Grade::Hard,
        &at(1, 9, 5),
    );
    p.set_notes(&q01.id, "gather ≠ parallel\n\tnotes keep tabs".into(), &now);
    let gone = LessonId("q99-removed".into());
    record_self_grade(&mut p, &ItemKey::quiz(&gone, "old-item"), Grade::Good, &now);
    p
}

// ---------------------------------------------------------------------------------------------
// Round trip
// ---------------------------------------------------------------------------------------------

#[test]
fn progress_round_trips_through_the_store() {
    let ls = lessons();
    let p = rich_progress(&ls);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested/data");
    let opened = Store::open(&dir);
    assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
    assert_eq!(opened.progress, Progress::default());
    assert!(opened.store.can_save());
    opened.store.save(&p).unwrap();
    assert_eq!(opened.store.path(), dir.join(FILE_NAME));

    let again = Store::open(&dir);
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(again.progress, p);

    // The file is versioned JSON, and nothing but it is left in the directory.
    let text = fs::read_to_string(dir.join(FILE_NAME)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["format_version"], FORMAT_VERSION);
    assert!(
        json["written_by"]
            .as_str()
            .unwrap()
            .starts_with("asyncdojo ")
    );
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [FILE_NAME]);
    // Encoding is stable.
    assert_eq!(encode(&decode(&text).unwrap()), text.as_bytes());

    // Keyed by ids: the removed lesson's progress is kept in the file, not shown in stats.
    assert!(
        again
            .progress
            .lessons
            .contains_key(&LessonId("q99-removed".into()))
    );
    let s = stats(&ls, &again.progress, &at(1, 12, 0));
    assert!(s.lessons.iter().all(|l| l.id.0 != "q99-removed"));
    let q01 = &s.lessons[0];
    assert_eq!(q01.id.0, "q01-sync-vs-async");
    assert!(q01.read && q01.has_notes);
    assert_eq!((q01.demo_runs, q01.quiz_answered, q01.quiz_good), (2, 3, 1));
}

#[test]
fn progress_survives_lesson_reordering() {
    // Keyed by ids: the same progress against the lessons in another order gives the same
    // per-lesson numbers.
    let ls = lessons();
    let p = rich_progress(&ls);
    let mut reversed = ls.clone();
    reversed.reverse();
    for l in &mut reversed {
        l.quiz.reverse();
    }
    let now = at(1, 12, 0);
    let a = stats(&ls, &p, &now);
    let b = stats(&reversed, &p, &now);
    let find = |s: &asyncdojo::practice::Stats| {
        s.lessons
            .iter()
            .find(|l| l.id.0 == "q01-sync-vs-async")
            .cloned()
            .unwrap()
    };
    assert_eq!(find(&a), find(&b));
}

// ---------------------------------------------------------------------------------------------
// Killed writers
// ---------------------------------------------------------------------------------------------

const WRITER_ENV: &str = "ASYNCDOJO_TEST_KILL_WRITER_DIR";

/// How a test runs one of the `#[ignore]`d child tests in a process of its own: only that one,
/// although it is ignored. A plain `cargo test` runs the parents, so it covers the children.
const CHILD_ARGS: [&str; 4] = ["--ignored", "--exact", "--test-threads", "1"];

fn filler(generation: u32) -> String {
    // About 110 KB: a save takes long enough to be killed in the middle of it, and short enough
    // for many saves per run.
    format!("{generation:010}\n").repeat(10_000)
}

/// The generation a writer saved, checking the file is one whole save (the count and the notes
/// come from the same generation).
fn generation(p: &Progress) -> Option<u32> {
    let l = p.lessons.get(&LessonId("kill-test".into()))?;
    let g = l.demos_run["writes"];
    assert!(
        l.notes == filler(g),
        "notes from another generation than {g}"
    );
    Some(g)
}

/// Not a test by itself: the child process of the kill test, which runs it by name with
/// `--ignored`. It saves new generations in a loop until it is killed.
#[test]
#[ignore = "the writer a_writer_killed_at_random_instants_always_leaves_a_valid_file kills"]
fn kill_test_writer_child() {
    let dir = std::env::var_os(WRITER_ENV).unwrap_or_else(|| {
        panic!("the kill test runs this writer with {WRITER_ENV} set; it does nothing alone")
    });
    let opened = Store::open(PathBuf::from(dir));
    assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
    let mut p = opened.progress;
    let mut g = generation(&p).unwrap_or(0);
    let id = LessonId("kill-test".into());
    loop {
        g += 1;
        let l = p.lessons.entry(id.clone()).or_default();
        l.demos_run.insert("writes".into(), g);
        l.notes = filler(g);
        opened.store.save(&p).expect("save");
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(unix)]
#[test]
fn a_writer_killed_at_random_instants_always_leaves_a_valid_file() {
    use std::os::unix::process::ExitStatusExt;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let exe = std::env::current_exe().unwrap();
    let seed = 0x5eed_u64;
    let mut rng = asyncdojo::demo::rng::SplitMix64::new(seed);
    let mut last = 0;
    let mut advanced = 0;
    const ROUNDS: usize = 80;
    for round in 0..ROUNDS {
        let child = Command::new(&exe)
            .args(CHILD_ARGS)
            .arg("kill_test_writer_child")
            .env(WRITER_ENV, &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        std::thread::sleep(Duration::from_millis(5 + rng.below(245)));
        // SIGKILL: no destructor, no flush, no clean-up runs in the writer.
        child.0.kill().unwrap();
        let status = child.0.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "round {round}: the writer stopped by itself ({status}), so it failed"
        );

        let opened = Store::open(&dir);
        assert!(
            opened.warnings.is_empty(),
            "round {round} (seed {seed}): {:?}",
            opened.warnings
        );
        match generation(&opened.progress) {
            Some(g) => {
                assert!(g >= last, "round {round}: generation {g} after {last}");
                if g > last {
                    advanced += 1;
                }
                last = g;
            }
            None => assert_eq!(last, 0, "round {round}: saved progress vanished"),
        }
    }
    // Kills landed mid-save: their temporary files are still there (ignored by the reader).
    let leftovers = fs::read_dir(&dir)
        .unwrap()
        .filter(|e| is_temp_name(&e.as_ref().unwrap().file_name().to_string_lossy()))
        .count();
    eprintln!(
        "{ROUNDS} kills: generation {last}, advanced in {advanced} rounds, {leftovers} killed mid-save"
    );
    assert!(
        last > 0 && advanced > ROUNDS / 2,
        "the writer hardly ever saved"
    );
    assert!(leftovers > 0, "no kill landed during a save");
}

// ---------------------------------------------------------------------------------------------
// Corrupt and newer files
// ---------------------------------------------------------------------------------------------

fn setup_file(content: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(FILE_NAME), content).unwrap();
    (tmp, dir)
}

fn set_aside_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 30, 0).unwrap()
}

#[test]
fn corrupt_files_are_set_aside_and_reported() {
    let valid = encode(&rich_progress(&lessons()));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"\x00\xffnot json at all".to_vec()),
        ("truncated", valid[..valid.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("not an object", b"[1, 2, 3]".to_vec()),
        ("no version", br#"{"progress": {}}"#.to_vec()),
        (
            "version as text",
            br#"{"format_version": "1", "progress": {}}"#.to_vec(),
        ),
        (
            "version zero",
            br#"{"format_version": 0, "progress": {}}"#.to_vec(),
        ),
        (
            "wrong shape",
            br#"{"format_version": 1, "progress": {"lessons": [1, 2]}}"#.to_vec(),
        ),
        (
            "bad date",
            br#"{"format_version": 1, "progress": {"active_days": ["yesterday"]}}"#.to_vec(),
        ),
    ];
    for (name, content) in cases {
        let (_tmp, dir) = setup_file(&content);
        let opened = Store::open_at(&dir, set_aside_time());
        assert_eq!(opened.progress, Progress::default(), "{name}");
        let [
            Warning::SetAside {
                path,
                moved_to,
                reason: SetAsideReason::Corrupt(why),
            },
        ] = opened.warnings.as_slice()
        else {
            panic!("{name}: {:?}", opened.warnings)
        };
        assert!(!why.is_empty());
        assert_eq!(path, &dir.join(FILE_NAME));
        assert_eq!(
            moved_to,
            &dir.join("progress.json.corrupt-20260105T093000Z"),
            "{name}"
        );
        // Nothing lost: the bytes are all there, under the new name.
        assert_eq!(fs::read(moved_to).unwrap(), content, "{name}");
        assert!(!path.exists());
        let message = opened.warnings[0].to_string();
        assert!(
            message.contains("moved to") && message.contains("starts fresh"),
            "{message}"
        );
        // A fresh start that saves and reopens cleanly.
        assert!(opened.store.can_save());
        let mut p = Progress::default();
        p.mark_read(&LessonId("q01-sync-vs-async".into()), &at(0, 9, 0));
        opened.store.save(&p).unwrap();
        let again = Store::open(&dir);
        assert!(again.warnings.is_empty(), "{name}: {:?}", again.warnings);
        assert_eq!(again.progress, p);
    }
}

#[test]
fn a_file_from_a_newer_version_is_set_aside_not_overwritten() {
    let content = br#"{"format_version": 2, "progress": {"something": "new"}}"#;
    let (_tmp, dir) = setup_file(content);
    let opened = Store::open_at(&dir, set_aside_time());
    let [
        Warning::SetAside {
            moved_to,
            reason: SetAsideReason::Newer { version: 2 },
            ..
        },
    ] = opened.warnings.as_slice()
    else {
        panic!("{:?}", opened.warnings)
    };
    assert_eq!(
        moved_to.file_name(),
        Some(OsStr::new("progress.json.newer-v2-20260105T093000Z"))
    );
    assert_eq!(fs::read(moved_to).unwrap(), content);
    assert!(opened.warnings[0].to_string().contains("update asyncdojo"));
    assert_eq!(opened.progress, Progress::default());
}

#[test]
fn a_second_set_aside_never_replaces_the_first() {
    let (_tmp, dir) = setup_file(b"first");
    Store::open_at(&dir, set_aside_time());
    fs::write(dir.join(FILE_NAME), b"second").unwrap();
    let opened = Store::open_at(&dir, set_aside_time());
    let [Warning::SetAside { moved_to, .. }] = opened.warnings.as_slice() else {
        panic!("{:?}", opened.warnings)
    };
    assert_eq!(
        moved_to.file_name(),
        Some(OsStr::new("progress.json.corrupt-20260105T093000Z-2"))
    );
    assert_eq!(
        fs::read(dir.join("progress.json.corrupt-20260105T093000Z")).unwrap(),
        b"first"
    );
    assert_eq!(fs::read(moved_to).unwrap(), b"second");
}

#[test]
fn a_directory_or_a_huge_file_in_its_place_is_set_aside() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    fs::create_dir_all(dir.join(FILE_NAME).join("inside")).unwrap();
    let opened = Store::open_at(&dir, set_aside_time());
    assert!(
        matches!(
            opened.warnings.as_slice(),
            [Warning::SetAside {
                reason: SetAsideReason::Corrupt(_),
                ..
            }]
        ),
        "{:?}",
        opened.warnings
    );
    assert!(
        dir.join("progress.json.corrupt-20260105T093000Z/inside")
            .is_dir()
    );

    // A file too large to be progress is not read into memory (a sparse file: no disk used).
    let huge = fs::File::create(dir.join(FILE_NAME)).unwrap();
    huge.set_len(asyncdojo::progress::store::MAX_FILE_BYTES + 1)
        .unwrap();
    drop(huge);
    let opened = Store::open_at(&dir, set_aside_time());
    let [
        Warning::SetAside {
            reason: SetAsideReason::Corrupt(why),
            ..
        },
    ] = opened.warnings.as_slice()
    else {
        panic!("{:?}", opened.warnings)
    };
    assert!(why.contains("bytes"), "{why}");
}

#[test]
fn stray_temporary_files_are_ignored() {
    let ls = lessons();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let p = rich_progress(&ls);
    Store::open(&dir).store.save(&p).unwrap();
    // What a writer killed mid-save leaves: a half-written temporary file.
    fs::write(dir.join(".progress.json.4242.0.tmp"), b"{\"format_ver").unwrap();
    let opened = Store::open(&dir);
    assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
    assert_eq!(opened.progress, p);
}

// ---------------------------------------------------------------------------------------------
// Read-only data directories
// ---------------------------------------------------------------------------------------------

#[test]
fn a_data_dir_that_cannot_be_created_is_reported_and_not_fatal() {
    // The tests run as root, which permission bits do not stop. A directory below a regular file
    // cannot be created by anyone, root included: an honest unwritable data directory.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-regular-file");
    fs::write(&file, b"x").unwrap();
    let dir = file.join("data");
    let opened = Store::open(&dir);
    assert_eq!(opened.progress, Progress::default());
    assert!(
        matches!(opened.warnings.as_slice(), [Warning::NotSaving { .. }]),
        "{:?}",
        opened.warnings
    );
    assert!(
        opened.warnings[0]
            .to_string()
            .starts_with("progress will not be saved"),
        "{}",
        opened.warnings[0]
    );
    assert!(!opened.store.can_save());
    let mut p = Progress::default();
    p.mark_read(&LessonId("q01-sync-vs-async".into()), &at(0, 9, 0));
    let err = opened.store.save(&p).unwrap_err();
    assert!(
        err.to_string().starts_with("progress will not be saved"),
        "{err}"
    );
    assert_eq!(fs::read(&file).unwrap(), b"x", "nothing was touched");
}

const READONLY_ENV: &str = "ASYNCDOJO_TEST_READONLY_DIR";

fn sample() -> Progress {
    let mut p = Progress::default();
    p.mark_read(&LessonId("q02-event-loop".into()), &at(0, 9, 0));
    p.set_notes(
        &LessonId("q02-event-loop".into()),
        "kept".into(),
        &at(0, 9, 0),
    );
    p
}

/// What must hold for a directory the process cannot write.
fn check_read_only(dir: &Path) {
    let opened = Store::open(dir);
    assert_eq!(opened.progress, sample(), "load works");
    assert!(
        matches!(opened.warnings.as_slice(), [Warning::NotSaving { .. }]),
        "{:?}",
        opened.warnings
    );
    assert!(!opened.store.can_save());
    let mut p = opened.progress.clone();
    p.mark_read(&LessonId("q03-coroutines".into()), &at(1, 9, 0));
    let err = opened.store.save(&p).unwrap_err();
    assert!(
        err.to_string().starts_with("progress will not be saved"),
        "{err}"
    );
    assert_eq!(Store::open(dir).progress, sample(), "the file is unchanged");
}

/// A corrupt file in a directory the process cannot write cannot be moved aside: it is left
/// exactly as it is, reported, and never overwritten.
fn check_corrupt_in_read_only(dir: &Path) {
    let opened = Store::open(dir);
    assert_eq!(opened.progress, Progress::default());
    let [Warning::Unusable { reason, .. }] = opened.warnings.as_slice() else {
        panic!("{:?}", opened.warnings)
    };
    assert!(reason.contains("moving it aside failed"), "{reason}");
    assert!(
        opened.warnings[0].to_string().contains("will not be saved"),
        "{}",
        opened.warnings[0]
    );
    assert!(!opened.store.can_save());
    let err = opened.store.save(&sample()).unwrap_err();
    assert!(
        err.to_string().starts_with("progress will not be saved"),
        "{err}"
    );
    assert_eq!(fs::read(dir.join(FILE_NAME)).unwrap(), CORRUPT);
}

const CORRUPT: &[u8] = b"{ not progress";

/// Not a test by itself: the read-only checks, run by the next test (by name, with `--ignored`)
/// as an unprivileged user.
#[test]
#[ignore = "run as `nobody` by a_read_only_data_dir_loads_and_refuses_to_save"]
fn read_only_child() {
    let dir = std::env::var_os(READONLY_ENV).unwrap_or_else(|| {
        panic!("the read-only test runs these checks with {READONLY_ENV} set; they need its files")
    });
    check_read_only(&Path::new(&dir).join("data"));
    check_corrupt_in_read_only(&Path::new(&dir).join("corrupt"));
}

/// The effective uid, from /proc (no libc, no unsafe).
fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(unix)]
#[test]
fn a_read_only_data_dir_loads_and_refuses_to_save() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    Store::open(&dir).store.save(&sample()).unwrap();
    let corrupt = tmp.path().join("corrupt");
    fs::create_dir(&corrupt).unwrap();
    fs::write(corrupt.join(FILE_NAME), CORRUPT).unwrap();
    let mode = |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
    mode(&dir, 0o555);
    mode(&corrupt, 0o555);
    if effective_uid() == Some(0) {
        // Root ignores permission bits, so the checks run in a child process as `nobody`
        // (std's `CommandExt::uid`), for whom the directories really are read-only.
        mode(tmp.path(), 0o755);
        mode(&dir.join(FILE_NAME), 0o644);
        mode(&corrupt.join(FILE_NAME), 0o644);
        let out = Command::new(std::env::current_exe().unwrap())
            .args(CHILD_ARGS)
            .args(["read_only_child", "--nocapture"])
            .env(READONLY_ENV, tmp.path())
            .uid(65534)
            .gid(65534)
            .output();
        match out {
            Ok(out) => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success() && stdout.contains("1 passed"),
                    "as nobody: {stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            // The test binary sits where `nobody` may not go: say so rather than pass silently.
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => eprintln!(
                "SKIPPED the read-only checks as nobody ({e}); the unwritable-directory case is \
                 still covered by a_data_dir_that_cannot_be_created_is_reported_and_not_fatal"
            ),
            Err(e) => panic!("could not run the child as nobody: {e}"),
        }
    } else {
        check_read_only(&dir);
        check_corrupt_in_read_only(&corrupt);
    }
    mode(&dir, 0o755);
    mode(&corrupt, 0o755);
}

// ---------------------------------------------------------------------------------------------
// Module graph
// ---------------------------------------------------------------------------------------------

/// The code of every source file of a module (`src/NAME.rs` and everything under `src/NAME/`),
/// with comments removed: what it names there, it imports.
fn module_code(name: &str) -> Vec<(PathBuf, String)> {
    fn walk(path: &Path, out: &mut Vec<PathBuf>) {
        if path.is_dir() {
            for entry in fs::read_dir(path).unwrap() {
                walk(&entry.unwrap().path(), out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src.join(format!("{name}.rs")), &mut files);
    walk(&src.join(name), &mut files);
    assert!(!files.is_empty(), "no sources for module {name}");
    files
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).unwrap();
            let code: String = text
                .lines()
                .map(|line| line.find("//").map_or(line, |i| &line[..i]))
                .collect::<Vec<_>>()
                .join("\n");
            (path, code)
        })
        .collect()
}

/// Does `code` use the identifier `word` (as a whole word, e.g. a path segment)?
fn names(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        let before = code[..i].chars().next_back().is_none_or(|c| !ident(c));
        let after = code[i + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !ident(c));
        before && after
    })
}

#[test]
fn progress_is_stored_data_that_never_imports_practice_or_the_scheduler() {
    // practice imports progress (to store what it computed); the reverse would be a circle.
    for (path, code) in module_code("progress") {
        for word in ["practice", "rs_fsrs"] {
            assert!(
                !names(&code, word),
                "{} names `{word}`: progress keeps what practice computed and imports neither \
                 practice nor the scheduler",
                path.display()
            );
        }
    }
    // The scheduler crate is practice's alone.
    for module in ["lesson", "progress", "demo", "app", "ui", "cli", "tui"] {
        for (path, code) in module_code(module) {
            assert!(
                !names(&code, "rs_fsrs"),
                "{} uses rs_fsrs; scheduling belongs in practice",
                path.display()
            );
        }
    }
    // Lessons are the leaf both build on.
    for (path, code) in module_code("lesson") {
        for word in ["practice", "progress"] {
            assert!(!names(&code, word), "{} names `{word}`", path.display());
        }
    }
    // The check itself can fail: practice does name progress.
    assert!(
        module_code("practice")
            .iter()
            .any(|(_, code)| names(code, "progress"))
    );
}

// ---------------------------------------------------------------------------------------------
// Where the data lives
// ---------------------------------------------------------------------------------------------

#[test]
fn the_data_dir_comes_from_the_flag_then_the_environment_then_the_platform() {
    let flag = Path::new("/from/flag");
    let env = OsStr::new("/from/env");
    assert_eq!(
        resolve_data_dir_from(Some(flag), Some(env)),
        Some(flag.to_path_buf())
    );
    assert_eq!(
        resolve_data_dir_from(None, Some(env)),
        Some(PathBuf::from("/from/env"))
    );
    let platform = asyncdojo::progress::default_data_dir();
    assert_eq!(resolve_data_dir_from(None, Some(OsStr::new(""))), platform);
    assert_eq!(resolve_data_dir_from(None, None), platform);
    if let Some(p) = platform {
        assert!(p.ends_with("asyncdojo"), "{}", p.display());
    }
}

// ---------------------------------------------------------------------------------------------
// Stats and streaks
// ---------------------------------------------------------------------------------------------

#[test]
fn streaks_count_consecutive_active_days() {
    let d = |day: u32| NaiveDate::from_ymd_opt(2026, 1, day).unwrap();
    let days: BTreeSet<NaiveDate> = [1, 2, 3, 5, 6].into_iter().map(d).collect();
    let s = streak(&days, d(6));
    assert_eq!((s.current, s.longest, s.active_today), (2, 3, true));
    // Today not practised yet: the streak holds until the day is over.
    let s = streak(&days, d(7));
    assert_eq!((s.current, s.longest, s.active_today), (2, 3, false));
    let s = streak(&days, d(8));
    assert_eq!(s.current, 0);
    assert_eq!(streak(&BTreeSet::new(), d(8)).longest, 0);
    // Across a month end.
    let days: BTreeSet<NaiveDate> = [
        NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
        NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
    ]
    .into();
    assert_eq!(
        streak(&days, NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()).current,
        2
    );
}

#[test]
fn stats_show_progress_due_items_and_marks() {
    let ls = lessons();
    let p = rich_progress(&ls);
    let s = stats(&ls, &p, &at(2, 12, 0));
    assert_eq!(s.today, NaiveDate::from_ymd_opt(2026, 1, 7).unwrap());
    assert_eq!(s.lessons.len(), ls.len());
    // Day 2: the wrong choice of day 0 and the poor spot-the-bug of day 1 (both Again) are due.
    assert_eq!(
        s.due.iter().map(|d| d.key.to_string()).collect::<Vec<_>>(),
        [
            "q01-sync-vs-async/parallel-or-not",
            "q01-sync-vs-async/spot-guide-q1"
        ]
    );
    let q01 = &s.lessons[0];
    assert_eq!(q01.mark, LessonMark::Due);
    assert_eq!(q01.due, 2);
    assert_eq!(s.lessons[1].mark, LessonMark::Untouched);
    // Scores: 0 (wrong choice), 1 (right prediction), 1/3 (one bug of two and one false mark).
    let avg = q01.average_score.unwrap();
    assert!((avg - (0.0 + 1.0 + 1.0 / 3.0) / 3.0).abs() < 1e-9, "{avg}");
    // Active on days 0 and 1, not yet on day 2.
    assert_eq!((s.streak.current, s.streak.longest), (2, 2));
    assert_eq!(s.active_days, 2);
    let text = s.to_string();
    assert!(text.contains("due now: 2"), "{text}");
    assert!(text.contains("q01-sync-vs-async/parallel-or-not"), "{text}");
    // Every title whole, the columns still lined up under the header.
    for l in &ls {
        assert!(text.contains(&l.title), "{} is cut:\n{text}", l.title);
    }
    let header = text
        .lines()
        .find(|l| l.contains("read  demos"))
        .expect("header");
    let read_col = header.find("read").expect("read");
    for row in text
        .lines()
        .filter(|l| l.contains(" yes ") || l.contains(" no "))
    {
        let col = row[..row.find(" yes ").or(row.find(" no ")).unwrap() + 1]
            .chars()
            .count();
        assert_eq!(col, header[..read_col].chars().count(), "{row}\n{header}");
    }
}

// ---------------------------------------------------------------------------------------------
// Done when
// ---------------------------------------------------------------------------------------------

#[test]
fn a_five_question_interview_is_graded_quit_and_due_the_next_day() {
    let ls = lessons();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");

    // Day 0: a five-question interview, each grade saved at once.
    let day0 = at(0, 20, 0);
    let opened = Store::open(&dir);
    let (store, mut progress) = (opened.store, opened.progress);
    let mut iv = Interview::new(
        &ls,
        &progress,
        &day0,
        InterviewConfig {
            questions: 5,
            seconds_per_question: 180,
            seed: 2026,
        },
    );
    let asked: Vec<LessonId> = iv.questions().iter().map(|q| q.lesson.clone()).collect();
    assert_eq!(asked.len(), 5);
    let grades = [
        Grade::Again,
        Grade::Good,
        Grade::Hard,
        Grade::Easy,
        Grade::Again,
    ];
    let mut t = Duration::ZERO;
    for grade in grades {
        iv.update(A::Start { at: t });
        for c in "my answer".chars() {
            iv.update(A::Type(c));
        }
        t += Duration::from_secs(90);
        iv.update(A::Reveal { at: t });
        t += Duration::from_secs(30);
        let InterviewEffect::Graded(answer) = iv.update(A::Grade { grade, at: t }) else {
            panic!("graded")
        };
        record_interview(&mut progress, &answer, &day0);
        store.save(&progress).unwrap();
    }
    assert!(iv.is_finished());
    let summary = iv.summary();
    assert_eq!(summary.grade_counts, [2, 1, 1, 1]);
    assert!(
        summary
            .answers
            .iter()
            .all(|a| a.answer_time == Duration::from_secs(90)
                && a.total_time == Duration::from_secs(120))
    );
    // Quit: the process ends; nothing is kept in memory.
    drop((store, progress, iv));

    // Day 1: start again and see what is due: the two answers graded Again.
    let day1 = at(1, 8, 0);
    let opened = Store::open(&dir);
    assert!(opened.warnings.is_empty());
    let due: Vec<ItemKey> = due_queue(&ls, &opened.progress, &day1)
        .into_iter()
        .map(|d| d.key)
        .collect();
    let mut expected = vec![ItemKey::interview(&asked[0]), ItemKey::interview(&asked[4])];
    expected.sort_by_key(|k| ls.iter().position(|l| &l.id == k.lesson()));
    assert_eq!(due, expected);
    let notes = &opened
        .progress
        .lesson(&asked[0])
        .unwrap()
        .interview
        .attempts[0];
    assert_eq!(notes.notes.as_deref(), Some("my answer"));
    assert_eq!(notes.answer_seconds, Some(90));
    let s = stats(&ls, &opened.progress, &day1);
    assert_eq!(s.due.len(), 2);
    assert_eq!(s.streak.current, 1);
    // Two days later the Hard one joins.
    assert_eq!(due_queue(&ls, &opened.progress, &at(2, 8, 0)).len(), 3);
}
