//! `libccheck image`: will a built image start? What its container runs ([`entry`]), that
//! program checked against the image itself with the verdicts, hints and run-time risks of a
//! normal check, the image's user, and every application file checked like an audit does. Pure:
//! the I/O (reading the image, the verifying container) is the CLI's.
//!
//! [`entry`]: crate::image::entry

use serde::Serialize;

use crate::audit::{Group, RiskGroup, SourceFile};
use crate::check::{Placed, Program};
use crate::image::base::BaseProfile;
#[cfg(test)]
use crate::image::entry::StartProblem;
use crate::image::entry::{Config, Start};
use crate::loader::Prediction;
use crate::probe::agreement::{self, Differs};
use crate::suggest::{self, Candidate, Ranked, Size};
use crate::verdict::{Outcome, Risk, Verdict};

/// The program the container runs, checked against the image.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramCheck {
    pub path: String,
    pub verdict: Verdict,
    pub reason: String,
    pub prediction: Prediction,
    /// The loader's verdict in the verifying container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agree: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differs: Option<Differs>,
    /// Installed by the image's package manager (it comes with the base, not the application).
    pub packaged: bool,
}

/// Predict the program at `path` (an ELF file of the source) on the image itself, as the
/// image's `user`: a normal check's verdict, hints and (where it loads) risks.
pub fn predict_program(file: &SourceFile, image: &BaseProfile, user: &str) -> Prediction {
    // In place: the image's own files are its files; nothing is placed beside it.
    let at = Placed {
        path: file.path.clone(),
        sidecars: &crate::loader::Overlay::default(),
        name: &file.path,
    };
    Program::new(&file.lib.profile, &file.lib.exports, &file.needs).predict_at(
        &at,
        image,
        user,
        crate::advice::Context::Image,
    )
}

/// The program's check: the prediction, and the run's load verdict when it was verified.
pub fn program_check(
    path: &str,
    packaged: bool,
    prediction: Prediction,
    load: Option<Outcome>,
) -> ProgramCheck {
    let (verdict, reason, agree, differs) = match &load {
        Some(o) => {
            let cut = o.stdout_truncated || o.stderr_truncated;
            let c = agreement::compare(
                &agreement::at_load(&prediction),
                o.verdict,
                &o.problems,
                cut,
            );
            // What the loader's probe cannot see (a required dlopen) the prediction says.
            let dlopen_only = !prediction.problems.is_empty()
                && prediction
                    .problems
                    .iter()
                    .all(crate::probe::classify::is_via_dlopen);
            let (v, r) = match o.verdict == Verdict::Ok && dlopen_only {
                true => (prediction.verdict, prediction.reason.clone()),
                false => (o.verdict, o.reason.clone()),
            };
            (v, r, c.agree, c.differs)
        }
        None => (prediction.verdict, prediction.reason.clone(), None, None),
    };
    ProgramCheck {
        path: path.to_string(),
        verdict,
        reason,
        prediction,
        load,
        agree,
        differs,
        packaged,
    }
}

/// Whether the image's user exists where the container needs it: Docker resolves a user *name*
/// in the image's `/etc/passwd` when it starts the container, and fails without it (a numeric
/// uid needs no entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserCheck {
    pub user: String,
    pub ok: bool,
    pub fact: String,
}

pub fn check_user(config: &Config, image: &BaseProfile) -> UserCheck {
    let user = config.user.clone();
    let name = user.split(':').next().unwrap_or("");
    let passwd = &image.runtime.passwd;
    let (ok, fact) = if name.is_empty() {
        (true, "runs as root".to_string())
    } else if name.bytes().all(|b| b.is_ascii_digit()) {
        (
            true,
            format!("uid {name} (a number needs no /etc/passwd entry)"),
        )
    } else if passwd.unread {
        (true, "/etc/passwd was not read".to_string())
    } else if passwd.entries.iter().any(|(n, _)| n == name) {
        (true, format!("{name} is in /etc/passwd"))
    } else if !passwd.present {
        (
            false,
            format!("no /etc/passwd: Docker cannot find the user {name}"),
        )
    } else {
        (
            false,
            format!(
                "{name} is not in /etc/passwd: Docker fails with \"unable to find user {name}\""
            ),
        )
    };
    UserCheck { user, ok, fact }
}

