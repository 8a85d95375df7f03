//! `asyncdojo trace SCRIPT` on a terminal: the real binary in a real pseudo-terminal (as
//! `tests/e2e.rs` drives the app). The script's lanes draw beside its code; its output stays off
//! the terminal until asked for (`o`) or the app is left; `s`, Ctrl-C and the timeout stop it with
//! nothing left running; `r` runs it again. Each test skips without Python 3.11+ (and fails under
//! CI, see `asyncio::for_tests`).

use std::path::Path;
use std::time::Duration;

use asyncdojo::demo::asyncio::{Python, for_tests};

/// Runs `script` (BIN is the binary with `--python`) under bash in a fresh pseudo-terminal, in
/// `dir`.
fn spawn(script: &str, dir: &Path, python: &Python) -> rexpect::session::PtySession {
    let bin = format!(
        "{} --python {}",
        env!("CARGO_BIN_EXE_asyncdojo"),
        python.program.display()
    );
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-c"])
        .arg(format!(
            "export ASYNCDOJO_DATA=$(mktemp -d); trap 'rm -rf \"$ASYNCDOJO_DATA\"' EXIT; \
             stty rows 40 cols 140; {}",
            script.replace("BIN", &bin)
        ))
        .current_dir(dir)
        .env("TERM", "xterm-256color")
        .env("NO_COLOR", "1");
    rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn in a pty")
}

fn key(p: &mut rexpect::session::PtySession, keys: &str) {
    p.send(keys).expect("send keys");
    p.flush().expect("flush keys");
}

/// The screen as a terminal would show it: the app draws diffs (only the cells that changed,
/// with cursor moves between them), so its words are only whole on a screen. A small emulator:
/// cursor moves, clears and text; every other escape is skipped.
struct Term {
    rows: Vec<Vec<char>>,
    at: (usize, usize),
    raw: Vec<u8>,
    pending: Vec<u8>,
    esc: Option<String>,
}

impl Term {
    fn new() -> Term {
        Term {
            rows: vec![vec![' '; 140]; 40],
            at: (0, 0),
            raw: Vec::new(),
            pending: Vec::new(),
            esc: None,
        }
    }

    /// Everything the pty has for us now.
    fn pump(&mut self, p: &mut rexpect::session::PtySession) {
        while let Some(c) = p.try_read() {
            // rexpect hands bytes over as Latin-1 chars.
            let b = u8::try_from(u32::from(c)).unwrap_or(b'?');
            self.raw.push(b);
            self.pending.push(b);
            match std::str::from_utf8(&self.pending) {
                Ok(text) => {
                    let text = text.to_owned();
                    self.pending.clear();
                    text.chars().for_each(|c| self.put(c));
                }
                Err(e) if e.error_len().is_some() => self.pending.clear(),
                Err(_) => {}
            }
        }
    }

    fn put(&mut self, c: char) {
        if let Some(seq) = &mut self.esc {
            if seq.is_empty() && c != '[' {
                self.esc = None;
                return;
            }
            if seq.is_empty() || !('\u{40}'..='\u{7e}').contains(&c) {
                seq.push(c);
                return;
            }
            let params = seq[1..].to_owned();
            self.esc = None;
            match c {
                'H' => {
                    let mut n = params.split(';').map(|x| x.parse::<usize>().unwrap_or(1));
                    let r = n.next().unwrap_or(1).max(1) - 1;
                    let col = n.next().unwrap_or(1).max(1) - 1;
                    self.at = (r.min(39), col.min(139));
                }
                'J' if params == "2" => self.clear(),
                'h' | 'l' if params == "?1049" => self.clear(),
                _ => {}
            }
            return;
        }
        match c {
            '\u{1b}' => self.esc = Some(String::new()),
            '\r' => self.at.1 = 0,
            '\n' => self.at.0 = (self.at.0 + 1).min(39),
            c if c.is_control() => {}
            c => {
                let (r, col) = self.at;
                if col < 140 {
                    self.rows[r][col] = c;
                }
                self.at.1 += 1;
            }
        }
    }

    fn clear(&mut self) {
        self.rows.iter_mut().for_each(|r| r.fill(' '));
    }

