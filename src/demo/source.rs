//! The part of a demo's own source file that lessons show: what you read is what runs.
// TRANSITION: the region markers go with the last demo not yet split into a shown file; then
// lessons show `DemoSpec::source` whole.

/// The lines between `// region:demo` and `// endregion:demo`, and the file line of the marker
/// (so `line!()` inside the region minus this number is the 1-based line in the region).
pub fn region(source: &str) -> (u32, &str) {
    let mut start_line = 0;
    let mut start_byte = None;
    let mut offset = 0;
    for (i, line) in source.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        if start_byte.is_none() && trimmed == "// region:demo" {
            start_line = i as u32 + 1;
            start_byte = Some(offset + line.len());
        } else if let Some(begin) = start_byte
            && trimmed == "// endregion:demo"
        {
            return (start_line, &source[begin..offset]);
        }
        offset += line.len();
    }
    match start_byte {
        Some(begin) => (start_line, &source[begin..]),
        None => (0, source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_is_the_text_between_the_markers() {
        let src = "use x;\n// region:demo\nfn a() {}\nfn b() {}\n// endregion:demo\nmod tests {}\n";
        let (start, text) = region(src);
        assert_eq!(start, 2);
        assert_eq!(text, "fn a() {}\nfn b() {}\n");
    }

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
            let (_, text) = region(spec.source);
            assert!(
                text.lines().count() >= 5,
                "{}'s shown code is too short",
                spec.id
            );
        }
    }
}
