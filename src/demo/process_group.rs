//! Ending a Python process asyncdojo started (a twin, a traced script) with everything it started:
//! each is the leader of its own process group.

use std::process::{Child, Command, Stdio};

/// SIGKILL to the whole process group `child` leads (it and anything it started), then to the
/// child itself in case the group could not be signalled.
pub(crate) fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        // `kill` the program: signalling a group from Rust needs libc, which this crate's
        // `forbid(unsafe_code)` rules out.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}