    fn screen(&self) -> String {
        self.rows
            .iter()
            .map(|r| r.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Wait until the screen shows `text` (on one row); false after 20 s.
    fn wait(&mut self, p: &mut rexpect::session::PtySession, text: &str) -> bool {
        self.wait_for(p, |t| t.screen().contains(text))
    }

    /// Wait until the raw output (what is printed after the app) holds `text`.
    fn wait_raw(&mut self, p: &mut rexpect::session::PtySession, text: &str) -> bool {
        self.wait_for(p, |t| String::from_utf8_lossy(&t.raw).contains(text))
    }

    fn wait_for(
        &mut self,
        p: &mut rexpect::session::PtySession,
        done: impl Fn(&Term) -> bool,
    ) -> bool {
        let until = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            self.pump(p);
            if done(self) {
                return true;
            }
            if std::time::Instant::now() > until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `PORT n HELPER m` where it shows, as numbers.
    fn port_and_helper(&self, text: &str) -> Option<(u16, u32)> {
        let at = text.find("PORT ")?;
        let w: Vec<&str> = text[at..].split_whitespace().take(4).collect();
        Some((w.get(1)?.parse().ok()?, w.get(3)?.parse().ok()?))
    }
}

fn scripts() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts")
}

#[test]
fn a_traced_script_draws_its_lanes_and_keeps_its_output_until_asked() {
    let Some(py) = for_tests() else { return };
    let mut p = spawn(
        "BIN trace gather_requests.py; echo EXITED=$?",
        &scripts(),
        py,
    );
    let mut t = Term::new();
    assert!(
        t.wait(
            &mut p,
            "the script exited normally (code 0) · o shows its output"
        ),
        "the status line says how it ended:\n{}",
        t.screen()
    );
    let screen = t.screen();
    assert!(screen.contains("Python · gather_requests.py"), "{screen}");
    assert!(screen.contains("asyncio.run(main())"), "its code: {screen}");
    assert!(screen.contains("main"), "main's lane: {screen}");
    assert!(
        screen.contains("Task-4"),
        "the third request's lane: {screen}"
    );
    assert!(
        !String::from_utf8_lossy(&t.raw).contains("'300 ms'"),
        "the script's stdout reached the terminal while the app was up"
    );
    key(&mut p, "o");
    assert!(t.wait(&mut p, "The script's output"), "{}", t.screen());
    assert!(
        t.wait(&mut p, "['100 ms', '300 ms', '200 ms']"),
        "the script's stdout in the overlay:\n{}",
        t.screen()
    );
    key(&mut p, "o");
    key(&mut p, "q");
    // Printed once the terminal is back.
    assert!(t.wait_raw(&mut p, "EXITED=0"), "clean exit");
    let raw = String::from_utf8_lossy(&t.raw).into_owned();
    let after = &raw[raw
        .rfind("\u{1b}[?1049l")
        .expect("left the alternate screen")..];
    assert!(
        after.contains("── the script's stdout ──\r\n['100 ms', '300 ms', '200 ms']"),
        "{after}"
    );
    assert!(
        after.contains("asyncdojo trace: the script exited normally (code 0)"),
        "{after}"
    );
}

/// Serves on loopback with a helper process until stopped; says both on its stdout.
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

fn gone(pid: u32) -> bool {
    (0..100).any(|_| {
        let alive = std::process::Command::new("kill")
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

/// Stop with `stop_key`, then: the listener is closed and the helper is gone.
fn stop_with(stop_key: &str) {
    let Some(py) = for_tests() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serve.py"), LISTENS).unwrap();
    let mut p = spawn("BIN trace serve.py; echo EXITED=$?", dir.path(), py);
    let mut t = Term::new();
    assert!(t.wait(&mut p, "serve.py · running"), "{}", t.screen());
    // Its output is in the overlay, not on the terminal: read the port and helper there (the
    // overlay redraws as output arrives).
    key(&mut p, "o");
    assert!(t.wait(&mut p, "HELPER"), "{}", t.screen());
    let (port, helper) = t
        .port_and_helper(&t.screen())
        .expect("the script said where it listens");
    key(&mut p, "o");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    key(&mut p, stop_key);
    assert!(
        t.wait(
            &mut p,
            "stopped: the script and everything it started ended"
        ),
        "the status line says it stopped:\n{}",
        t.screen()
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open"
    );
    assert!(gone(helper), "helper process {helper} survived");
    key(&mut p, "q");
    assert!(t.wait_raw(&mut p, "EXITED=0"), "clean exit");
}

#[test]
fn s_stops_the_script_and_everything_it_started() {
    stop_with("s");
}

#[test]
fn ctrl_c_stops_the_script_and_everything_it_started() {
    stop_with("\u{3}");
}

#[test]
fn leaving_while_it_runs_leaves_nothing_running() {
    let Some(py) = for_tests() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serve.py"), LISTENS).unwrap();
    let mut p = spawn("BIN trace serve.py; echo EXITED=$?", dir.path(), py);
    let mut t = Term::new();
    assert!(t.wait(&mut p, "serve.py · running"), "{}", t.screen());
    key(&mut p, "o");
    assert!(t.wait(&mut p, "HELPER"), "{}", t.screen());
    key(&mut p, "q");
    assert!(t.wait_raw(&mut p, "EXITED=0"), "clean exit");
    let raw = String::from_utf8_lossy(&t.raw).into_owned();
    let after = &raw[raw
        .rfind("\u{1b}[?1049l")
        .expect("left the alternate screen")..];
    let (port, helper) = t
        .port_and_helper(after)
        .expect("its stdout, printed after the app");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(gone(helper), "helper process {helper} survived");
}

#[test]
fn a_script_that_never_ends_meets_its_timeout_and_r_runs_it_again() {
    let Some(py) = for_tests() else { return };
    let mut p = spawn(
        "BIN trace never_ends.py --timeout 3; echo EXITED=$?",
        &scripts(),
        py,
    );
    let mut t = Term::new();
    assert!(
        t.wait(&mut p, "did not finish within 3 s"),
        "{}",
        t.screen()
    );
    assert!(
        t.screen().contains("ticker"),
        "its lanes stay:\n{}",
        t.screen()
    );
    key(&mut p, "r");
    assert!(
        t.wait(&mut p, "running the script again (run 2)"),
        "{}",
        t.screen()
    );
    assert!(
        t.wait(&mut p, "did not finish within 3 s"),
        "{}",
        t.screen()
    );
    key(&mut p, "q");
    assert!(t.wait_raw(&mut p, "EXITED=0"), "clean exit");
}

#[test]
fn a_script_that_raises_shows_the_traceback_in_the_overlay() {
    let Some(py) = for_tests() else { return };
    let mut p = spawn("BIN trace raises.py; echo EXITED=$?", &scripts(), py);
    let mut t = Term::new();
    assert!(t.wait(&mut p, "o shows the traceback"), "{}", t.screen());
    key(&mut p, "o");
    assert!(
        t.wait(&mut p, "ZeroDivisionError: division by zero"),
        "{}",
        t.screen()
    );
    // Esc closes the overlay, then (the script has ended) leaves. Apart, so the terminal does not
    // read the two as one Alt-Esc.
    key(&mut p, "\u{1b}");
    std::thread::sleep(Duration::from_millis(300));
    key(&mut p, "\u{1b}");
    assert!(t.wait_raw(&mut p, "EXITED=0"), "clean exit");
    assert!(String::from_utf8_lossy(&t.raw).contains("── the uncaught exception ──"));
}

#[test]
fn ten_thousand_tasks_draw_and_their_lanes_scroll() {
    let Some(py) = for_tests() else { return };
    let mut p = spawn("BIN trace ten_thousand.py; echo EXITED=$?", &scripts(), py);
    let mut t = Term::new();
    assert!(
        t.wait(&mut p, "the script exited normally (code 0)"),
        "{}",
        t.screen()
    );
    // A lane named exactly `name` (not `work 0` inside `work 10`).
    let lane = |t: &Term, name: &str| {
        let screen = t.screen();
        screen
            .match_indices(name)
            .any(|(i, _)| !screen[i + name.len()..].starts_with(|c: char| c.is_ascii_digit()))
    };
    assert!(lane(&t, "work 0"), "{}", t.screen());
    // ↓ scrolls the lanes: the first tasks' lanes leave the screen.
    for _ in 0..5 {
        key(&mut p, "j");
    }
    assert!(
        t.wait_for(&mut p, |t| !lane(t, "work 0") && lane(t, "work 5")),
        "{}",
        t.screen()
    );
    key(&mut p, "q");
    assert!(t.wait_raw(&mut p, "EXITED=0"), "clean exit");
}

#[test]
fn f_shows_the_other_user_file_a_task_was_created_in() {
    let Some(py) = for_tests() else { return };
    let mut p = spawn("BIN trace uses_module.py; echo EXITED=$?", &scripts(), py);
    let mut t = Term::new();
    assert!(
        t.wait(&mut p, "the script exited normally (code 0)"),
        "{}",
        t.screen()
    );
    assert!(
        t.screen().contains("uses_module.py · file 1/2 (f next)"),
        "{}",
        t.screen()
    );
    key(&mut p, "f");
    assert!(t.wait(&mut p, "lib/jobs.py · file 2/2"), "{}", t.screen());
    key(&mut p, "q");
    assert!(t.wait_raw(&mut p, "EXITED=0"), "clean exit");
}
