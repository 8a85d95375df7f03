//! The script tracer's own suite, `tests/scripts/test_tracer.py` (what `asyncdojo trace SCRIPT`
//! runs in the interpreter, tested field by field on plain asyncio programs), under every Python
//! 3.11 or later this machine has, with the very bundle asyncdojo sends
//! (`asyncdojo::demo::asyncio::tracer_source()`). Older interpreters found are handed to the
//! suite, which checks that they are refused with a clear message.
//!
//! Interpreters are looked for as `tests/snippets.rs` does: `$ASYNCDOJO_PYTHON`, `python3` and
//! `python3.N` on PATH, and pyenv's versions. With none, the test is skipped unless Python is
//! required (CI), where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use asyncdojo::demo::asyncio::{python_required, tracer_source};

const WANTED: std::ops::RangeInclusive<u32> = 10..=14;

/// Every Python 3 found, one per minor version.
fn interpreters() -> BTreeMap<(u32, u32), PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("ASYNCDOJO_PYTHON").filter(|p| !p.is_empty()) {
        candidates.push(p.into());
    }
    candidates.push("python3".into());
    for minor in WANTED {
        candidates.push(format!("python3.{minor}").into());
    }
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
    if let Some(root) = &pyenv_root
        && let Ok(entries) = std::fs::read_dir(root.join("versions"))
    {
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path().join("bin").join("python3"))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        candidates.extend(found);
    }
    let mut by_version = BTreeMap::new();
    for program in candidates {
        let Ok(out) = Command::new(&program)
            .args([
                "-c",
                "import sys; print(*sys.version_info[:2], sys.executable)",
            ])
            .stderr(Stdio::null())
            .output()
        else {
            continue;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.trim().splitn(3, ' ');
        let (Some(Ok(major)), Some(Ok(minor)), Some(exe)) = (
            parts.next().map(str::parse::<u32>),
            parts.next().map(str::parse::<u32>),
            parts.next(),
        ) else {
            continue;
        };
        if major != 3 || !WANTED.contains(&minor) {
            continue;
        }
        // The interpreter itself, not a shim in front of it.
        let program = if exe.is_empty() {
            program
        } else {
            PathBuf::from(exe)
        };
        by_version.entry((major, minor)).or_insert(program);
    }
    by_version
}

/// The end of a long output: where unittest's summary and the failures are.
fn tail(text: &str, keep: usize) -> &str {
    let start = text.len().saturating_sub(keep);
    let start = (start..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

#[test]
fn the_script_tracer_suite_passes_on_every_python_from_3_11() {
    let found = interpreters();
    let (supported, old): (Vec<_>, Vec<_>) = found.iter().partition(|(v, _)| **v >= (3, 11));
    if supported.is_empty() {
        assert!(
            !python_required(),
            "no Python 3.11 or later found, and Python is required here"
        );
        eprintln!("skipped: no Python 3.11 or later found");
        return;
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = manifest.join("tests/scripts/test_tracer.py");
    let bundle =
        std::env::temp_dir().join(format!("asyncdojo-script-tracer-{}.py", std::process::id()));
    std::fs::write(&bundle, tracer_source()).expect("write the bundle to the temp dir");
    let old_pythons = std::env::join_paths(old.iter().map(|(_, p)| p.as_path()))
        .expect("interpreter paths without the path separator");
    // Side by side: each suite mostly waits on its interpreters.
    let results: Vec<((u32, u32), Result<std::process::Output, std::io::Error>)> =
        std::thread::scope(|s| {
            let handles: Vec<_> = supported
                .iter()
                .map(|(version, python)| {
                    let (suite, bundle, old_pythons) = (&suite, &bundle, &old_pythons);
                    let version = **version;
                    s.spawn(move || {
                        let out = Command::new(python)
                            .arg("-B")
                            .arg(suite)
                            .env("ASYNCDOJO_TRACER_BUNDLE", bundle)
                            .env("TRACER_OLD_PYTHONS", old_pythons)
                            .stdin(Stdio::null())
                            .output();
                        (version, out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a suite's thread"))
                .collect()
        });
    let _ = std::fs::remove_file(&bundle);
    let mut failures = Vec::new();
    for ((major, minor), out) in results {
        match out {
            Ok(out) if out.status.success() => {
                let err = String::from_utf8_lossy(&out.stderr);
                eprintln!("python {major}.{minor}: {}", tail(err.trim_end(), 200));
            }
            Ok(out) => failures.push(format!(
                "python {major}.{minor}: the script tracer's suite failed ({}):\n{}",
                out.status,
                tail(&String::from_utf8_lossy(&out.stderr), 6000)
            )),
            Err(e) => failures.push(format!("python {major}.{minor}: could not start: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
