//! Every lesson snippet runs or compiles, as lessons/README.md ("Running snippets") says:
//!
//! - A Python `code[]` snippet runs under `python -X dev -W error` on every interpreter found
//!   here within its `run.python` range (default `>=3.11`). It must exit 0 and print no warning, no
//!   "Exception ignored", no "never retrieved" or "destroyed but it is pending", and contain
//!   each text of `run.expect` and of the `run.by_version` entries whose range holds its version.
//! - A Python spot-the-bug snippet with `run.expect` (or `run.by_version`) runs the same way and
//!   must print that text: the failure it teaches. Every other Python snippet is syntax-checked (`compile()`, warnings
//!   as errors).
//! - Every Rust snippet is type-checked (`rustc --emit=metadata`) as its own crate against this
//!   crate's dependencies, the very rlibs in this test's target directory (cargo names them), so
//!   nothing is rebuilt. `code[]` snippets must be free of warnings; a spot-the-bug snippet must
//!   compile, or fail with its `run.expect` text.
//!
//! The generated files stay in `target/<profile>/snippets/` for a look after a failure. Without
//! Python 3.11+ the Python test passes with a message, unless `CI` or `ASYNCDOJO_REQUIRE_PYTHON`
//! is set (as tests/asyncio.rs does).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use asyncdojo::demo::asyncio::python_required;
use asyncdojo::lesson::run::{HARNESSES, PythonRange, RunSpec};
use asyncdojo::lesson::spans::SpanIndex;
use asyncdojo::lesson::{Language, ProblemKind};

/// The Python versions the tests look for; each one missing here is named with a reason.
const WANTED_PYTHONS: std::ops::RangeInclusive<u32> = 10..=14;
/// A snippet that has not finished by then is stopped and reported.
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// Python runs at once: the snippets mostly sleep, so more than the two cores.
const PYTHON_JOBS: usize = 4;
/// The crates a Rust snippet may use: this crate's own dependencies.
const RUST_CRATES: &[&str] = &[
    "tokio",
    "tokio_util",
    "futures",
    "reqwest",
    "sqlx",
    "hyper",
    "bytes",
    "console_subscriber",
];
/// Output that means a run warned even though it exited 0 (warnings raised where they cannot
/// propagate, such as an unawaited coroutine's, are printed as "Exception ignored").
const WARNING_SIGNS: &[&str] = &[
    "Warning: ",
    "Exception ignored",
    "was never retrieved",
    "destroyed but it is pending",
    "never awaited",
];

/// Held by the Python and the Rust test, so the compiler never competes with snippets that
/// measure time (several sleep and then check what happened meanwhile).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Code,
    SpotTheBug,
}

/// One snippet of one lesson.
#[derive(Debug, Clone)]
struct Snippet {
    lesson: String,
    /// `code[0]`, `spot_the_bug[2]`
    path: String,
    /// A file-name-safe name: `q07-timeouts.code0`, `q07-timeouts.guide-timeouts`.
    stem: String,
    role: Role,
    language: Language,
    source: String,
    run: Option<RunSpec>,
    /// `lessons/FILE.yaml` and the line just above the snippet's first line there.
    yaml: String,
    yaml_line0: usize,
}

impl Snippet {
    fn skip(&self) -> Option<&str> {
        self.run.as_ref().and_then(|r| r.skip.as_deref())
    }
    /// Whether the snippet says what its output must contain (on some version at least).
    fn has_expect(&self) -> bool {
        self.run.as_ref().is_some_and(RunSpec::has_expect)
    }
    /// The texts the output must contain on Python `version` (`None` for Rust).
    fn expected(&self, version: Option<(u32, u32)>) -> Vec<&str> {
        self.run
            .as_ref()
            .map(|r| r.expected_texts(version))
            .unwrap_or_default()
    }
    fn given(&self) -> Option<&str> {
        self.run.as_ref().and_then(|r| r.given.as_deref())
    }
    fn then(&self) -> Option<&str> {
        self.run.as_ref().and_then(|r| r.then.as_deref())
    }
    fn harness(&self) -> Option<&str> {
        self.run.as_ref().and_then(|r| r.harness.as_deref())
    }

