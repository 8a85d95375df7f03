//! The twin harness and the tracer package around the twins: every twin refuses a variant, a
//! parameter or an argument key it does not have (naming the valid ones), the Python under twins/
//! compiles and names nothing it does not define, the public `dojo` API has type hints, and no
//! twin file outlives asyncdojo however it ends. (That
//! every twin has a conformance test is checked next to those tests, in tests/asyncio.rs.)
//!
//! The tests that run Python need 3.11 or later. Without one they print why and pass, unless
//! `CI` or `ASYNCDOJO_REQUIRE_PYTHON` is set: then they fail, as in tests/asyncio.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use asyncdojo::demo::asyncio::{self, Python};

/// The interpreter the tests use (see `asyncio::for_tests`).
fn python() -> Option<&'static Python> {
    asyncdojo::demo::asyncio::for_tests()
}

fn twins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("twins")
}

/// A twin run by hand from the repository, as a learner would (`python3 twins/gather.py ARGS`,
/// the `dojo` package beside it), writing no bytecode into the checkout.
fn by_hand(py: &Python, file: &str, args: &str) -> Output {
    Command::new(&py.program)
        .args(["-B", "-S"])
        .arg(twins_dir().join(file))
        .arg(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---- variants and parameters -----------------------------------------------------------------

/// Before the harness checked them, gather ran nothing for an unknown variant and scheduler ran
/// another one, both exiting 0.
#[test]
fn an_unknown_variant_fails_and_names_every_valid_one_in_every_twin() {
    let Some(py) = python() else { return };
    for twin in asyncio::twins() {
        let out = by_hand(py, twin.file, r#"{"variants": ["no-such-variant"]}"#);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", twin.file);
        assert!(out.stdout.is_empty(), "{}: ran something", twin.file);
        let runnable: Vec<&str> = twin.runnable().map(|v| v.name).collect();
        assert_eq!(
            stderr.trim_end(),
            format!(
                "dojo: {} has no variant `no-such-variant`: its variants are {}",
                twin.file,
                runnable.join(", ")
            ),
            "the twin declares exactly the variants asyncdojo runs on asyncio"
        );
    }
}

/// A mistyped key of the argument object (`variant` for `variants`) used to be ignored: the twin
/// ran its default variant and exited 0, as if it had been asked for that one.
#[test]
fn an_unknown_argument_key_fails_and_names_the_keys_in_every_twin() {
    let Some(py) = python() else { return };
    let keys = "variants, params, clock, demo, lines, watch_stdin, strict";
    for twin in asyncio::twins() {
        for (args, named) in [
            (r#"{"variant": "no-such-variant"}"#, "key `variant`"),
            (r#"{"foo": 1, "bar": 2}"#, "keys `foo`, `bar`"),
        ] {
            let out = by_hand(py, twin.file, args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{} {args}: {stderr}", twin.file);
            assert!(out.stdout.is_empty(), "{} {args}: ran something", twin.file);
            assert_eq!(
                stderr.trim_end(),
                format!(
                    "dojo: {}: its argument has no {named}: the keys it takes are {keys}",
                    twin.file
                )
            );
        }
    }
}

#[test]
fn a_parameter_the_twin_does_not_take_is_refused_by_name() {
    let Some(py) = python() else { return };
    let out = by_hand(py, "gather.py", r#"{"params": {"latency_ms": [5]}}"#);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "dojo: gather.py has no parameter `latency_ms`: its parameters are latencies_ms"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_parameter_of_the_wrong_type_is_refused_by_name() {
    let Some(py) = python() else { return };
    let cases = [
        (
            "semaphore.py",
            r#"{"params": {"tasks": "8"}}"#,
            "dojo: semaphore.py: parameter `tasks` is a whole number, not \"8\"",
        ),
        (
            "gather.py",
            r#"{"params": {"latencies_ms": [5, "ten"]}}"#,
            "dojo: gather.py: parameter `latencies_ms` is a list whose every item is a whole \
             number, not [5, \"ten\"]",
        ),
        (
            "retry-backoff.py",
            r#"{"params": {"jitter": 1}}"#,
            "dojo: retry-backoff.py: parameter `jitter` is text, not 1",
        ),
    ];
    for (file, args, message) in cases {
        let out = by_hand(py, file, args);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert_eq!(text(&out.stderr).trim_end(), message);
    }
}

/// asyncdojo passes every parameter of the demo and asks for all of them (`strict`): a twin
/// parameter the demo does not have (a typo on either side) fails instead of silently taking
/// its default. By hand, what is not given takes its default.
#[test]
fn under_asyncdojo_a_missing_parameter_is_an_error_naming_it() {
    let Some(py) = python() else { return };
    let partial = r#"{"params": {"tasks": 2, "permits": 1}}"#;
    let out = by_hand(py, "semaphore.py", partial);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["params"]["work_ms"], 100, "the default stands in");

    let strict = r#"{"strict": true, "params": {"tasks": 2, "permits": 1}}"#;
    let out = by_hand(py, "semaphore.py", strict);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("dojo: semaphore.py: parameter `work_ms` not given"),
        "{stderr}"
    );
}

// ---- the Python itself -----------------------------------------------------------------------

/// Byte-compiles each file and reports the names it uses that nothing defines (a typo, a missing
/// import) and `__all__` entries that do not exist. Standard library only: `symtable` is the
/// compiler's own view of which scope each name resolves in.
const CHECK: &str = r#"
import ast
import builtins
import symtable
import sys

ALWAYS = set(dir(builtins)) | {
    "__name__", "__file__", "__doc__", "__builtins__", "__spec__", "__loader__", "__package__",
    "__path__", "__annotations__", "__class__", "__dict__", "__module__", "__qualname__",
}


def problems(path, source):
    try:
        compile(source, path, "exec", dont_inherit=True)
        top = symtable.symtable(source, path, "exec")
    except SyntaxError as e:
        return ["%s:%s: %s" % (path, e.lineno, e.msg)]
    defined = set(ALWAYS)
    tables, everything = [top], []
    while tables:
        t = tables.pop()
        everything.append(t)
        tables.extend(t.get_children())
        for s in t.get_symbols():
            at_top = t is top and (s.is_assigned() or s.is_imported())
            if at_top or (s.is_declared_global() and s.is_assigned()):
                defined.add(s.get_name())
    tree = ast.parse(source, path)
    lines = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            lines.setdefault(node.id, node.lineno)
    found = []
    for t in everything:
        for s in t.get_symbols():
            name = s.get_name()
            if not s.is_referenced() or name in defined:
                continue
            unresolved = s.is_global() or (t is top and not s.is_assigned())
            if t.get_type() == "class" and not (s.is_assigned() or s.is_free()):
                unresolved = True
            if unresolved:
                line = lines.get(name, t.get_lineno())
                found.append("%s:%s: undefined name `%s`" % (path, line, name))
    for node in tree.body:
        names_all = isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        )
        if names_all and isinstance(node.value, (ast.List, ast.Tuple)):
            for item in node.value.elts:
                if isinstance(item, ast.Constant) and item.value not in defined:
                    found.append(
                        "%s:%s: `%s` in __all__ is not defined" % (path, item.lineno, item.value)
                    )
    return sorted(set(found))


found = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        found.extend(problems(path, f.read()))
for line in found:
    print(line)
sys.exit(1 if found else 0)
"#;

/// One of the Python checks here (`CHECK`, `HINTS`) over `files`, on the twins' interpreter.
fn python_check(py: &Python, script: &str, files: &[PathBuf]) -> Output {
    Command::new(&py.program)
        .args(["-I", "-S", "-B", "-c", script])
        .args(files)
        .output()
        .unwrap()
}

fn python_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            python_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "py") {
            into.push(path);
        }
    }
}

/// What CI checks of the Python: it runs in `cargo test` on the interpreter the twins run on,
/// with nothing to install.
#[test]
fn every_python_file_under_twins_compiles_and_names_only_what_it_defines() {
    let Some(py) = python() else { return };
    let mut files = Vec::new();
    python_files(&twins_dir(), &mut files);
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(twins_dir()).unwrap().display().to_string())
        .collect();
    for expected in [
        "gather.py",
        "dojo/__init__.py",
        "dojo/core.py",
        "dojo/harness.py",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} checked");
    }
    let out = python_check(py, CHECK, &files);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The tracer as asyncdojo runs it (one file, generated) is checked too.
    let dir = tempfile::tempdir().unwrap();
    let bundled = dir.path().join("dojo.py");
    std::fs::write(&bundled, asyncio::tracer_source()).unwrap();
    let out = python_check(py, CHECK, &[bundled]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn the_python_check_finds_an_undefined_name_and_a_syntax_error() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.py");
    std::fs::write(
        &typo,
        "import asyncio\n__all__ = [\"main\", \"gone\"]\n\n\nasync def main(delay_ms=5):\n    \
         await asyncio.sleep(delay_sm / 1000)\n    return [x for x in range(3) if x > limt]\n",
    )
    .unwrap();
    let broken = dir.path().join("broken.py");
    std::fs::write(&broken, "def main(:\n    pass\n").unwrap();
    let out = python_check(py, CHECK, &[typo.clone(), broken.clone()]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    let t = typo.display();
    assert!(
        report.contains(&format!("{t}:6: undefined name `delay_sm`")),
        "{report}"
    );
    assert!(
        report.contains(&format!("{t}:7: undefined name `limt`")),
        "{report}"
    );
    assert!(
        report.contains(&format!("{t}:2: `gone` in __all__ is not defined")),
        "{report}"
    );
    assert!(
        report.contains(&format!("{}:1: ", broken.display())),
        "{report}"
    );
    assert_eq!(report.lines().count(), 4, "{report}");
}

/// Reports each public function or method (a top-level name without a leading underscore, and
/// the methods of such classes, `__init__` included) with a parameter or a return that has no
/// type annotation: the `dojo` API a twin author reads is typed. `ast` only, nothing to install.
const HINTS: &str = r#"
import ast
import sys


def untyped(path, source):
    found = []

    def check(fn, where, method):
        a = fn.args
        params = a.posonlyargs + a.args + a.kwonlyargs
        static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)
        if method and not static:
            params = params[1:]
        params += [p for p in (a.vararg, a.kwarg) if p is not None]
        bare = [p.arg for p in params if p.annotation is None]
        if bare:
            found.append("%s:%s: %s: no type for %s"
                         % (path, fn.lineno, where, ", ".join("`%s`" % b for b in bare)))
        if fn.returns is None:
            found.append("%s:%s: %s: no return type" % (path, fn.lineno, where))

    defs = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.parse(source, path).body:
        if isinstance(node, defs) and not node.name.startswith("_"):
            check(node, node.name, False)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if not isinstance(item, defs):
                    continue
                if not item.name.startswith("_") or item.name == "__init__":
                    check(item, "%s.%s" % (node.name, item.name), True)
    return found


found = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        found.extend(untyped(path, f.read()))
for line in found:
    print(line)
sys.exit(1 if found else 0)
"#;

#[test]
fn the_public_dojo_api_has_type_hints() {
    let Some(py) = python() else { return };
    let files: Vec<PathBuf> = ["__init__.py", "core.py", "harness.py", "script.py"]
        .iter()
        .map(|f| twins_dir().join("dojo").join(f))
        .collect();
    let out = python_check(py, HINTS, &files);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn the_type_hint_check_finds_a_bare_parameter_and_a_missing_return() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api.py");
    std::fs::write(
        &file,
        "def typed(a: int, *rest: str, **kw: float) -> None:\n    pass\n\n\n\
         def _private(a):\n    pass\n\n\n\
         def bare(a, b: int, *rest):\n    pass\n\n\n\
         class Thing:\n    def __init__(self, x) -> None:\n        pass\n\n    \
         def ok(self, y: int) -> int:\n        return y\n\n    \
         def _inner(self, z):\n        pass\n\n    \
         @staticmethod\n    def make(x: int):\n        pass\n",
    )
    .unwrap();
    let out = python_check(py, HINTS, std::slice::from_ref(&file));
    assert_eq!(out.status.code(), Some(1));
    let f = file.display();
    assert_eq!(
        text(&out.stdout),
        format!(
            "{f}:9: bare: no type for `a`, `rest`\n{f}:9: bare: no return type\n\
             {f}:14: Thing.__init__: no type for `x`\n{f}:24: Thing.make: no return type\n"
        )
    );
}

