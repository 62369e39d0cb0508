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

/// `--report FORMAT=PATH`: one more report of the same run, written to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub format: Format,
    pub path: std::path::PathBuf,
}

impl ReportSpec {
    /// A spec from its format's name and a path (`libccheck.toml`'s `[reports]` table).
    pub fn new(format: &str, path: &str) -> Result<ReportSpec, String> {
        use clap::ValueEnum as _;
        let format = Format::from_str(format, true).map_err(|_| {
            let names: Vec<String> = Format::value_variants()
                .iter()
                .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
                .collect();
            format!("unknown format {format:?} (one of {})", names.join(", "))
        })?;
        if path.is_empty() {
            return Err("no PATH after the format".into());
        }
        Ok(ReportSpec {
            format,
            path: path.into(),
        })
    }
}

impl std::str::FromStr for ReportSpec {
    type Err = String;

    /// `junit=out.xml`; the path may itself contain `=`.
    fn from_str(s: &str) -> Result<ReportSpec, String> {
        let (format, path) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} is not FORMAT=PATH (e.g. junit=report.xml)"))?;
        ReportSpec::new(format, path)
    }
}

/// Two reports into one file would leave only the last: refuse it.
pub fn check_distinct(specs: &[ReportSpec]) -> Result<(), String> {
    for (i, s) in specs.iter().enumerate() {
        if specs[..i].iter().any(|t| t.path == s.path) {
            return Err(format!(
                "--report {}: two reports to the same file",
                s.path.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_spec_names_a_format_and_a_path() {
        let s: ReportSpec = "junit=out/r=1.xml".parse().unwrap();
        assert_eq!(s.format, Format::Junit);
        assert_eq!(s.path, std::path::PathBuf::from("out/r=1.xml"));
        assert_eq!(
            "SARIF=x".parse::<ReportSpec>().unwrap().format,
            Format::Sarif
        );
    }

    #[test]
    fn a_bad_report_spec_says_what_is_wrong() {
        let e = "junit".parse::<ReportSpec>().unwrap_err();
        assert!(e.contains("not FORMAT=PATH"), "{e}");
        let e = "xml=out.xml".parse::<ReportSpec>().unwrap_err();
        assert!(
            e.contains("unknown format \"xml\" (one of human, json, junit, markdown, sarif)"),
            "{e}"
        );
        let e = "json=".parse::<ReportSpec>().unwrap_err();
        assert!(e.contains("no PATH"), "{e}");
    }

    #[test]
    fn two_reports_into_one_file_are_refused() {
        let a: ReportSpec = "json=r".parse().unwrap();
        let b: ReportSpec = "sarif=r".parse().unwrap();
        assert!(
            check_distinct(&[a.clone(), b])
                .unwrap_err()
                .contains("same file")
        );
        assert!(check_distinct(&[a]).is_ok());
    }
}
