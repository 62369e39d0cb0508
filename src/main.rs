use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = libccheck::cli::Cli::parse();
    libccheck::cli::init_tracing(cli.verbose);
    match libccheck::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("libccheck: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
