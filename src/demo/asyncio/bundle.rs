//! The tracer as asyncdojo hands it to the interpreter: the package `twins/dojo/` as one file,
//! `dojo.py`, whose modules are held as text and served from memory, and the small `-c` program
//! that reads it and the twin from stdin (`twins/dojo/_boot.py`).

use std::sync::OnceLock;

/// The `-c` program a twin starts with: `BUNDLE_LEN TWIN_LEN TWIN_FILE ARGS_JSON` follow it, and
/// stdin carries the bundle and the twin's source.
pub(super) const BOOT: &str = include_str!("../../../twins/dojo/_boot.py");

/// The one-file form, with `MARKER` where the modules go.
const TEMPLATE: &str = include_str!("../../../twins/dojo/_bundle.py");
const MARKER: &str = "_SOURCES = {}\n";

/// The package's modules: (module, file under `twins/`, source).
const MODULES: &[(&str, &str, &str)] = &[
    (
        "dojo",
        "dojo/__init__.py",
        include_str!("../../../twins/dojo/__init__.py"),
    ),
    (
        "dojo.core",
        "dojo/core.py",
        include_str!("../../../twins/dojo/core.py"),
    ),
    (
        "dojo.harness",
        "dojo/harness.py",
        include_str!("../../../twins/dojo/harness.py"),
    ),
    (
        "dojo.script",
        "dojo/script.py",
        include_str!("../../../twins/dojo/script.py"),
    ),
];

/// `dojo.py`, built once.
pub(super) fn tracer() -> &'static str {
    static TRACER: OnceLock<String> = OnceLock::new();
    TRACER.get_or_init(build)
}

fn build() -> String {
    let mut table = String::from("_SOURCES = {\n");
    for (module, file, source) in MODULES {
        // Each file is named `<asyncdojo>/dojo/...` in tracebacks: no file on disk has that name,
        // so Python asks the loader for the lines instead of reading some other file.
        let name = format!("<asyncdojo>/{file}");
        table.push_str(&format!(
            "    {}: ({}, {}),\n",
            literal(module),
            literal(&name),
            literal(source)
        ));
    }
    table.push_str("}\n");
    TEMPLATE.replacen(MARKER, &table, 1)
}

/// A Python string literal: a JSON string is one, with the same escapes.
fn literal(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_holds_every_module_of_the_package() {
        assert_eq!(TEMPLATE.matches(MARKER).count(), 1);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("twins/dojo");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("twins/dojo")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| {
                n.ends_with(".py")
                    && !["_boot.py", "_boot_script.py", "_bundle.py"].contains(&n.as_str())
            })
            .collect();
        on_disk.sort();
        let mut listed: Vec<&str> = MODULES
            .iter()
            .map(|(_, f, _)| f.trim_start_matches("dojo/"))
            .collect();
        listed.sort();
        assert_eq!(
            on_disk, listed,
            "every module of twins/dojo/ is in the bundle"
        );
        let tracer = tracer();
        assert!(!tracer.contains(MARKER));
        for (module, _, source) in MODULES {
            assert!(tracer.contains(&format!("{}: (", literal(module))));
            assert!(tracer.contains(&literal(source)));
        }
    }

    #[test]
    fn a_python_literal_keeps_quotes_backslashes_and_newlines() {
        assert_eq!(literal("a \"b\" \\ c\n\té"), r#""a \"b\" \\ c\n\té""#);
    }
}
