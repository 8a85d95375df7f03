//! Which Python runs the twins, and whether it can.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::AsyncioError;

/// The environment variable that names the interpreter when `--python` is not given.
pub const PYTHON_ENV: &str = "ASYNCDOJO_PYTHON";

/// The oldest Python the tracer supports: `asyncio.TaskGroup` and `asyncio.timeout` are 3.11's.
pub const MIN_VERSION: (u32, u32) = (3, 11);

/// Whether tests that need Python must fail, not skip, when it is missing: CI sets `CI` (and
/// `.ci/run` sets `ASYNCDOJO_REQUIRE_PYTHON`), so a machine without Python 3.11+ cannot pass CI by
/// skipping the asyncio tests.
pub fn python_required() -> bool {
    ["CI", "ASYNCDOJO_REQUIRE_PYTHON"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// The interpreter tests that need Python use, probed once; `None` (with a line saying why)
/// when there is none and that is allowed. Under [`python_required`] a missing one fails the
/// test instead, so CI cannot pass by skipping. One place for every test file's check.
pub fn for_tests() -> Option<&'static Python> {
    static FOUND: std::sync::OnceLock<Result<Python, String>> = std::sync::OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let py = Python::choose(None);
        py.probe().map(|_| py).map_err(|e| e.to_string())
    });
    match found {
        Ok(py) => Some(py),
        Err(e) => {
            assert!(
                !python_required(),
                "{e}\n(CI or ASYNCDOJO_REQUIRE_PYTHON is set: the asyncio tests must run)"
            );
            eprintln!("skipping a test that needs Python: {e}");
            None
        }
    }
}

/// Where the interpreter's name came from, so a message can say what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PythonOrigin {
    /// `--python PATH`
    Flag,
    /// `$ASYNCDOJO_PYTHON`
    Env,
    /// `python3` looked up on PATH
    Path,
}

impl PythonOrigin {
    pub fn describe(self) -> &'static str {
        match self {
            PythonOrigin::Flag => "from --python",
            PythonOrigin::Env => "from ASYNCDOJO_PYTHON",
            PythonOrigin::Path => "on PATH",
        }
    }
}

/// The interpreter twins run on. Choosing one does not run it; [`Python::probe`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Python {
    pub program: PathBuf,
    pub origin: PythonOrigin,
}

/// What `probe` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonInfo {
    /// `3.11.7`
    pub version: String,
    /// The interpreter's own path (`sys.executable`): a shim such as pyenv's resolves to it.
    pub executable: PathBuf,
}

/// A path as the learner meant it: relative to the directory asyncdojo was started in, made
/// absolute once at start so it means the same wherever a run later starts the interpreter. A
/// bare name (`python3.12`) is left to be found on PATH.
fn from_here(p: &Path) -> PathBuf {
    if p.is_absolute() || p.components().count() < 2 {
        return p.to_owned();
    }
    match std::env::current_dir() {
        Ok(here) => here.join(p),
        Err(_) => p.to_owned(),
    }
}

/// The interpreter of this process, chosen once: the app, practice and `run` all use it.
static CHOSEN: std::sync::OnceLock<Python> = std::sync::OnceLock::new();