    /// `q07-timeouts code[0]` and, given a snippet line, where that line is in the YAML.
    fn place(&self, line: Option<usize>) -> String {
        match line {
            Some(n) => format!(
                "{} {}, snippet line {n} ({}:{})",
                self.lesson,
                self.path,
                self.yaml,
                self.yaml_line0 + n
            ),
            None => format!(
                "{} {} ({}:{})",
                self.lesson, self.path, self.yaml, self.yaml_line0
            ),
        }
    }
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every snippet of every shipped lesson.
fn snippets() -> Vec<Snippet> {
    let dir = manifest_dir().join("lessons");
    let set = asyncdojo::lesson::load_dir(&dir, &asyncdojo::demo::Registry).expect("lessons");
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
    let mut out = Vec::new();
    for lesson in &set.lessons {
        let text = std::fs::read_to_string(dir.join(&lesson.file)).expect("lesson file");
        let spans = SpanIndex::build(&text);
        // The index places a block scalar at its text's first line.
        let line0 = |path: &str| spans.value(path).line.saturating_sub(1);
        let yaml = format!("lessons/{}", lesson.file);
        for (i, s) in lesson.code.iter().enumerate() {
            out.push(Snippet {
                lesson: lesson.id.0.clone(),
                path: format!("code[{i}]"),
                stem: format!("{}.code{i}", lesson.id),
                role: Role::Code,
                language: s.language,
                source: s.source.clone(),
                run: s.run.clone(),
                yaml: yaml.clone(),
                yaml_line0: line0(&format!("code[{i}].source")),
            });
        }
        for (i, h) in lesson.spot_the_bug.iter().enumerate() {
            out.push(Snippet {
                lesson: lesson.id.0.clone(),
                path: format!("spot_the_bug[{i}] ({})", h.id),
                stem: format!("{}.{}", lesson.id, h.id),
                role: Role::SpotTheBug,
                language: h.language,
                source: h.code.clone(),
                run: h.run.clone(),
                yaml: yaml.clone(),
                yaml_line0: line0(&format!("spot_the_bug[{i}].code")),
            });
        }
    }
    out
}

/// `target/<profile>/deps`, where this test binary and every rlib it links live.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent().expect("deps dir").to_owned()
}

/// A fresh folder for generated files under `target/<profile>/snippets/`.
fn generated_dir(name: &str) -> PathBuf {
    let dir = deps_dir()
        .parent()
        .expect("profile dir")
        .join("snippets")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the generated snippets dir");
    dir
}

/// Runs `cmd` with a time limit: (exit code, stdout and stderr together), or why it failed.
fn run_limited(mut cmd: Command) -> Result<(Option<i32>, String), String> {
    let out_file = tempfile::tempfile().map_err(|e| e.to_string())?;
    let err_file = out_file.try_clone().map_err(|e| e.to_string())?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not finish in {} s", RUN_LIMIT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    use std::io::{Read, Seek};
    let mut file = out_file;
    let mut output = String::new();
    file.rewind().map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    output.push_str(&String::from_utf8_lossy(&bytes));
    Ok((status.code(), output))
}

/// Runs `jobs` on `n` threads; each returns `Some(failure)` or `None`.
fn in_parallel<T: Sync>(
    jobs: &[T],
    n: usize,
    run: impl Fn(&T) -> Option<String> + Sync,
) -> Vec<String> {
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..n.min(jobs.len()).max(1) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut next = next.lock().unwrap();
                        let i = *next;
                        *next += 1;
                        i
                    };
                    let Some(job) = jobs.get(i) else { break };
                    if let Some(f) = run(job) {
                        failures.lock().unwrap().push(f);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    failures
}

// ---------------------------------------------------------------------------------------------
// Python

#[derive(Debug, Clone)]
struct Interpreter {
    version: (u32, u32),
    program: PathBuf,
}

