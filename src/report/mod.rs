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

/// `a, b, c and 4 more`
pub fn short_list(items: &[String], max: usize) -> String {
    if items.len() <= max {
        return items.join(", ");
    }
    format!("{} and {} more", items[..max].join(", "), items.len() - max)
}
