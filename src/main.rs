use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = libccheck::cli::Cli::parse_checked();
    libccheck::cli::init_output(&cli);
    match libccheck::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("libccheck: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
