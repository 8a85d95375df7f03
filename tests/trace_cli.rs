//! `asyncdojo trace SCRIPT` from the command line, on the learner-style programs of
//! `tests/scripts/` (plain asyncio, no dojo import): the run document, the text timeline, the
//! Perfetto file, the script's own output after the timeline, exit codes and tracebacks, the
//! timeout, stopping with nothing left running, and the usage errors. Each test that needs
//! Python skips without one (and fails under CI, see `asyncio::for_tests`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use asyncdojo::demo::asyncio::{Python, for_tests};
use asyncdojo::demo::document::Document;
use asyncdojo::demo::engine::RunHandle;
use asyncdojo::demo::script::{ScriptEnd, ScriptHandle, ScriptStart};
use asyncdojo::demo::timeline::Outcome;

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts")
}

/// `asyncdojo ARGS` in `tests/scripts`, on the test Python.
fn asyncdojo_in(dir: &Path, python: &Python, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .arg("--python")
        .arg(&python.program)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .current_dir(dir)
        .output()
        .expect("run asyncdojo")
}

fn asyncdojo(python: &Python, args: &[&str]) -> (String, String, i32) {
    let out = asyncdojo_in(&scripts(), python, args);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn python() -> Option<Python> {
    for_tests().cloned()
}

#[test]
fn json_is_the_run_document_with_the_script_as_its_origin() {
    let Some(py) = python() else { return };
    let (out, err, code) = asyncdojo(
        &py,
        &[
            "trace",
            "gather_requests.py",
            "--clock",
            "virtual",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let doc = Document::from_json(&out).expect("a run document asyncdojo reads back");
    assert_eq!(doc.demo, "gather_requests.py");
    let origin = doc.origin.as_ref().expect("origin");
    assert_eq!(origin.script, "gather_requests.py");
    assert!(origin.args.is_empty());
    assert!(origin.files[0].ends_with("tests/scripts/gather_requests.py"));
    assert_eq!(doc.runs.len(), 1);
    let run = &doc.runs[0];
    assert_eq!(run.variant, "run 1");
    assert_eq!(run.total_ms, 300.0);
    let main = &run.tasks[0];
    assert_eq!((main.name.as_str(), main.parent), ("main", None));
    let finished: Vec<Option<f64>> = run.tasks[1..].iter().map(|t| t.finished_ms).collect();
    assert_eq!(finished, [Some(100.0), Some(300.0), Some(200.0)]);
    assert!(run.tasks.iter().all(|t| t.outcome == Outcome::Ok));
    assert!(run.tasks[1..].iter().all(|t| t.parent == Some(1)));
    // The script's own stdout is not in the document: on stderr, under a heading.
    assert!(
        err.contains("── the script's stdout (printed here on stderr) ──"),
        "{err}"
    );
    assert!(err.contains("['100 ms', '300 ms', '200 ms']"), "{err}");
}

#[test]
fn in_a_pipe_the_text_timeline_comes_first_then_the_scripts_output() {
    let Some(py) = python() else { return };
    let (out, err, code) = asyncdojo(
        &py,
        &[
            "trace",
            "gather_requests.py",
            "--clock",
            "virtual",
            "--width",
            "80",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("trace gather_requests.py (virtual clock"),
        "{out}"
    );
    let lanes = out.find("── run 1 ── total 300 ms").expect(&out);
    let heading = out
        .find("── the script's stdout (printed here on stdout) ──")
        .expect(&out);
    let printed = out.find("['100 ms', '300 ms', '200 ms']").expect(&out);
    assert!(lanes < heading && heading < printed, "{out}");
    assert!(err.contains("the script exited normally (code 0)"), "{err}");
    // --text says the same on a terminal; here it changes nothing.
    let (text, _, _) = asyncdojo(
        &py,
        &[
            "trace",
            "gather_requests.py",
            "--clock",
            "virtual",
            "--width",
            "80",
            "--text",
        ],
    );
    assert_eq!(text, out);
}

#[test]
fn a_script_that_prints_json_does_not_confuse_the_channel() {
    let Some(py) = python() else { return };
    let (out, err, code) = asyncdojo(
        &py,
        &["trace", "prints_json.py", "--clock", "virtual", "--json"],
    );
    assert_eq!(code, 0, "{err}");
    let doc = Document::from_json(&out).expect("one document");
    assert_eq!(doc.runs.len(), 1, "the printed `run`s are not runs");
    assert!(
        err.contains(r#"{"exit": {"code": 99, "error": null}}"#),
        "{err}"
    );
    assert!(err.contains("exited normally (code 0)"), "{err}");
}

#[test]
fn trace_file_opens_in_perfetto() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.json");
    let (_, err, code) = asyncdojo(
        &py,
        &[
            "trace",
            "gather_requests.py",
            "--clock",
            "virtual",
            "--trace",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let trace: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let threads: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .filter_map(|e| e["args"]["name"].as_str())
        .collect();
    // The script's three requests, main, and the track the timer's wakes start from (their
    // flows end at the polls they caused).
    assert_eq!(threads, ["main", "Task-2", "Task-3", "Task-4", "timer"]);
    assert!(
        events.iter().any(|e| e["ph"] == "s") && events.iter().any(|e| e["ph"] == "f"),
        "the wakes are flows"
    );
    assert!(
        events
            .iter()
            .any(|e| e["args"]["name"] == "gather_requests.py / run 1"),
        "the process is named after the script and its run"
    );
}

#[test]
fn an_uncaught_exception_ends_the_lane_in_error_with_its_traceback() {
    let Some(py) = python() else { return };
    let (out, err, code) = asyncdojo(
        &py,
        &["trace", "raises.py", "--clock", "virtual", "--width", "100"],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("ERROR @100 ms (ZeroDivisionError: division by zero)"),
        "{out}"
    );
    assert!(err.contains("── the uncaught exception ──"), "{err}");
    assert!(err.contains("Traceback (most recent call last):"), "{err}");
    assert!(err.contains("raises.py\", line 6, in divide"), "{err}");
    assert!(
        err.ends_with("error: the script raised an uncaught exception (exit code 1)\n"),
        "{err}"
    );
    // In the document too: main's outcome, and the run's error.
    let (json, _, _) = asyncdojo(&py, &["trace", "raises.py", "--clock", "virtual", "--json"]);
    let doc = Document::from_json(&json).unwrap();
    assert_eq!(doc.runs[0].tasks[0].outcome, Outcome::Error);
    assert!(doc.runs[0].tasks[0].detail.contains("ZeroDivisionError"));
}

#[test]
fn the_scripts_exit_code_is_reported() {
    let Some(py) = python() else { return };
    let (_, err, code) = asyncdojo(&py, &["trace", "exit_code.py", "--clock", "virtual"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("error: the script exited with code 3"),
        "{err}"
    );
}

#[test]
fn the_script_gets_its_arguments_and_the_current_directory() {
    let Some(py) = python() else { return };
    let (out, err, code) = asyncdojo(
        &py,
        &[
            "trace",
            "argv_and_stdin.py",
            "--json",
            "--",
            "--fast",
            "two words",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let doc = Document::from_json(&out).unwrap();
    assert_eq!(doc.origin.unwrap().args, ["--fast", "two words"]);
    let printed = err
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("the script's JSON line");
    let seen: serde_json::Value = serde_json::from_str(printed).unwrap();
    // argv[0] is the script as typed, as `python3 SCRIPT` gives it (runpy would make it
    // absolute); `__file__` is absolute, as there.
    assert_eq!(seen["argv"][0], "argv_and_stdin.py", "{seen}");
    assert!(
        Path::new(seen["file"].as_str().unwrap_or_default()).is_absolute(),
        "{seen}"
    );
    assert_eq!(seen["argv"][1], "--fast");
    assert_eq!(seen["argv"][2], "two words");
    assert_eq!(seen["name"], "__main__");
    assert_eq!(seen["stdin"], "", "the script reads an empty stdin");
    let cwd = Path::new(seen["cwd"].as_str().unwrap())
        .canonicalize()
        .unwrap();
    assert_eq!(cwd, scripts().canonicalize().unwrap());
}

#[test]
fn ten_thousand_tasks_trace() {
    let Some(py) = python() else { return };
    let (out, err, code) = asyncdojo(
        &py,
        &["trace", "ten_thousand.py", "--clock", "virtual", "--json"],
    );
    assert_eq!(code, 0, "{err}");
    let doc = Document::from_json(&out).unwrap();
    let run = &doc.runs[0];
    assert_eq!(run.tasks.len(), 10_001);
    assert_eq!(
        run.total_ms, 9.0,
        "the longest sleep, exact on the virtual clock"
    );
    assert!(run.tasks.iter().all(|t| t.outcome == Outcome::Ok));
    assert_eq!(run.tasks[10_000].name, "work 9999");
}

/// A script that listens on loopback, starts a helper process, says both on its stdout, then
/// serves until it is stopped.
const LISTENS: &str = r#"
import asyncio, subprocess, sys

async def handle(reader, writer):
    writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    print("PORT", server.sockets[0].getsockname()[1], "HELPER", helper.pid, flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"#;

fn port_and_helper(stdout: &str) -> Option<(u16, u32)> {
    let line = stdout.lines().find(|l| l.starts_with("PORT "))?;
    let w: Vec<&str> = line.split_whitespace().collect();
    Some((w.get(1)?.parse().ok()?, w.get(3)?.parse().ok()?))
}

fn gone(pid: u32) -> bool {
    (0..100).any(|_| {
        let alive = Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if alive {
            std::thread::sleep(Duration::from_millis(20));
        }
        !alive
    })
}

#[test]
fn a_script_that_never_ends_is_stopped_at_its_timeout_with_nothing_left() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serve.py"), LISTENS).unwrap();
    let started = Instant::now();
    let out = asyncdojo_in(dir.path(), &py, &["trace", "serve.py", "--timeout", "2"]);
    let elapsed = started.elapsed();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(
        stderr.contains("did not finish within 2 s and was stopped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--timeout SECONDS"),
        "says how to give it longer"
    );
    let (port, helper) = port_and_helper(&stdout).expect("the script said where it listens");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open"
    );
    assert!(gone(helper), "helper process {helper} survived");
    // The lanes it had are drawn, still running when it was stopped.
    assert!(stdout.contains("running"), "{stdout}");
}

#[test]
fn stopping_a_script_ends_its_process_group_and_closes_its_listener() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("serve.py");
    std::fs::write(&script, LISTENS).unwrap();
    let handle = ScriptHandle::start(ScriptStart::new(&script, vec![]), &py).expect("starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    let (port, helper) = loop {
        if let Some(found) = port_and_helper(&handle.output().stdout.shown()) {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "the script never said where it listens"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    // Live: the run in progress shows before the script ends.
    let live = (0..100).find_map(|_| {
        let runs = handle.runs();
        if runs.is_empty() {
            std::thread::sleep(Duration::from_millis(50));
        }
        runs.into_iter().next()
    });
    let live = live.expect("a live run");
    assert_eq!(live.total_ms, None);
    assert_eq!(live.timeline.tasks[0].name, "main");
    let stopped = Instant::now();
    handle.cancel();
    let finished = Box::new(handle).wait();
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopped.elapsed()
    );
    let output = finished.script.expect("a script's ending");
    assert_eq!(output.end, ScriptEnd::Stopped);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open"
    );
    assert!(gone(helper), "helper process {helper} survived");
    assert_eq!(finished.runs.len(), 1, "the run it was in is kept");
}

#[test]
fn what_the_script_writes_reaches_the_terminal_without_escapes() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("colours.py"),
        "import asyncio, sys\n\
         async def main():\n    \
             t = asyncio.create_task(asyncio.sleep(0), name='evil\\x1b[2J')\n    \
             await t\n    \
             print('red \\x1b[31m!')\n    \
             print('err \\x1b]0;title\\x07', file=sys.stderr)\n\
         asyncio.run(main())\n",
    )
    .unwrap();
    let out = asyncdojo_in(
        dir.path(),
        &py,
        &["trace", "colours.py", "--clock", "virtual"],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "{stdout:?}\n{stderr:?}"
    );
    assert!(stdout.contains("red \\u{1b}[31m!"), "{stdout}");
    assert!(stdout.contains("err \\u{1b}]0;title\\u{7}"), "{stdout}");
    assert!(
        stdout.contains("evil\\u{1b}[2J"),
        "the lane's name: {stdout}"
    );
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    // No Python is needed to refuse these: nothing is run.
    let py = Python::choose(Some(Path::new("/nonexistent/python3")));
    let (_, err, code) = asyncdojo(&py, &["trace", "no_such_script.py"]);
    assert_eq!(code, 2);
    assert!(err.contains("no such file: no_such_script.py"), "{err}");
    let (_, err, code) = asyncdojo(&py, &["trace", "lib"]);
    assert_eq!(code, 2);
    assert!(err.contains("lib is not a file"), "{err}");
    let (_, err, code) = asyncdojo(&py, &["trace", "raises.py", "--timeout", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a number of seconds above 0"), "{err}");
    let (_, err, code) = asyncdojo(&py, &["trace", "raises.py", "--clock", "sideways"]);
    assert_eq!(code, 2, "{err}");
    let (_, _, code) = asyncdojo(&py, &["trace"]);
    assert_eq!(code, 2);
    // A missing interpreter is not a usage error: exit 1, naming it.
    let (_, err, code) = asyncdojo(&py, &["trace", "raises.py"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/python3"), "{err}");
}

#[test]
fn an_old_python_is_refused_with_a_clear_message() {
    // A stand-in interpreter that says it is 3.10, as `probe` asks.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("python3.10");
    std::fs::write(&fake, "#!/bin/sh\necho 3.10.13\necho /usr/bin/python3.10\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let py = Python::choose(Some(&fake));
    let (_, err, code) = asyncdojo(&py, &["trace", "raises.py"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is Python 3.10.13"), "{err}");
    assert!(
        err.contains("`asyncdojo trace` needs Python 3.11 or later"),
        "{err}"
    );
    assert!(err.contains("--python PATH"), "{err}");
    // A real old one, when this machine has it: the tracer itself refuses it too.
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let real = home.join(".pyenv/versions/3.10.13/bin/python3");
    if real.exists() {
        let (_, err, code) = asyncdojo(&Python::choose(Some(&real)), &["trace", "raises.py"]);
        assert_eq!(code, 1);
        assert!(err.contains("needs Python 3.11 or later"), "{err}");
    }
}

#[test]
fn show_code_python_writes_the_lessons_model_python_and_runs_nothing() {
    // A Python that cannot run: writing a file never runs one.
    let py = Python::choose(Some(Path::new("/nonexistent/python3")));
    let (out, err, code) = asyncdojo(&py, &["show", "5", "--code", "python"]);
    assert_eq!(code, 0, "{err}");
    let twin =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("twins/http-fanout.py"))
            .unwrap();
    // A few comment lines on how to run it, then the twin exactly as the lesson shows it.
    let header = out
        .strip_suffix(twin.as_str())
        .expect("q05's demo runs twins/http-fanout.py, unchanged");
    assert!(
        header.lines().all(|l| l.is_empty() || l.starts_with('#')),
        "{header}"
    );
    assert!(header.contains("asyncdojo trace q05.py"), "{header}");
    assert!(header.contains("dojo module"), "{header}");
    let (_, err, code) = asyncdojo(&py, &["show", "99", "--code", "python"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn ctrl_c_in_a_pipe_stops_the_script_and_everything_it_started() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    // As LISTENS, but it also writes where it listens to a file: its stdout is only printed
    // once it has ended.
    let script = LISTENS.replace(
        "    print(\"PORT\"",
        "    open(\"where\", \"w\").write(\"PORT %d HELPER %d\" % (server.sockets[0].getsockname()[1], helper.pid))\n    print(\"PORT\"",
    );
    std::fs::write(dir.path().join("serve.py"), script).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .arg("--python")
        .arg(&py.program)
        .args(["trace", "serve.py"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (port, helper) = loop {
        if let Some(found) = std::fs::read_to_string(dir.path().join("where"))
            .ok()
            .and_then(|w| port_and_helper(&w))
        {
            break found;
        }
        assert!(Instant::now() < deadline, "the script never listened");
        std::thread::sleep(Duration::from_millis(20));
    };
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let stopped = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopped.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stopped: the script and everything it started ended"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open"
    );
    assert!(gone(helper), "helper process {helper} survived");
}

/// An interpreter stand-in: answers the version probe as 3.12, then runs `body` as the "tracer".
fn fake_python(dir: &Path, body: &str) -> Python {
    let fake = dir.join("fake-python");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\ncase \"$*\" in *version_info*) echo 3.12.0; echo /usr/bin/python3; \
             exit 0;; esac\n{body}\n"
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    Python::choose(Some(&fake))
}

#[test]
fn a_channel_that_breaks_the_contract_is_refused_by_line_and_the_script_stopped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prog.py"), "print('hi')\n").unwrap();
    let py = fake_python(
        dir.path(),
        "printf '%s\\n' '{\"stdout\": \"hi \\u001b[31m\\n\"}' 'not json at all'\nexec sleep 30",
    );
    let started = Instant::now();
    let out = asyncdojo_in(dir.path(), &py, &["trace", "prog.py"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stopped: asyncdojo could not read the tracer's channel: line 2: not JSON"),
        "{stderr}"
    );
    assert!(
        stdout.contains("hi \\u{1b}[31m"),
        "what came before is kept: {stdout}"
    );
    assert!(!stdout.contains('\x1b'));
}

#[test]
fn a_tracer_that_dies_without_its_last_word_is_said_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prog.py"), "print('hi')\n").unwrap();
    let py = fake_python(dir.path(), "echo 'Segmentation fault' >&2\nkill -SEGV $$");
    let out = asyncdojo_in(dir.path(), &py, &["trace", "prog.py"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the script's process ended: killed by signal 11"),
        "{stderr}"
    );
    assert!(
        stdout.contains("── the script's stderr (printed here on stdout) ──\nSegmentation fault"),
        "its stderr, after the timeline: {stdout}"
    );
}

#[test]
fn a_channel_line_over_64_mib_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prog.py"), "print('hi')\n").unwrap();
    let py = fake_python(
        dir.path(),
        "printf '{\"stdout\": \"'\nhead -c 70000000 /dev/zero | tr '\\0' x\nexec sleep 30",
    );
    let started = Instant::now();
    let out = asyncdojo_in(dir.path(), &py, &["trace", "prog.py"]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 1: a line longer than 64 MiB"),
        "{stderr}"
    );
}
