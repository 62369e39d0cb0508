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

/// An I/O error's message without Rust's ` (os error N)` suffix: "No such file or directory".
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.split_once(" (os error") {
        Some((m, _)) => m.to_string(),
        None => s,
    }
}

/// `a, b, c and 4 more`
pub fn short_list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let join = |items: &[S]| {
        let v: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
        v.join(", ")
    };
    if items.len() <= max {
        return join(items);
    }
    format!("{} and {} more", join(&items[..max]), items.len() - max)
}
