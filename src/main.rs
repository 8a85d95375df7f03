use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = asyncdojo::cli::Cli::parse();
    match asyncdojo::cli::run(cli, &asyncdojo::demo::Registry) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
