//! `libccheck.toml`: the CI gate's settings in the repository. Command-line flags override it.
//! Unknown keys and wrong types are errors that name the key and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::check::PullPolicy;

pub const FILE_NAME: &str = "libccheck.toml";

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Bases to check (aliases or image references).
    pub bases: Option<Vec<String>>,
    /// Bases that must work for exit 0 (default: all).
    pub require: Option<Vec<String>>,
    /// Exec-probe arguments (setting them runs the exec probe).
    pub args: Option<Vec<String>>,
    /// Run the exec probe even without args.
    pub exec: Option<bool>,
    /// Extra files beside the binary (`PATH[:DEST]`).
    pub with: Option<Vec<String>>,
    /// Seconds per probe.
    pub timeout: Option<u64>,
    pub pull: Option<PullPolicy>,
    pub jobs: Option<u64>,
    pub allow_mismatch: Option<bool>,
    /// Fail (exit 1) on a run-time risk of severity warning on a required base.
    pub fail_on_risk: Option<bool>,
    /// Append the Markdown report to $GITHUB_STEP_SUMMARY when it is set (default true).
    pub step_summary: Option<bool>,
    pub sandbox: Option<SandboxConfig>,
    /// A base whose image is unavailable is an error (exit 2), not a prediction from the offline
    /// catalog.
    pub require_run: Option<bool>,
    /// An alias or catalog name → the image to use for it (a mirror, a local image); the
    /// catalog entry it names still stands in when that image is unavailable.
    pub aliases: Option<BTreeMap<String, String>>,
    /// More reports from the same run: format name → path (`[reports] junit = "out.xml"`);
    /// `--report` replaces them.
    pub reports: Option<std::collections::BTreeMap<String, String>>,
    /// Registries (`host[:port]`) that `registry:` images are read from over plain HTTP.
    pub insecure_registries: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    pub network: Option<bool>,
    pub as_root: Option<bool>,
    /// MiB
    pub memory: Option<u64>,
    pub pids_limit: Option<u64>,
    /// Bytes of stdout/stderr kept per probe.
    pub output_limit: Option<usize>,
}

/// Parse a configuration; errors read `PATH:LINE: KEY: what is wrong`.
pub fn parse(text: &str, path: &Path) -> Result<Config, String> {
    let c: Config = toml::from_str(text).map_err(|e| {
        let (line, key) = match e.span() {
            Some(span) => {
                let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
                let line = text.lines().nth(line_no - 1).unwrap_or("");
                let key = line
                    .split('=')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_matches(['[', ']'])
                    .trim()
                    .to_string();
                (line_no, key)
            }
            None => (0, String::new()),
        };
        let mut msg = with_suggestion(e.message().replace('\n', " ").trim());
        if key.contains('.') && msg.starts_with("invalid type: map") {
            // `alpine-3.22 = …` is a dotted key (a table `alpine-3` with a key `22`).
            msg.push_str(&format!(
                " (a name with a dot is a quoted key: \"{key}\" = …)"
            ));
        }
        let key = if key.is_empty() {
            String::new()
        } else {
            format!("{key}: ")
        };
        format!("{}:{line}: {key}{msg}", path.display())
    })?;
    let bad = |key: &str, why: &str| Err(format!("{}: {key}: {why}", path.display()));
    if let Some(t) = c.timeout
        && !(1..=3600).contains(&t)
    {
        return bad("timeout", "must be between 1 and 3600 seconds");
    }
    if let Some(j) = c.jobs
        && !(1..=64).contains(&j)
    {
        return bad("jobs", "must be between 1 and 64");
    }
    if let Some(s) = &c.sandbox {
        if s.memory.is_some_and(|m| !(16..=65536).contains(&m)) {
            return bad("sandbox.memory", "must be between 16 and 65536 MiB");
        }
        if s.pids_limit.is_some_and(|p| !(8..=100_000).contains(&p)) {
            return bad("sandbox.pids_limit", "must be between 8 and 100000");
        }
    }
    for (name, image) in c.aliases.iter().flatten() {
        check_alias(name, image).map_err(|e| format!("{}: aliases.{name}: {e}", path.display()))?;
    }
    c.report_specs()
        .map_err(|e| format!("{}: reports: {e}", path.display()))?;
    let names = c.names();
    for b in c.bases.iter().chain(&c.require).flatten() {
        crate::image::aliases::resolve_in(b, &names)
            .map_err(|e| format!("{}: bases: {e}", path.display()))?;
    }
    Ok(c)
}

impl Config {
    /// The names bases can be given by: `[aliases]`, the alias table, the catalog's names.
    pub fn names(&self) -> crate::image::aliases::Names {
        crate::catalog::names(self.aliases.clone().unwrap_or_default())
    }

    /// The `[reports]` table as report specs.
    pub fn report_specs(&self) -> Result<Vec<crate::report::ReportSpec>, String> {
        self.reports
            .iter()
            .flatten()
            .map(|(format, path)| crate::report::ReportSpec::new(format, path))
            .collect()
    }
}

/// An `[aliases]` entry maps a name libccheck knows (so that a typo is not a new, unused name)
/// to an image reference.
fn check_alias(name: &str, image: &str) -> Result<(), String> {
    let known = crate::image::aliases::ALIASES
        .iter()
        .any(|a| a.name == name)
        || crate::catalog::entries().iter().any(|e| e.name == name);
    if !known {
        let aliases: Vec<&str> = crate::image::aliases::ALIASES
            .iter()
            .map(|a| a.name)
            .collect();
        return Err(format!(
            "not an alias ({}) nor a catalog name (`libccheck bases` lists them)",
            aliases.join(", ")
        ));
    }
    if !crate::image::aliases::is_image_reference(image.trim()) {
        return Err(format!("{image:?} is not an image reference"));
    }
    Ok(())
}

