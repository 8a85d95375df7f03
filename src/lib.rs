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
