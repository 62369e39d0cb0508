//! The verdict vocabulary shared by prediction, runs, reports and exit codes: [`Verdict`],
//! the structured [`Problem`]s behind it, the [`Outcome`] of a probe, and their one-line
//! descriptions. A leaf: everything else builds on it.

use serde::{Deserialize, Serialize};

/// The verdict vocabulary shared by prediction, runs, reports and exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    NoInterpreter,
    MissingLibrary,
    MissingVersion,
    MissingSymbol,
    /// Built for another architecture than the base's (a fact of the ELF header, never run).
    WrongArch,
    /// The CPU lacks the x86-64 ISA level the program's GNU property note asks for, and the
    /// loader (glibc ≥ 2.33) refuses to start it.
    CpuUnsupported,
    Crash,
    Timeout,
    ExitNonzero,
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::NoInterpreter => "no_interpreter",
            Verdict::MissingLibrary => "missing_library",
            Verdict::MissingVersion => "missing_version",
            Verdict::MissingSymbol => "missing_symbol",
            Verdict::WrongArch => "wrong_arch",
            Verdict::CpuUnsupported => "cpu_unsupported",
            Verdict::Crash => "crash",
            Verdict::Timeout => "timeout",
            Verdict::ExitNonzero => "exit_nonzero",
            Verdict::Error => "error",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The reason of a job the kernel killed at the container's memory limit (the run names the limit).
pub const OUT_OF_MEMORY: &str = "killed by SIGKILL: out of memory";

/// One thing the loader could not satisfy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    NoInterpreter {
        interpreter: String,
    },
    MissingLibrary {
        library: String,
        needed_by: Option<String>,
        /// `dlopen` when the program loads it at run time rather than through `DT_NEEDED`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<String>,
    },
    MissingVersion {
        library: String,
        version: String,
        needed_by: Option<String>,
    },
    MissingSymbol {
        symbol: String,
        version: Option<String>,
        needed_by: Option<String>,
    },
    /// The file is for another machine than the base's: `machine` (`aarch64`) on `base` (`x86-64`).
    WrongArch {
        machine: String,
        base: String,
    },
    /// The CPU lacks the x86-64 ISA `level` (`x86-64-v3`) that `needed_by`'s GNU property note
    /// asks for; `cpu` is the highest level it has. A run's message names neither level.
    CpuUnsupported {
        level: Option<String>,
        cpu: Option<String>,
        needed_by: Option<String>,
    },
    /// The loader itself crashes on the object (musl on a malformed segment layout).
    LoaderCrash {
        what: String,
        needed_by: Option<String>,
    },
    /// The loader cannot handle something the object uses (musl: IFUNC / IRELATIVE relocations).
    /// Its verdict is `error`: there is no closer word in the vocabulary.
    Unsupported {
        what: String,
        needed_by: Option<String>,
    },
}

impl Problem {
    /// The symbol of a missing symbol.
    pub fn missing_symbol(&self) -> Option<&str> {
        match self {
            Problem::MissingSymbol { symbol, .. } => Some(symbol),
            _ => None,
        }
    }
    /// The library of a missing library.
    pub fn missing_library(&self) -> Option<&str> {
        match self {
            Problem::MissingLibrary { library, .. } => Some(library),
            _ => None,
        }
    }
    /// The version of a missing version.
    pub fn missing_version(&self) -> Option<&str> {
        match self {
            Problem::MissingVersion { version, .. } => Some(version),
            _ => None,
        }
    }

    pub fn verdict(&self) -> Verdict {
        match self {
            Problem::NoInterpreter { .. } => Verdict::NoInterpreter,
            Problem::MissingLibrary { .. } => Verdict::MissingLibrary,
            Problem::MissingVersion { .. } => Verdict::MissingVersion,
            Problem::MissingSymbol { .. } => Verdict::MissingSymbol,
            Problem::WrongArch { .. } => Verdict::WrongArch,
            Problem::CpuUnsupported { .. } => Verdict::CpuUnsupported,
            Problem::LoaderCrash { .. } => Verdict::Crash,
            Problem::Unsupported { .. } => Verdict::Error,
        }
    }
}

/// The classified result of one probe (load or exec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub verdict: Verdict,
    /// One line for humans: "GLIBC_2.38 not found in libc.so.6 (needed by newer-glibc)".
    pub reason: String,
    /// The loader's own line that decided it, when there is one.
    pub evidence: Option<String>,
    pub problems: Vec<Problem>,
    pub exit_code: Option<i32>,
    pub signal: Option<String>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub ms: u64,
    /// What the program printed (exec probe only; capped, invalid UTF-8 replaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
}

