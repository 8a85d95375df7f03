//! Embeds the shipped lessons (`lessons/*.yaml`) in the binary, so `asyncdojo` works from any
//! directory after `cargo install`. The list is generated so a new lesson file needs no code change.
//!
//! Each lesson is also embedded as JSON converted here, once: parsing YAML is most of what loading
//! costs at start-up, and the same data as JSON parses several times faster (the shipped set from
//! YAML alone is over the 5 ms start-up budget: `cargo bench --bench lessons` compares the two).
//! The YAML stays the source of truth: at run time the JSON is only a faster way to the same typed
//! values (a test checks they agree), the lesson is validated as usual, and any problem sends the
//! loader back to the YAML to report it with its place. A file that does not convert is embedded
//! without JSON.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("lessons");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut out = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let json = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| yaml_serde::from_str::<serde_json::Value>(&text).ok())
            .map(|value| value.to_string())
            .unwrap_or_default();
        let json_path = Path::new(&out_dir).join(format!("{name}.json"));
        std::fs::write(&json_path, json).expect("OUT_DIR is writable");
        out.push_str(&format!(
            "    ({name:?}, include_bytes!({:?}), include_str!({:?})),\n",
            path.display().to_string(),
            json_path.display().to_string()
        ));
    }
    out.push_str("]\n");
    std::fs::write(Path::new(&out_dir).join("embedded_lessons.rs"), out)
        .expect("OUT_DIR is writable");
}