/// Every Python 3 this machine has, one per minor version, and a line for each wanted version it
/// lacks. Looks at `$ASYNCDOJO_PYTHON`, `python3` and `python3.N` on PATH, and pyenv's versions.
fn interpreters() -> (Vec<Interpreter>, Vec<String>) {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("ASYNCDOJO_PYTHON").filter(|p| !p.is_empty()) {
        candidates.push(p.into());
    }
    candidates.push("python3".into());
    for minor in WANTED_PYTHONS {
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
    let mut by_version: BTreeMap<(u32, u32), Interpreter> = BTreeMap::new();
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
        let (Some(major), Some(minor), Some(exe)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else {
            continue;
        };
        // The interpreter itself, not a shim in front of it: pyenv's costs a shell per run.
        let program = if exe.is_empty() {
            program
        } else {
            PathBuf::from(exe)
        };
        by_version.entry((major, minor)).or_insert(Interpreter {
            version: (major, minor),
            program,
        });
    }
    let lacking = WANTED_PYTHONS
        .filter(|m| !by_version.contains_key(&(3, *m)))
        .map(|m| {
            format!(
                "python 3.{m}: not found ($ASYNCDOJO_PYTHON, python3 and python3.{m} on PATH, {}): \
                 snippets for 3.{m} are not run on it",
                pyenv_root.as_ref().map_or_else(
                    || "no pyenv".to_owned(),
                    |r| format!("{}/versions", r.display())
                )
            )
        })
        .collect();
    let found = by_version
        .into_values()
        .filter(|i| i.version.0 == 3 && WANTED_PYTHONS.contains(&i.version.1))
        .collect();
    (found, lacking)
}

/// The last line of `file` a traceback or warning in `output` points at.
fn line_in(output: &str, file: &Path) -> Option<usize> {
    let name = file.display().to_string();
    let traceback = format!("File \"{name}\", line ");
    let warning = format!("{name}:");
    output.lines().rev().find_map(|l| {
        let rest = l
            .split_once(&traceback)
            .map(|(_, r)| r)
            .or_else(|| l.strip_prefix(&warning))?;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    })
}

/// Compiles the file named by argv[1] as asyncio's REPL (`python -m asyncio`) would read it: a
/// top-level `await` is allowed, since snippets often show lines from inside a coroutine.
const SYNTAX_CHECK: &str = "import ast, sys
with open(sys.argv[1], encoding='utf-8') as f:
    compile(f.read(), sys.argv[1], 'exec', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)";

/// What one Python job does with a snippet on one interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PythonJob {
    Run,
    SyntaxCheck,
}

fn python_job(s: &Snippet) -> PythonJob {
    match (s.role, s.skip(), s.has_expect()) {
        (_, Some(_), _) => PythonJob::SyntaxCheck,
        (Role::Code, None, _) => PythonJob::Run,
        (Role::SpotTheBug, None, true) => PythonJob::Run,
        (Role::SpotTheBug, None, false) => PythonJob::SyntaxCheck,
    }
}