/// The whole answer for one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub schema: &'static str,
    pub tool: crate::text::Tool,
    pub image: String,
    pub image_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    pub libc: String,
    pub config: Config,
    pub start: Start,
    /// The program the container runs, checked against the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramCheck>,
    /// For a shell-form command: what the shell runs, when its command names a program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell_start: Option<Start>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell_command: Option<ProgramCheck>,
    pub user: UserCheck,
    /// The entrypoint itself, started with `--exec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<Outcome>,
    /// Run-time risks of the program on the image.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<Risk>,
    /// The application's ELF files (not installed by the package manager) checked on the image.
    pub files: FilesSummary,
    /// Smaller bases the application would also run on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smaller: Option<Smaller>,
    pub starts: bool,
    /// Why it will not start (the first reason), when it will not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
    pub mode: &'static str,
    /// Why a run could not verify the prediction (the image is read without a container engine,
    /// or none answers); absent when it ran or was not asked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified: Option<String>,
    #[serde(skip)]
    pub exit_code: u8,
}

/// The application's other files: how many were checked and the broken ones by cause.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FilesSummary {
    pub checked: usize,
    pub broken: usize,
    pub mismatches: usize,
    pub groups: Vec<Group>,
    pub risks: Vec<RiskGroup>,
    pub files: Vec<crate::audit::FileResult>,
}

/// Smaller bases the application would also run on: its files predicted on each candidate,
/// ranked by image size against the image's own.
#[derive(Debug, Clone, Serialize)]
pub struct Smaller {
    /// The image's own size (the local image's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Size>,
    /// The bases smaller than the image where the application works, smallest first.
    pub smaller: Vec<Ranked>,
    /// Every candidate by size (with `--suggest`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranking: Vec<Ranked>,
    /// Why no base is suggested, when none can be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_none: Option<String>,
}

/// Why the application cannot be moved to another base by its files alone: the program the
/// container runs comes with the image's own distribution, or is a script whose interpreter a
/// base may lack. `None` when its files decide (the shell of a shell-form command aside, which
/// the candidate must have).
pub fn not_movable(start: &Start, program: Option<&ProgramCheck>) -> Option<String> {
    if let Some(p) = program.filter(|p| p.packaged) {
        return Some(format!(
            "the program is the image's own {} (installed by its package manager): a smaller base would have to bring it",
            p.path
        ));
    }
    let script = start.steps.iter().any(|s| s.kind == "script");
    script.then(|| "the entrypoint is a script: a smaller base would need its interpreter".into())
}

/// The candidates ranked by size, and those at least a tenth smaller than the image (`current`)
/// where the application works.
pub fn smaller_bases(current: Option<Size>, candidates: Vec<Candidate>, full: bool) -> Smaller {
    let ranking = suggest::rank(&candidates);
    // A base about as big as the image (its own base, measured apart) is no smaller base.
    let smaller = match current {
        Some(c) => suggest::smaller_than(c.bytes - c.bytes / 10, &ranking)
            .into_iter()
            .filter(|r| r.works)
            .cloned()
            .collect(),
        None => vec![],
    };
    let why_none = current
        .is_none()
        .then(|| "the image's own size is not known".to_string());
    Smaller {
        current,
        smaller,
        ranking: if full { ranking } else { vec![] },
        why_none,
    }
}

