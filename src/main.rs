use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = asyncdojo::cli::Cli::parse();
    match asyncdojo::cli::run(cli, &asyncdojo::demo::Registry) {
        Ok(code) => code,
        // `asyncdojo run gather --json | head -1`: the reader has all it wanted. Like other Unix
        // tools, end quietly and successfully instead of reporting the closed pipe.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            Some(io.kind())
        } else {
            cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}
