//! asyncdojo: learn async programming by watching it run.
//!
//! `main.rs` only parses the command line and dispatches; everything else lives here so the
//! integration tests can reach it.

pub mod app;
pub mod cli;
pub mod console;
pub mod demo;
pub mod highlight;
pub mod lesson;
pub mod markdown;
pub mod practice;
pub mod progress;
pub mod text;
pub mod tui;
pub mod ui;

/// Set here rather than in `main.rs` so the tests and benches, which link only the library, run
/// on the allocator the app runs on. Why this one: see `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
