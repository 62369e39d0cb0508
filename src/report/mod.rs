//! Turning results into bytes: human text, JSON, and (for runs) JUnit and Markdown. No I/O here.

pub mod audit;
pub mod inspect;
pub mod run;

/// Output formats shared by the subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Junit,
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}
