//! Turning results into text, one module per report: a check's (human table, JSON, JUnit XML,
//! Markdown, SARIF), an audit's, an image's and a package's (human, JSON, Markdown) and inspect's
//! (human, JSON). No I/O here.

pub mod audit;
pub mod image;
pub mod inspect;
pub mod package;
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
