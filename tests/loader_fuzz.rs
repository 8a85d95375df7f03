//! The loader never panics, whatever the bytes.

use asyncdojo::demo::Registry;
use asyncdojo::lesson;
use proptest::prelude::*;

const VALID: &str = include_str!("fixtures/valid/q01-sync-vs-async.yaml");

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = lesson::parse_lesson("fuzz.yaml", &bytes, &Registry);
    }

    /// Mutations of a valid lesson reach deep into validation, not just the YAML parser.
    #[test]
    fn mutated_lessons_never_panic(
        edits in proptest::collection::vec((0..VALID.len(), any::<u8>()), 1..8),
        cut in 0..VALID.len(),
    ) {
        let mut bytes = VALID.as_bytes().to_vec();
        for (at, byte) in edits {
            bytes[at] = byte;
        }
        let _ = lesson::parse_lesson("q01-sync-vs-async.yaml", &bytes, &Registry);
        let _ = lesson::parse_lesson("q01-sync-vs-async.yaml", &bytes[..cut], &Registry);
    }
}

#[test]
fn the_unmutated_fixture_is_valid() {
    assert!(lesson::parse_lesson("q01-sync-vs-async.yaml", VALID.as_bytes(), &Registry).is_ok());
}