fn run_python(s: &Snippet, py: &Interpreter, dir: &Path) -> Option<String> {
    let v = format!("python {}.{}", py.version.0, py.version.1);
    let file = dir.join(format!("{}.py", s.stem));
    let write = |path: &Path, text: &str| std::fs::write(path, text).expect("write a snippet");
    write(&file, &s.source);
    let mut cmd = Command::new(&py.program);
    cmd.args(["-B", "-X", "dev", "-W", "error"]);
    cmd.env_remove("PYTHONPATH")
        .env_remove("PYTHONWARNINGS")
        .env_remove("PYTHONASYNCIODEBUG");
    if python_job(s) == PythonJob::SyntaxCheck {
        cmd.args(["-c", SYNTAX_CHECK]).arg(&file);
        return match run_limited(cmd) {
            Ok((Some(0), _)) => None,
            Ok((_, out)) => Some(format!(
                "{} [{v}]: does not compile:\n{out}",
                s.place(line_in(&out, &file))
            )),
            Err(e) => Some(format!("{} [{v}]: {e}", s.place(None))),
        };
    }
    if let Some(h) = s.harness() {
        cmd.env(
            "PYTHONPATH",
            manifest_dir().join("tests/snippets/python").join(h),
        );
    }
    if s.given().is_some() || s.then().is_some() {
        let part = |text: Option<&str>, suffix: &str| -> PathBuf {
            match text {
                Some(text) => {
                    let path = dir.join(format!("{}.{suffix}.py", s.stem));
                    write(&path, text);
                    path
                }
                None => PathBuf::new(),
            }
        };
        cmd.arg(manifest_dir().join("tests/snippets/python/runner.py"))
            .arg(part(s.given(), "given"))
            .arg(&file)
            .arg(part(s.then(), "then"));
    } else {
        cmd.arg(&file);
    }
    // Its own working directory: a snippet may write files (the downloader does).
    let cwd = tempfile::tempdir().expect("a temp dir");
    cmd.current_dir(cwd.path());
    let (code, out) = match run_limited(cmd) {
        Ok(done) => done,
        Err(e) => return Some(format!("{} [{v}]: {e}", s.place(None))),
    };
    let fail = |why: String| {
        Some(format!(
            "{} [{v}]: {why}\n{out}",
            s.place(line_in(&out, &file))
        ))
    };
    if let Some(expect) = s
        .expected(Some(py.version))
        .into_iter()
        .find(|e| !out.contains(e))
    {
        return fail(format!("the output does not contain `{expect}`"));
    }
    if s.role == Role::Code {
        if code != Some(0) {
            return fail(format!("exit status {code:?}"));
        }
        if let Some(sign) = WARNING_SIGNS.iter().find(|w| out.contains(*w)) {
            return fail(format!("exited 0 but warned (`{sign}`)"));
        }
    }
    None
}

#[test]
fn python_snippets_run_on_every_interpreter_in_their_range() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let (pythons, lacking) = interpreters();
    for line in &lacking {
        eprintln!("{line}");
    }
    if !pythons.iter().any(|p| p.version >= (3, 11)) {
        let msg = "no Python 3.11 or later found: the Python snippets were not run";
        assert!(
            !python_required(),
            "{msg} (CI or ASYNCDOJO_REQUIRE_PYTHON is set)"
        );
        eprintln!("skipping: {msg}");
        return;
    }
    let all = snippets();
    let mut jobs = Vec::new();
    let mut per_version: BTreeMap<(u32, u32), (usize, usize)> = BTreeMap::new();
    for s in all.iter().filter(|s| s.language == Language::Python) {
        let range = RunSpec::python_range(s.run.as_ref());
        for py in pythons.iter().filter(|p| range.contains(p.version)) {
            let counts = per_version.entry(py.version).or_default();
            match python_job(s) {
                PythonJob::Run => counts.0 += 1,
                PythonJob::SyntaxCheck => counts.1 += 1,
            }
            jobs.push((s, py));
        }
    }
    // The long runs first, so they overlap the short ones.
    jobs.sort_by_key(|(s, _)| python_job(s) == PythonJob::SyntaxCheck);
    let dirs: BTreeMap<(u32, u32), PathBuf> = pythons
        .iter()
        .map(|p| {
            let dir = generated_dir(&format!("python{}.{}", p.version.0, p.version.1));
            (p.version, dir)
        })
        .collect();
    let failed_under_load = Mutex::new(Vec::new());
    in_parallel(&jobs, PYTHON_JOBS, |job| {
        let (s, py) = job;
        let failure = run_python(s, py, &dirs[&py.version]);
        if failure.is_some() {
            failed_under_load.lock().unwrap().push(*job);
        }
        None
    });
    // Several snippets sleep and then check what happened meanwhile, with margins of tens of
    // milliseconds; next to three other runs on a loaded machine those can be missed. A failure
    // counts only if it fails again when run alone; one that passes then is named, not hidden.
    let failures: Vec<String> = failed_under_load
        .into_inner()
        .unwrap()
        .into_iter()
        .filter_map(|(s, py)| {
            let failure = run_python(s, py, &dirs[&py.version]);
            if failure.is_none() {
                eprintln!(
                    "{} [python {}.{}]: failed next to other runs, passed alone",
                    s.place(None),
                    py.version.0,
                    py.version.1
                );
            }
            failure
        })
        .collect();
    for (v, (ran, checked)) in &per_version {
        eprintln!(
            "python {}.{}: {ran} snippets run, {checked} syntax-checked",
            v.0, v.1
        );
    }
    eprintln!("python snippets: {:.1} s", start.elapsed().as_secs_f64());
    assert!(
        failures.is_empty(),
        "{} Python snippet run(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Rust

/// The rlib of each crate in [`RUST_CRATES`] that this test binary was built against, named by
/// cargo itself (a target dir often holds several builds of one crate, for other features).
fn rust_externs() -> BTreeMap<String, PathBuf> {
    let deps = deps_dir();
    let profile_dir = deps.parent().expect("profile dir");
    let target_dir = profile_dir.parent().expect("target dir");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "test",
        "--no-run",
        "--test",
        "snippets",
        "--message-format=json",
    ])
    .arg("--manifest-path")
    .arg(manifest_dir().join("Cargo.toml"))
    .arg("--target-dir")
    .arg(target_dir);
    // The same build as this one, so every unit is fresh.
    if !cfg!(feature = "console") {
        cmd.arg("--no-default-features");
    }
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo to list this test's dependencies");
    assert!(
        out.status.success(),
        "cargo could not list the dependencies"
    );
    let mut externs = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let name = msg["target"]["name"].as_str().unwrap_or_default();
        if msg["reason"] != "compiler-artifact" || !RUST_CRATES.contains(&name) {
            continue;
        }
        let rlib = msg["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".rlib"));
        if let Some(rlib) = rlib {
            let previous = externs.insert(name.to_owned(), PathBuf::from(rlib));
            assert!(
                previous.is_none_or(|p| p == Path::new(rlib)),
                "two builds of `{name}` in this test's dependencies: snippets cannot name one"
            );
        }
    }
    externs
}