/// serde's "unknown field `basez`, expected one of `bases`, ..." gains "; did you mean `bases`?"
/// when one expected key is close to the unknown one.
fn with_suggestion(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let keys = expected.split('`').skip(1).step_by(2);
    match closest(unknown, keys) {
        Some(key) => format!("{msg}; did you mean `{key}`?"),
        None => msg.to_string(),
    }
}

/// The candidate nearest to `word`, if it is near enough to be a typo of it (Jaro-Winkler, the
/// measure clap uses for its own suggestions).
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The configuration in effect: `--config PATH` (must exist), else `./libccheck.toml` if present.
pub fn load(explicit: Option<&Path>) -> Result<(Option<PathBuf>, Config), String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from(FILE_NAME);
            if !p.exists() {
                return Ok((None, Config::default()));
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {}",
            path.display(),
            crate::text::io_message(&e).to_lowercase()
        )
    })?;
    Ok((Some(path.clone()), parse(&text, &path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(t: &str) -> String {
        parse(t, Path::new("libccheck.toml")).unwrap_err()
    }

    #[test]
    fn a_full_config() {
        let c = parse(
            "bases = [\"alpine\", \"distroless-cc\"]\nrequire = [\"distroless-cc\"]\nargs = [\"--version\"]\ntimeout = 10\npull = \"never\"\n[sandbox]\nmemory = 256\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(c.bases.unwrap(), ["alpine", "distroless-cc"]);
        assert_eq!(c.pull, Some(PullPolicy::Never));
        assert_eq!(c.sandbox.unwrap().memory, Some(256));
    }

    #[test]
    fn aliases_map_known_names_to_images() {
        let c = parse(
            "require_run = true\n[aliases]\nalpine = \"mirror.example/alpine:3.22\"\ndebian-12 = \"local/debian:12\"\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(c.require_run, Some(true));
        let names = c.names();
        let alpine = crate::image::aliases::resolve_in("alpine", &names).unwrap();
        assert_eq!(alpine.image, "mirror.example/alpine:3.22");
        assert_eq!(
            crate::image::aliases::resolve_in("debian-12", &names)
                .unwrap()
                .image,
            "local/debian:12"
        );
        assert!(
            err("[aliases]\nalpin = \"mirror/alpine:3.22\"\n")
                .starts_with("libccheck.toml: aliases.alpin: not an alias (alpine, "),
            "{}",
            err("[aliases]\nalpin = \"mirror/alpine:3.22\"\n")
        );
        assert_eq!(
            err("[aliases]\nalpine-3.22 = \"mirror/alpine:3.22\"\n"),
            "libccheck.toml:2: alpine-3.22: invalid type: map, expected a string (a name with a dot is a quoted key: \"alpine-3.22\" = …)"
        );
        assert_eq!(
            err("[aliases]\nalpine = \"not an image\"\n"),
            "libccheck.toml: aliases.alpine: \"not an image\" is not an image reference"
        );
    }

    #[test]
    fn every_error_names_key_and_line() {
        assert!(
            err("timeout = 10\nbasez = [\"alpine\"]\n")
                .starts_with("libccheck.toml:2: basez: unknown field `basez`, expected one of")
        );
        assert_eq!(
            err("\ntimeout = \"30\"\n"),
            "libccheck.toml:2: timeout: invalid type: string \"30\", expected u64"
        );
        assert!(err("pull = \"sometimes\"\n").starts_with("libccheck.toml:1: pull: unknown variant `sometimes`, expected one of `missing`, `always`, `never`"));
        assert_eq!(
            err("bases = \"alpine\"\n"),
            "libccheck.toml:1: bases: invalid type: string \"alpine\", expected a sequence"
        );
        assert!(
            err("[sandbox]\nnetwrk = true\n")
                .starts_with("libccheck.toml:2: netwrk: unknown field `netwrk`, expected one of")
        );
        let typo = err("require = []\ntimout = 3\n");
        assert!(
            typo.starts_with("libccheck.toml:2: timout: unknown field `timout`, expected one of")
                && typo.ends_with("; did you mean `timeout`?"),
            "{typo}"
        );
        assert!(err("[sandbox]\nas_rot = true\n").ends_with("; did you mean `as_root`?"));
        assert!(
            !err("colour = 1\n").contains("did you mean"),
            "no suggestion for a key like none of them"
        );
        assert_eq!(
            err("exec = 1\n"),
            "libccheck.toml:1: exec: invalid type: integer `1`, expected a boolean"
        );
        assert_eq!(
            err("timeout = 0\n"),
            "libccheck.toml: timeout: must be between 1 and 3600 seconds"
        );
        assert_eq!(
            err("jobs = 100\n"),
            "libccheck.toml: jobs: must be between 1 and 64"
        );
        assert_eq!(
            err("[sandbox]\nmemory = 1\n"),
            "libccheck.toml: sandbox.memory: must be between 16 and 65536 MiB"
        );
        assert_eq!(
            err("[sandbox]\npids_limit = 1\n"),
            "libccheck.toml: sandbox.pids_limit: must be between 8 and 100000"
        );
        assert!(
            err("bases = [\"no such base\"]\n")
                .starts_with("libccheck.toml: bases: unknown base \"no such base\"")
        );
        assert!(
            err("timeout = \n").starts_with("libccheck.toml:1: timeout: "),
            "{}",
            err("timeout = \n")
        );
    }
}
