//! A stand-in interpreter for tests of which Python asyncdojo launches: a shell script that
//! appends how it was named (`$0`) and the twin or script it was given to `record`, then execs the
//! real interpreter. Shared by the test binaries that include it.

use std::path::{Path, PathBuf};

/// Writes `<start>/venv/bin/python`, the stand-in for `real`, and returns its path.
pub fn recording_python(start: &Path, record: &Path, real: &Path) -> PathBuf {
    let bin = start.join("venv/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("python");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in *.py) echo \"$0 $a\" >> '{}';; esac; \
             done\nexec '{}' \"$@\"\n",
            record.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    fake
}