fn compile_rust(
    s: &Snippet,
    dir: &Path,
    externs: &BTreeMap<String, PathBuf>,
) -> Result<Option<String>, String> {
    let file = dir.join(format!("{}.rs", s.stem));
    // The snippet first, so the compiler's line numbers are the snippet's own; what it assumes
    // after it (Rust items may come in any order).
    let mut text = s.source.clone();
    if let Some(h) = s.harness() {
        let path = manifest_dir().join(format!("tests/snippets/rust/{h}.rs"));
        text.push('\n');
        text.push_str(&std::fs::read_to_string(&path).expect("the harness file"));
    }
    if let Some(given) = s.given() {
        text.push('\n');
        text.push_str(given);
    }
    std::fs::write(&file, &text).expect("write a snippet");
    let crate_type = if s.source.contains("fn main(") {
        "bin"
    } else {
        "lib"
    };
    let mut cmd = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    cmd.args([
        "--edition",
        "2024",
        "--crate-type",
        crate_type,
        "--crate-name",
        "snippet",
    ])
    .args(["--emit=metadata", "--color=never", "-o"])
    .arg(dir.join(format!("{}.rmeta", s.stem)))
    .arg("-L")
    .arg(format!("dependency={}", deps_dir().display()));
    for (name, rlib) in externs {
        cmd.arg("--extern")
            .arg(format!("{name}={}", rlib.display()));
    }
    match (s.role, s.has_expect()) {
        (Role::Code, _) => {
            cmd.args(["-D", "warnings"]);
        }
        (Role::SpotTheBug, false) => {
            cmd.args(["-A", "warnings"]);
        }
        // Its warnings may be what it teaches.
        (Role::SpotTheBug, true) => {}
    }
    if crate_type == "lib" {
        // Nothing calls a fragment's items.
        cmd.args(["-A", "dead_code"]);
    }
    cmd.arg(&file);
    let (code, out) = run_limited(cmd)?;
    let line = || {
        let marker = format!("{}:", file.display());
        out.lines()
            .find_map(|l| l.split_once(&marker))
            .and_then(|(_, rest)| rest.split(':').next()?.parse().ok())
    };
    let expected = s.expected(None);
    Ok(match expected.iter().find(|e| !out.contains(*e)) {
        Some(expect) => Some(format!(
            "{}: the compiler's output does not contain `{expect}`\n{out}",
            s.place(line())
        )),
        None if !expected.is_empty() => None,
        None if code != Some(0) => Some(format!("{}: does not compile\n{out}", s.place(line()))),
        None => None,
    })
}