impl Python {
    /// Choose this process's interpreter from `--python` (else the environment, else
    /// `python3`), once, at start: later calls keep the first choice.
    pub fn choose_for_process(flag: Option<&Path>) -> &'static Python {
        CHOSEN.get_or_init(|| Python::choose(flag))
    }

    /// This process's interpreter (chosen from the environment if start-up did not choose).
    pub fn chosen() -> Python {
        Python::choose_for_process(None).clone()
    }

    /// `--python PATH` if given, else `$ASYNCDOJO_PYTHON` if set and not empty, else `python3`.
    pub fn choose(flag: Option<&Path>) -> Python {
        Python::choose_with(flag, std::env::var_os(PYTHON_ENV))
    }

    fn choose_with(flag: Option<&Path>, env: Option<OsString>) -> Python {
        if let Some(p) = flag {
            return Python {
                program: from_here(p),
                origin: PythonOrigin::Flag,
            };
        }
        match env {
            Some(p) if !p.is_empty() => Python {
                program: from_here(Path::new(&p)),
                origin: PythonOrigin::Env,
            },
            _ => Python {
                program: PathBuf::from("python3"),
                origin: PythonOrigin::Path,
            },
        }
    }

    /// `python3 (on PATH)`, `/opt/py/bin/python (from --python)`.
    pub fn describe(&self) -> String {
        format!("`{}` ({})", self.program.display(), self.origin.describe())
    }

    /// The interpreter started with the flags twins use: isolated from the user's environment
    /// and site-packages (`-I -S`), and writing no bytecode (`-B`).
    pub(super) fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(["-I", "-S", "-B"]);
        cmd
    }

    /// Run the interpreter once to learn its version: the check `asyncdojo` does before it
    /// offers asyncio runs.
    pub fn probe(&self) -> Result<PythonInfo, AsyncioError> {
        let out = self
            .command()
            .args([
                "-c",
                "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.cannot_start(&e))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let version = lines.next().unwrap_or("").trim().to_owned();
        let executable = PathBuf::from(lines.next().unwrap_or("").trim());
        if !out.status.success() || parse_version(&version).is_none() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(AsyncioError::PythonBroken {
                python: self.describe(),
                reason: first_line(&stderr).unwrap_or_else(|| out.status.to_string()),
            });
        }
        self.check_version(&version)?;
        Ok(PythonInfo {
            version,
            executable,
        })
    }

    /// Probe once and point at the interpreter itself (`sys.executable`): a pyenv-style shim
    /// costs its own start-up (~90 ms here) on every run; the app resolves once per session.
    pub fn resolve(&self) -> Result<(Python, PythonInfo), AsyncioError> {
        let info = self.probe()?;
        let program = if info.executable.as_os_str().is_empty() {
            self.program.clone()
        } else {
            info.executable.clone()
        };
        Ok((
            Python {
                program,
                origin: self.origin,
            },
            info,
        ))
    }

    pub(super) fn check_version(&self, version: &str) -> Result<(), AsyncioError> {
        match parse_version(version) {
            Some(v) if v >= MIN_VERSION => Ok(()),
            _ => Err(AsyncioError::PythonTooOld {
                python: self.describe(),
                found: version.to_owned(),
            }),
        }
    }

    pub(super) fn cannot_start(&self, err: &std::io::Error) -> AsyncioError {
        if err.kind() == std::io::ErrorKind::NotFound {
            AsyncioError::PythonNotFound {
                python: self.describe(),
            }
        } else {
            AsyncioError::PythonBroken {
                python: self.describe(),
                reason: err.to_string(),
            }
        }
    }
}

/// `3.11.7` → (3, 11); `3.13.0rc1` → (3, 13).
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor_text: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor_text.parse().ok()?))
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(|l| crate::text::sanitize(l).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_over_env_which_wins_over_path() {
        let flag = Python::choose_with(Some(Path::new("/x/py")), Some("/y/py".into()));
        assert_eq!(flag.origin, PythonOrigin::Flag);
        assert_eq!(flag.program, PathBuf::from("/x/py"));
        let env = Python::choose_with(None, Some("/y/py".into()));
        assert_eq!(env.origin, PythonOrigin::Env);
        let default = Python::choose_with(None, Some("".into()));
        assert_eq!(default.origin, PythonOrigin::Path);
        assert_eq!(default.program, PathBuf::from("python3"));
    }

    #[test]
    fn a_relative_path_means_from_where_asyncdojo_started_and_a_bare_name_is_looked_up() {
        let here = std::env::current_dir().expect("cwd");
        let venv = Python::choose_with(Some(Path::new("./venv/bin/python")), None);
        assert_eq!(venv.program, here.join("./venv/bin/python"));
        let env = Python::choose_with(None, Some(".venv/bin/python".into()));
        assert_eq!(env.program, here.join(".venv/bin/python"));
        let bare = Python::choose_with(Some(Path::new("python3.12")), None);
        assert_eq!(bare.program, PathBuf::from("python3.12"), "found on PATH");
    }

    #[test]
    fn versions_compare_by_major_and_minor() {
        assert_eq!(parse_version("3.11.7"), Some((3, 11)));
        assert_eq!(parse_version("3.13.0rc1"), Some((3, 13)));
        assert_eq!(parse_version("3.9"), Some((3, 9)));
        assert_eq!(parse_version("garbage"), None);
        let py = Python::choose_with(None, None);
        assert!(py.check_version("3.11.0").is_ok());
        assert!(py.check_version("3.14.1").is_ok());
        let err = py.check_version("3.10.12").unwrap_err().to_string();
        assert!(err.contains("3.10.12"), "{err}");
        assert!(err.contains("--python"), "{err}");
    }

    #[test]
    fn a_missing_interpreter_names_itself_and_the_way_out() {
        let py = Python::choose_with(Some(Path::new("/nonexistent/python3.99")), None);
        let err = py.probe().unwrap_err();
        assert!(
            matches!(err, AsyncioError::PythonNotFound { .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/python3.99"), "{msg}");
        assert!(msg.contains("from --python"), "{msg}");
        assert!(msg.contains("ASYNCDOJO_PYTHON"), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
    }
}
