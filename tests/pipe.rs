//! A reader that closes the pipe early (`| head -1`) ends the command quietly, exit 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Read one line, close the pipe, and let the command find out on its next write.
fn first_line_then_close(args: &[&str]) -> (String, String, Option<i32>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start asyncdojo");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read the first line");
    // The reader is dropped here: the pipe's read end is closed, as `head -1` does.
    let out = child.wait_with_output().expect("wait for asyncdojo");
    (
        first,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn run_json_into_a_closed_pipe_exits_quietly() {
    // 2,000 requests make a document far larger than a pipe buffer, so the write must hit the
    // closed pipe rather than finish before the reader goes away.
    let latencies = vec!["1"; 2000].join(",");
    let set = format!("latencies_ms={latencies}");
    let (first, err, code) =
        first_line_then_close(&["run", "gather", "--json", "--set", set.as_str()]);
    assert_eq!(first.trim(), "{");
    assert_eq!(err, "", "nothing on stderr for a closed pipe");
    assert_eq!(code, Some(0));
}