#[test]
fn rust_snippets_compile_against_the_crates_dependencies() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let externs = rust_externs();
    let missing: Vec<&&str> = RUST_CRATES
        .iter()
        .filter(|c| !externs.contains_key(**c))
        .collect();
    for name in &missing {
        eprintln!("{name} is not in this build: snippets that use it are not compiled");
    }
    let all = snippets();
    let jobs: Vec<&Snippet> = all
        .iter()
        .filter(|s| s.language == Language::Rust && s.skip().is_none())
        .filter(|s| !missing.iter().any(|c| s.source.contains(&format!("{c}::"))))
        .collect();
    let dir = generated_dir("rust");
    let failures = in_parallel(&jobs, 2, |s| {
        compile_rust(s, &dir, &externs).unwrap_or_else(|e| Some(format!("{}: {e}", s.place(None))))
    });
    eprintln!(
        "rust snippets: {} compiled in {:.1} s",
        jobs.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} Rust snippet(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The fields and the harnesses

#[test]
fn every_harness_has_its_files_and_every_file_is_a_harness() {
    let root = manifest_dir().join("tests/snippets");
    for h in HARNESSES {
        let path = match h.language {
            Language::Python => root.join("python").join(h.name),
            Language::Rust => root.join("rust").join(format!("{}.rs", h.name)),
        };
        assert!(
            path.exists(),
            "harness `{}` has no {}",
            h.name,
            path.display()
        );
    }
    let listed: BTreeSet<String> = HARNESSES.iter().map(|h| h.name.to_owned()).collect();
    for (language, dir) in [("python", root.join("python")), ("rust", root.join("rust"))] {
        for entry in std::fs::read_dir(&dir).expect("harness dir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "runner.py" || name == "__pycache__" {
                continue;
            }
            let name = name.trim_end_matches(".rs").to_owned();
            assert!(
                listed.contains(&name),
                "tests/snippets/{language}/{name} is not in lesson::run::HARNESSES"
            );
        }
    }
}

#[test]
fn every_snippet_that_is_not_run_says_why_and_check_shows_it() {
    let all = snippets();
    let out = Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(["check", "lessons"])
        .current_dir(manifest_dir())
        .output()
        .expect("run asyncdojo check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let mut skipped = 0;
    for s in &all {
        if let Some(reason) = s.skip() {
            skipped += 1;
            let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
            let line = stdout
                .lines()
                .find(|l| l.contains(&format!("not run: {reason}")))
                .unwrap_or_else(|| {
                    panic!(
                        "check does not show why {} is not run:\n{stdout}",
                        s.place(None)
                    )
                });
            assert!(line.starts_with(&s.yaml["lessons/".len()..]), "{line}");
            assert!(line.contains(": info: "), "{line}");
        }
    }
    let info_lines = stdout.lines().filter(|l| l.contains(": info: ")).count();
    assert_eq!(info_lines, skipped, "{stdout}");
    assert!(
        stdout.lines().last().is_some_and(|l| l.starts_with("ok: ")),
        "{stdout}"
    );
}

/// A shipped lesson with `run` fields added to its snippets, parsed as a lesson file.
fn problems_with(python_run: &str, rust_run: &str, bug_run: &str) -> Vec<(String, ProblemKind)> {
    let text =
        std::fs::read_to_string(manifest_dir().join("lessons/q01-sync-vs-async.yaml")).unwrap();
    let mut out = String::new();
    let mut in_bugs = false;
    let mut bug_done = false;
    for line in text.lines() {
        if line == "spot_the_bug:" {
            in_bugs = true;
        }
        // `language:` opens each snippet here; the run field goes right after it.
        out.push_str(line);
        out.push('\n');
        let add = match line.trim() {
            "- language: python" if !in_bugs => python_run,
            "- language: rust" if !in_bugs => rust_run,
            l if in_bugs && !bug_done && l == "language: python" => {
                bug_done = true;
                bug_run
            }
            _ => "",
        };
        if !add.is_empty() {
            let indent = line.len() - line.trim_start().len() + if in_bugs { 0 } else { 2 };
            out.push_str(&format!("{}run: {add}\n", " ".repeat(indent)));
        }
    }
    match asyncdojo::lesson::parse_lesson(
        "q01-sync-vs-async.yaml",
        out.as_bytes(),
        &asyncdojo::demo::Registry,
    ) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.into_iter().map(|p| (p.path, p.kind)).collect(),
    }
}