// ---- nothing outlives asyncdojo --------------------------------------------------------------

/// Processes whose environment holds `TMPDIR=dir`: the runs this test started.
#[cfg(target_os = "linux")]
fn processes_using(dir: &Path) -> Vec<String> {
    let needle = format!("TMPDIR={}", dir.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(env) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmd: Vec<String> = cmd
                .split(|b| *b == 0)
                .take(3)
                .map(|a| text(a).chars().take(40).collect())
                .collect();
            found.push(format!(
                "{}: {}",
                entry.file_name().to_string_lossy(),
                cmd.join(" ")
            ));
        }
    }
    found
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Wait up to `limit` for `done`, checking every 10 ms.
fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

/// asyncdojo killed (`kill -9`), hung up on (SIGHUP, a closed terminal) or interrupted (Ctrl-C)
/// while a real-clock twin runs: no twin file is left in the temp dir, not even the twin's own
/// working directory, and no process of the run lives on; the next start leaves nothing either.
/// (asyncdojo used to write the tracer and the twin to an `asyncdojo-twin-*` directory that only
/// a normal exit removed, and the twin exited on the spot, leaving its own directory.)
#[cfg(target_os = "linux")]
#[test]
fn no_twin_file_outlives_asyncdojo() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    for signal in ["KILL", "HUP", "INT"] {
        // 200 items of 100 ms on one worker: 20 s, far longer than the test waits.
        let mut asyncdojo = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
            .args(["run", "pipeline", "--runtime", "asyncio", "--clock", "real"])
            .args([
                "--set",
                "items=200",
                "--set",
                "work_ms=100",
                "--set",
                "workers=1",
            ])
            .arg("--python")
            .arg(&py.program)
            .env("TMPDIR", tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The twin is running once its own working directory exists.
        let running = within(Duration::from_secs(20), || {
            entries(tmp)
                .iter()
                .any(|e| e.starts_with("asyncdojo-pipeline-"))
        });
        assert!(
            running,
            "SIG{signal}: the twin never started: {:?}",
            entries(tmp)
        );
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &asyncdojo.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let _ = asyncdojo.wait();
        let clean = within(Duration::from_secs(5), || {
            entries(tmp).is_empty() && processes_using(tmp).is_empty()
        });
        assert!(
            clean,
            "after SIG{signal}: left {:?}, still running {:?}",
            entries(tmp),
            processes_using(tmp)
        );
    }
    // The next start runs a twin and leaves nothing behind either.
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(["run", "gather", "--runtime", "asyncio", "--python"])
        .arg(&py.program)
        .env("TMPDIR", tmp)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(entries(tmp), Vec::<String>::new());
}