impl Outcome {
    pub fn new(verdict: Verdict, reason: impl Into<String>) -> Outcome {
        Outcome {
            verdict,
            reason: reason.into(),
            evidence: None,
            problems: vec![],
            exit_code: None,
            signal: None,
            stdout_truncated: false,
            stderr_truncated: false,
            ms: 0,
            stdout: None,
            stderr: None,
        }
    }
}

pub fn describe(p: &Problem) -> String {
    let by = |b: &Option<String>| {
        b.as_ref()
            .map(|b| format!(" (needed by {b})"))
            .unwrap_or_default()
    };
    match p {
        Problem::NoInterpreter { interpreter } => {
            format!("interpreter {interpreter} is not in the image")
        }
        Problem::WrongArch { machine, base } => {
            format!("built for {machine}, another architecture than the base's ({base})")
        }
        Problem::CpuUnsupported {
            level: Some(level),
            cpu,
            needed_by,
        } => format!(
            "{} needs {level}, which this CPU lacks{}",
            needed_by.as_deref().unwrap_or("the program"),
            cpu.as_ref()
                .map(|c| format!(" (it has {c})"))
                .unwrap_or_default()
        ),
        Problem::CpuUnsupported { needed_by, .. } => match needed_by {
            Some(b) => format!("CPU ISA level is lower than {b} requires"),
            None => "CPU ISA level is lower than required".to_string(),
        },
        Problem::LoaderCrash { what, needed_by } => {
            format!("the loader crashes mapping it: {what}{}", by(needed_by))
        }
        Problem::MissingLibrary {
            library,
            needed_by,
            via: Some(via),
        } => match needed_by {
            Some(b) => format!("{library} not found ({b} loads it with {via})"),
            None => format!("{library} not found (loaded with {via})"),
        },
        Problem::MissingLibrary {
            library, needed_by, ..
        } => {
            format!("{library} not found{}", by(needed_by))
        }
        Problem::MissingVersion {
            library,
            version,
            needed_by,
        } => format!("{version} not found in {library}{}", by(needed_by)),
        Problem::MissingSymbol {
            symbol,
            version: Some(v),
            needed_by,
        } => format!("symbol {symbol}@{v} not found{}", by(needed_by)),
        Problem::MissingSymbol {
            symbol,
            version: None,
            needed_by,
        } => format!("symbol {symbol} not found{}", by(needed_by)),
        Problem::Unsupported { what, needed_by } if what.starts_with("relocation type") => {
            format!("the loader does not support {what}{}", by(needed_by))
        }
        // glibc refusing to map a file: `needed_by` is the file refused.
        Problem::Unsupported { what, needed_by } => match needed_by {
            Some(f) => format!("the loader refuses {f}: {what}"),
            None => format!("the loader refuses the file: {what}"),
        },
    }
}

pub fn summarize(problems: &[Problem]) -> String {
    let first = problems
        .iter()
        .min_by_key(|p| p.verdict())
        .expect("non-empty");
    let same: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.verdict() == first.verdict())
        .collect();
    match first {
        Problem::MissingSymbol { .. } if same.len() > 1 => {
            let names: Vec<String> = same
                .iter()
                .filter_map(|p| p.missing_symbol().map(str::to_string))
                .collect();
            format!(
                "{} symbols not found: {}",
                names.len(),
                crate::text::short_list(&names, 4)
            )
        }
        Problem::MissingLibrary { .. } if same.len() > 1 => {
            let names: Vec<String> = same
                .iter()
                .filter_map(|p| p.missing_library().map(str::to_string))
                .collect();
            format!("libraries not found: {}", names.join(", "))
        }
        Problem::MissingVersion { library, .. } if same.len() > 1 => {
            let names: Vec<String> = same
                .iter()
                .filter_map(|p| p.missing_version().map(str::to_string))
                .collect();
            format!("{} not found in {library}", names.join(", "))
        }
        _ => describe(first),
    }
}