#[test]
fn run_fields_are_checked_like_every_other_field() {
    assert_eq!(
        problems_with(
            "{ python: \">=3.11\" }",
            "{ harness: rand-stand-in }",
            "{ expect: NameError }"
        ),
        vec![]
    );
    assert_eq!(
        problems_with(
            "{ expect: [one, two], by_version: [{ python: \">=3.13\", expect: [three] }] }",
            "",
            "{ by_version: [{ python: \"<3.12\", expect: NameError }] }"
        ),
        vec![]
    );
    let cases: &[(&str, &str, &str, &str, ProblemKind)] = &[
        (
            "{ pyhton: \">=3.11\" }",
            "",
            "",
            "code[0].run.pyhton",
            ProblemKind::UnknownField,
        ),
        (
            "{ harness: aiohtp }",
            "",
            "",
            "code[0].run.harness",
            ProblemKind::UnknownHarness,
        ),
        (
            "{ harness: rand-stand-in }",
            "",
            "",
            "code[0].run.harness",
            ProblemKind::Inconsistent,
        ),
        (
            "",
            "{ python: \">=3.11\" }",
            "",
            "code[1].run.python",
            ProblemKind::Inconsistent,
        ),
        (
            "",
            "{ then: main() }",
            "",
            "code[1].run.then",
            ProblemKind::Inconsistent,
        ),
        (
            "{ python: \"3.11\" }",
            "",
            "",
            "code[0].run.python",
            ProblemKind::WrongType,
        ),
        (
            "{ skip: offline, expect: x }",
            "",
            "",
            "code[0].run.expect",
            ProblemKind::Inconsistent,
        ),
        (
            "{ expect: [] }",
            "",
            "",
            "code[0].run.expect",
            ProblemKind::EmptyText,
        ),
        (
            "{ by_version: [{ python: \"3.13\", expect: x }] }",
            "",
            "",
            "code[0].run.by_version[0].python",
            ProblemKind::WrongType,
        ),
        (
            "{ by_version: [{ python: \">=3.13\", expct: x }] }",
            "",
            "",
            "code[0].run.by_version[0].expct",
            ProblemKind::UnknownField,
        ),
        (
            "",
            "{ by_version: [{ python: \">=3.13\", expect: x }] }",
            "",
            "code[1].run.by_version",
            ProblemKind::Inconsistent,
        ),
        (
            "{ skip: offline, by_version: [{ python: \">=3.13\", expect: x }] }",
            "",
            "",
            "code[0].run.by_version",
            ProblemKind::Inconsistent,
        ),
        (
            "{ skip: \"\" }",
            "",
            "",
            "code[0].run.skip",
            ProblemKind::EmptyText,
        ),
        (
            "",
            "",
            "{ python: \">=3.11\" }",
            "spot_the_bug[0].run",
            ProblemKind::MissingField,
        ),
    ];
    for (py, rs, bug, path, kind) in cases {
        let problems = problems_with(py, rs, bug);
        assert!(
            problems.iter().any(|(p, k)| p == path && k == kind),
            "{py} / {rs} / {bug}: expected {kind:?} at {path}, got {problems:?}"
        );
    }
}

#[test]
fn failures_point_at_the_right_yaml_line() {
    for s in snippets() {
        let text = std::fs::read_to_string(manifest_dir().join(&s.yaml)).unwrap();
        let first = s.source.lines().next().unwrap_or_default().trim();
        let at = text.lines().nth(s.yaml_line0).unwrap_or_default().trim();
        assert_eq!(at, first, "{}", s.place(Some(1)));
    }
}

#[test]
fn a_python_range_is_read_as_written() {
    let r = PythonRange::parse(">=3.12,<3.14").unwrap();
    assert!(!r.contains((3, 11)) && r.contains((3, 13)) && !r.contains((3, 14)));
}