/// How the application fares on one candidate: every one of its files must load, and no
/// warning-level risk may stand.
pub fn candidate(
    base: &str,
    image: &str,
    size: Option<Size>,
    files: &[(String, Prediction)],
    needs_shell: bool,
    has_shell: bool,
) -> Candidate {
    let verdict = match (
        needs_shell && !has_shell,
        files.iter().find(|(_, p)| p.verdict != Verdict::Ok),
    ) {
        (true, _) => Verdict::NoInterpreter,
        (false, Some((_, p))) => p.verdict,
        (false, None) => Verdict::Ok,
    };
    let at_risk = files
        .iter()
        .any(|(_, p)| p.risks.iter().any(|r| r.counts_against_base()));
    Candidate {
        base: base.to_string(),
        image: image.to_string(),
        size,
        verdict,
        at_risk,
    }
}

/// Does it start, and if not, the first reason: the command, the user, the program (and the
/// command the shell runs), then the program's own run.
pub fn decide(
    starts: &[&Start],
    user: &UserCheck,
    programs: &[&ProgramCheck],
    exec: Option<&Outcome>,
) -> (bool, Option<String>) {
    if let Some(p) = starts.iter().find_map(|s| s.problem.as_ref()) {
        return (false, Some(p.describe()));
    }
    if !user.ok {
        return (false, Some(user.fact.clone()));
    }
    if let Some(p) = programs.iter().find(|p| p.verdict != Verdict::Ok) {
        return (false, Some(format!("{}: {}", p.path, p.reason)));
    }
    // A server still running when the time is up has started.
    if let Some(o) = exec.filter(|o| !matches!(o.verdict, Verdict::Ok | Verdict::Timeout)) {
        return (false, Some(format!("started with --exec: {}", o.reason)));
    }
    (true, None)
}

/// 0: it starts; 1: it does not. (Nothing to start at all is an error before any check.)
pub fn exit_code(starts: bool) -> u8 {
    if starts { 0 } else { 1 }
}