/// What kind of run-time difference a [`Risk`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    /// Threads created with the libc's default stack size, which is 128 KiB on musl.
    ThreadStack,
    /// The program verifies TLS certificates against the system's CA bundle.
    CaBundle,
    /// The program loads time zones from the system's tzdata.
    Tzdata,
    /// The program resolves host names: musl's resolver behaves differently.
    Resolver,
    /// Locale-dependent collation or locale data the base lacks.
    Locale,
    /// Character-set conversion through iconv.
    Iconv,
    /// User and group lookups: no NSS on musl, or the running user missing from `/etc/passwd`.
    Users,
    /// `dlclose` does not unload on musl.
    Dlclose,
    /// Regular expressions: musl implements POSIX only, no GNU extensions.
    Regex,
    /// The program starts a shell (`system`, `popen`) where the base has no `/bin/sh`.
    Shell,
    /// The program makes temporary files where the base has no writable `/tmp`.
    Tmp,
    /// A library the program loads with `dlopen` is not in the base.
    Dlopen,
    /// The program (or a library it loads) is built for an x86-64 ISA level (`x86-64-v3`) that
    /// some CPUs lack.
    CpuLevel,
}

impl RiskKind {
    pub const ALL: [RiskKind; 13] = [
        RiskKind::ThreadStack,
        RiskKind::CaBundle,
        RiskKind::Tzdata,
        RiskKind::Resolver,
        RiskKind::Locale,
        RiskKind::Iconv,
        RiskKind::Users,
        RiskKind::Dlclose,
        RiskKind::Regex,
        RiskKind::Shell,
        RiskKind::Tmp,
        RiskKind::Dlopen,
        RiskKind::CpuLevel,
    ];

    /// One line on what the kind is about (SARIF rule descriptions, docs).
    pub fn summary(self) -> &'static str {
        match self {
            RiskKind::ThreadStack => "Threads get musl's 128 KiB default stack (glibc: 8 MiB)",
            RiskKind::CaBundle => "The program reads the system CA bundle, which the base lacks",
            RiskKind::Tzdata => "The program loads time zones, and the base has no tzdata",
            RiskKind::Resolver => "musl's DNS resolver behaves differently from glibc's",
            RiskKind::Locale => "No collation on musl, or no compiled locales on the base",
            RiskKind::Iconv => "iconv differs on musl, or the base has no gconv modules",
            RiskKind::Users => "User lookups: no NSS on musl, or the user is not in /etc/passwd",
            RiskKind::Dlclose => "dlclose does not unload on musl",
            RiskKind::Regex => "musl's regcomp has no GNU extensions",
            RiskKind::Shell => "system()/popen() need /bin/sh, which the base lacks",
            RiskKind::Tmp => "Temporary files need a writable /tmp, which the base lacks",
            RiskKind::Dlopen => "A library the program loads with dlopen is not in the base",
            RiskKind::CpuLevel => "Built for an x86-64 ISA level (v2/v3/v4) that some CPUs lack",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RiskKind::ThreadStack => "thread_stack",
            RiskKind::CaBundle => "ca_bundle",
            RiskKind::Tzdata => "tzdata",
            RiskKind::Resolver => "resolver",
            RiskKind::Locale => "locale",
            RiskKind::Iconv => "iconv",
            RiskKind::Users => "users",
            RiskKind::Dlclose => "dlclose",
            RiskKind::Regex => "regex",
            RiskKind::Shell => "shell",
            RiskKind::Tmp => "tmp",
            RiskKind::Dlopen => "dlopen",
            RiskKind::CpuLevel => "cpu_level",
        }
    }
}

impl std::fmt::Display for RiskKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How likely a risk is to break the program: `warning` when it fails where the base lacks
/// something, `note` when it only behaves differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Note,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// Something the binary will ask for at run time that a base does not provide, or provides
/// differently. Not a verdict: a base can be `ok` and carry risks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub kind: RiskKind,
    pub severity: Severity,
    /// The binary's side: the symbol, string, build setting or program header that shows the need.
    pub evidence: String,
    /// The base's side: what it has or lacks.
    pub base_fact: String,
    /// How to remove the risk.
    pub fix: String,
}

impl Risk {
    /// Does it count against recommending this base? A warning does, except the CPU level: the
    /// CPU that runs the program decides it, and every base carries it alike.
    pub fn counts_against_base(&self) -> bool {
        self.severity == Severity::Warning && self.kind != RiskKind::CpuLevel
    }
}

/// The risk a failed run most likely comes from, and whether a second run proved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikelyCause {
    pub kind: RiskKind,
    /// `Some(true)`: a second run without the cause passed; `Some(false)`: it failed too;
    /// `None`: not tried (only the thread stack can be removed from the outside).
    pub confirmed: Option<bool>,
    /// One sentence for the report.
    pub detail: String,
}
