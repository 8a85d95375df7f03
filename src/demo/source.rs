//! What you read is what runs: each demo's `DemoSpec::source` is the whole file its program runs
//! from (`<demo>/shown.rs`), included at build time, and the lines marks carry are lines of it.

#[cfg(test)]
mod tests {
    #[test]
    fn every_demo_shows_the_file_its_marks_point_into() {
        for demo in crate::demo::registry() {
            let spec = demo.spec();
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(spec.source_file);
            let on_disk = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", spec.id, path.display()));
            assert_eq!(
                on_disk, spec.source,
                "{}: source_file is not the source",
                spec.id
            );
            assert!(
                spec.source.lines().count() >= 5,
                "{}'s shown code is too short",
                spec.id
            );
            assert!(
                !spec.source.contains("// region:demo"),
                "{}: the whole shown file is shown; region markers are gone",
                spec.id
            );
        }
    }
}
