//! The real binary in a real pseudo-terminal: start, open Q1, compare its demo's variants, see
//! the totals and both variants' lanes on one screen, quit — and the terminal is back in cooked mode with the main screen restored.
//! And `q` in the middle of a compare on asyncio, on the interpreter `--python` names: nothing of
//! the run is left behind.

#[path = "support/stand_in.rs"]
mod stand_in;

use std::time::{Duration, Instant};

/// Runs `script` (BIN is the binary) under bash in a fresh pseudo-terminal of `rows`×`cols`.
fn spawn_sized(script: &str, rows: u16, cols: u16) -> rexpect::session::PtySession {
    let bin = env!("CARGO_BIN_EXE_asyncdojo");
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-c"])
        // A fresh learner: progress in a private directory, never the tester's own, removed
        // when the shell ends.
        .arg(format!(
            "export ASYNCDOJO_DATA=$(mktemp -d); trap 'rm -rf \"$ASYNCDOJO_DATA\"' EXIT; \
             stty rows {rows} cols {cols}; {}",
            script.replace("BIN", bin)
        ))
        .env("TERM", "xterm-256color");
    rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn in a pty")
}

/// Type `keys`: rexpect buffers writes, so flush them to the terminal at once.
fn key(p: &mut rexpect::session::PtySession, keys: &str) {
    p.send(keys).expect("send keys");
    p.flush().expect("flush keys");
}

fn spawn(script: &str) -> rexpect::session::PtySession {
    spawn_sized(script, 24, 80)
}

#[test]
fn open_q1_run_compare_see_totals_quit_and_the_terminal_is_restored() {
    // The terminal's settings before and after must be identical, and canonical ("cooked").
    let mut p = spawn(
        "before=$(stty -g); BIN; code=$?; echo; echo EXITED=$code; \
         [ \"$before\" = \"$(stty -g)\" ] && echo SETTINGS=RESTORED; stty -a",
    );
    p.exp_string("Lessons").expect("the browser draws");
    p.exp_string("Synchronous").expect("Q1 is listed");
    // A first start asks which runtime to watch: tokio here, whose totals the test knows.
    p.exp_string("How do you want to watch the demos?")
        .expect("the first start asks");
    key(&mut p, "2");
    key(&mut p, "\r");
    p.exp_string("gather").expect("Q1 opens with its demo");
    // Virtual clock, so the totals are exact: t switches, c compares.
    key(&mut p, "t");
    std::thread::sleep(Duration::from_millis(200));
    key(&mut p, "c");
    p.exp_string("sequential 600 ms")
        .expect("the sequential total");
    p.exp_string("join-all 300 ms")
        .expect("the concurrent total");
    // Both variants' lanes on one screen, each under its header row (the pty hands bytes over
    // as Latin-1 and the screen is drawn as a diff, so match ASCII words, in screen order).
    p.exp_string("max_in_flight 1")
        .expect("the sequential group's header: its metric");
    p.exp_string("request").expect("the sequential lanes");
    p.exp_string("max_in_flight 3")
        .expect("the join-all group's header, below");
    p.exp_string("request").expect("the join-all lanes");
    p.exp_string("600 ms")
        .expect("the shared axis ends at the longer run");
    key(&mut p, "q");
    p.exp_string("EXITED=0").expect("clean exit");
    p.exp_string("SETTINGS=RESTORED")
        .expect("stty settings as before the app");
    let (before, _) = p
        .exp_regex(r"\bicanon\b")
        .expect("stty reports canonical mode");
    assert!(
        !before.ends_with('-'),
        "not -icanon: the terminal is back in cooked mode"
    );
}

#[test]
fn the_alternate_screen_is_left_on_quit() {
    let mut p = spawn("BIN; echo DONE");
    p.exp_string("Lessons").expect("the browser draws");
    key(&mut p, "q");
    let output = p.exp_string("DONE").expect("exits");
    assert!(
        output.contains("\u{1b}[?1049l"),
        "leaves the alternate screen"
    );
}

#[test]
fn a_tiny_terminal_gets_a_notice_not_a_crash() {
    let mut p = spawn_sized("BIN; echo EXITED=$?", 10, 40);
    p.exp_string("too small").expect("notice");
    key(&mut p, "q");
    p.exp_string("EXITED=0").expect("clean exit");
}

/// The app honours the global `--python`, a path relative to where asyncdojo started (made
/// absolute once, so the twin's interpreter is `$START/venv/bin/python`, not the relative name),
/// and `q` while C1's variants are compared on asyncio on the real clock leaves nothing in the
/// temp dir and no process of the run behind. (Twins were once written to `asyncdojo-twin-*`
/// directories that an interrupted app left behind.)
#[cfg(target_os = "linux")]
#[test]
fn q_during_an_asyncio_compare_on_the_python_given_leaves_no_twin_file_behind() {
    let Some(py) = asyncdojo::demo::asyncio::for_tests() else {
        return;
    };
    let start = tempfile::tempdir().expect("a start directory");
    let start = start.path();
    let tmp = tempfile::tempdir().expect("a temp dir for the app");
    let tmp = tmp.path();
    let record = start.join("launched");
    // A stand-in interpreter: says how it was named and which twin it was given, then is the
    // real one.
    let fake = stand_in::recording_python(start, &record, &py.program);

    let mut p = spawn_sized(
        &format!(
            "cd '{}' && TMPDIR='{}' BIN --python venv/bin/python; echo EXITED=$?",
            start.display(),
            tmp.display()
        ),
        40,
        140,
    );
    p.exp_string("How do you want to watch the demos?")
        .expect("the first start asks");
    key(&mut p, "1");
    key(&mut p, "/rate limiter");
    std::thread::sleep(Duration::from_millis(100));
    key(&mut p, "\r");
    p.exp_string("rate-limiter")
        .expect("C1 opens with its demo");
    // The real clock, so the compare (three variants of about 2 s each) is in flight when q comes.
    key(&mut p, "t");
    std::thread::sleep(Duration::from_millis(200));
    key(&mut p, "c");
    let launched = || std::fs::read_to_string(&record).unwrap_or_default();
    let started = Instant::now();
    while !launched().contains("rate-limiter.py") && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        launched().trim_end(),
        format!("{} rate-limiter.py", fake.display()),
        "the twin ran on the --python given, its path made absolute from where asyncdojo started"
    );
    std::thread::sleep(Duration::from_millis(300));
    key(&mut p, "q");
    p.exp_string("EXITED=0").expect("q quits at once, mid-run");
    let entries = || -> Vec<String> {
        std::fs::read_dir(tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let running = || -> Vec<String> {
        let needle = format!("TMPDIR={}", tmp.display());
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read(e.path().join("environ"))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes()))
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let started = Instant::now();
    while !(entries().is_empty() && running().is_empty())
        && started.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        entries(),
        Vec::<String>::new(),
        "nothing left in the temp dir"
    );
    assert_eq!(
        running(),
        Vec::<String>::new(),
        "no process of the run left"
    );
}