/// The first word of a shell-form command (`exec` and variable assignments skipped), when it
/// is a plain word the shell would run as a program: `exec /app/server --port 80` → `/app/server`.
pub fn shell_program(start: &Start) -> Option<String> {
    if !start.shell_form {
        return None;
    }
    let script = start.argv.get(2)?;
    let plain = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    };
    // A builtin or a reserved word first: the shell runs it itself, and what follows is beyond
    // a first word's reading.
    const BUILTINS: &[&str] = &[
        ".", ":", "[", "alias", "cd", "command", "eval", "export", "for", "if", "case", "while",
        "until", "read", "set", "shift", "source", "test", "trap", "ulimit", "umask", "unset",
        "wait", "echo", "printf", "true", "false", "{", "(", "!",
    ];
    script
        .split_whitespace()
        .find(|w| *w != "exec" && !w.contains('='))
        .filter(|w| plain(w) && !BUILTINS.contains(w))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::entry::Step;

    fn start(problem: Option<StartProblem>, argv: &[&str]) -> Start {
        Start {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            shell_form: argv.len() > 2 && argv[1] == "-c",
            steps: vec![Step {
                named: argv[0].into(),
                path: argv[0].into(),
                at: argv[0].into(),
                kind: "elf",
            }],
            program: Some(argv[0].into()),
            problem,
        }
    }

    fn check(verdict: Verdict) -> ProgramCheck {
        let p = Prediction::new(verdict, "GLIBC_2.38 not found");
        program_check("/app", false, p, None)
    }

    #[test]
    fn the_first_reason_it_does_not_start() {
        let ok_user = UserCheck {
            user: String::new(),
            ok: true,
            fact: String::new(),
        };
        let s = start(None, &["/app"]);
        let ok = check(Verdict::Ok);
        assert_eq!(decide(&[&s], &ok_user, &[&ok], None), (true, None));
        let bad = check(Verdict::MissingVersion);
        // A server still running when --exec's time is up has started.
        let running = Outcome::new(Verdict::Timeout, "still running after 20.0 s; killed");
        assert!(decide(&[&s], &ok_user, &[&ok], Some(&running)).0);
        let (starts, why) = decide(&[&s], &ok_user, &[&bad], None);
        assert!(!starts);
        assert_eq!(why.unwrap(), "/app: GLIBC_2.38 not found");
        assert_eq!(exit_code(starts), 1);
        let missing = start(
            Some(StartProblem::Missing {
                path: "/bin/bash".into(),
                named_by: Some("/entrypoint.sh".into()),
            }),
            &["/entrypoint.sh"],
        );
        assert!(
            decide(&[&s, &missing], &ok_user, &[&ok], None)
                .1
                .unwrap()
                .contains("/bin/bash")
        );
        let no_user = UserCheck {
            user: "app".into(),
            ok: false,
            fact: "app is not in /etc/passwd".into(),
        };
        assert_eq!(
            decide(&[&s], &no_user, &[&ok], None).1.unwrap(),
            "app is not in /etc/passwd"
        );
    }

    #[test]
    fn the_program_a_shell_form_command_runs() {
        let s = start(None, &["/bin/sh", "-c", "exec /app/server --port 80"]);
        assert_eq!(shell_program(&s).as_deref(), Some("/app/server"));
        let s = start(None, &["/bin/sh", "-c", "FOO=1 app"]);
        assert_eq!(shell_program(&s).as_deref(), Some("app"));
        let s = start(None, &["/bin/sh", "-c", "$APP"]);
        assert_eq!(shell_program(&s), None);
        // Builtins and reserved words are the shell's own.
        for cmd in [
            "cd /app && exec ./server",
            "set -e; app",
            ". /venv/bin/activate && app",
        ] {
            let s = start(None, &["/bin/sh", "-c", cmd]);
            assert_eq!(shell_program(&s), None, "{cmd}");
        }
    }

    #[test]
    fn users_by_name_need_an_entry() {
        let mut image = crate::catalog::find("debian-12").unwrap().to_profile();
        image.runtime.passwd = crate::image::runtime::Accounts {
            present: true,
            entries: vec![("root".into(), 0)],
            malformed: 0,
            unread: false,
        };
        let user = |u: &str| {
            let c = Config {
                user: u.into(),
                ..Default::default()
            };
            check_user(&c, &image).ok
        };
        assert!(user(""));
        assert!(user("1000:1000"));
        assert!(user("root"));
        assert!(!user("app"));
        assert!(!user("app:app"));
    }

    #[test]
    fn smaller_bases_where_every_file_works() {
        let size = |mb: u64| {
            Some(Size {
                bytes: mb << 20,
                from: crate::suggest::SizeFrom::Catalog,
            })
        };
        let ok = |v: Verdict| vec![("/app".to_string(), Prediction::new(v, ""))];
        let candidates = vec![
            candidate(
                "static",
                "s",
                size(2),
                &ok(Verdict::NoInterpreter),
                false,
                false,
            ),
            candidate("cc", "c", size(20), &ok(Verdict::Ok), false, false),
            candidate("cc-no-shell", "c", size(19), &ok(Verdict::Ok), true, false),
            candidate("slim", "d", size(75), &ok(Verdict::Ok), false, true),
        ];
        let s = smaller_bases(size(80), candidates, false);
        let names: Vec<&str> = s.smaller.iter().map(|r| r.base.as_str()).collect();
        assert_eq!(
            names,
            ["cc"],
            "a shell form needs a shell; 75 of 80 MB is no smaller base"
        );
        assert!(s.ranking.is_empty());
        let bash = start(None, &["/usr/bin/bash"]);
        let mut packaged = check(Verdict::Ok);
        packaged.packaged = true;
        assert!(
            not_movable(&bash, Some(&packaged))
                .unwrap()
                .contains("package manager")
        );
        assert_eq!(not_movable(&bash, Some(&check(Verdict::Ok))), None);
    }
}
