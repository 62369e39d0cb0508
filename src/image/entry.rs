//! What a container of an image would run, from its configuration (Entrypoint, Cmd, Env's PATH,
//! WorkingDir) and its files: the command through the image's PATH, symlinks inside the image,
//! the shell of a shell-form command, scripts and their shebang interpreters, down to the ELF
//! program the kernel finally runs. Pure: the image's files come through [`Files`].

use serde::Serialize;

/// The PATH Docker gives a container whose image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Linux follows at most this many interpreters (a script run by a script…) before ELOOP.
const MAX_INTERPRETERS: usize = 4;

/// The parts of an image's configuration that decide what its container runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Config {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `KEY=value` entries.
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
}

impl Config {
    /// The command line the container runs: Entrypoint then Cmd (`args`, when given, replace Cmd
    /// as `docker run IMAGE ARGS` does).
    pub fn argv(&self, args: Option<&[String]>) -> Vec<String> {
        let cmd = args.unwrap_or(&self.cmd);
        self.entrypoint.iter().chain(cmd).cloned().collect()
    }

    /// The image's PATH, or Docker's default when its Env sets none.
    pub fn path(&self) -> &str {
        self.env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH)
    }
}

/// What resolution needs of the image's files.
pub trait Files {
    /// `path` after the image's symlinks, when a file is there.
    fn resolve(&self, path: &str) -> Option<String>;
    /// What the file at a resolved path is.
    fn kind(&self, real: &str) -> FileKind;
}

/// A file, as exec sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    Elf {
        executable: bool,
    },
    /// A file starting with `#!`: the rest of its first line.
    Script {
        executable: bool,
        shebang: String,
    },
    Other {
        executable: bool,
    },
    Directory,
}

/// One step from the command to the program: a script and the interpreter its shebang names, or
/// the command found through PATH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// How it was named (`app`, `/entrypoint.sh`, `/usr/bin/env`).
    pub named: String,
    /// Where it is in the image, symlinks followed.
    pub path: String,
    /// The path exec is given (the PATH directory joined, no link followed: busybox's applets
    /// and a virtualenv's python tell themselves by it).
    pub at: String,
    /// `script` or `elf`.
    pub kind: &'static str,
}

/// What the container would start: the command, each step to the ELF program, and the
/// program, or why it cannot start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Start {
    pub argv: Vec<String>,
    /// The command is Docker's shell form (`/bin/sh -c "…"`).
    pub shell_form: bool,
    pub steps: Vec<Step>,
    /// The ELF program the kernel runs (its resolved path), when resolution got there.
    pub program: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<StartProblem>,
}

/// Why a container of the image cannot start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StartProblem {
    /// Neither Entrypoint nor Cmd: `docker run` refuses it.
    NoCommand,
    /// A command without a slash that no PATH directory holds.
    NotInPath {
        name: String,
        path: String,
    },
    /// A path that does not exist in the image.
    Missing {
        path: String,
        named_by: Option<String>,
    },
    NotExecutable {
        path: String,
    },
    Directory {
        path: String,
    },
    /// A script without `#!`: exec fails with "exec format error".
    NoShebang {
        path: String,
    },
    /// Interpreters within interpreters beyond what Linux follows (or a loop).
    ShebangLoop {
        chain: Vec<String>,
    },
}

impl StartProblem {
    pub fn describe(&self) -> String {
        match self {
            StartProblem::NoCommand => {
                "the image has neither Entrypoint nor Cmd: there is nothing to start".into()
            }
            StartProblem::NotInPath { name, path } if path.is_empty() => {
                format!("{name}: not found (the image's PATH is empty)")
            }
            StartProblem::NotInPath { name, path } => {
                format!("{name}: not found in the image's PATH ({path})")
            }
            StartProblem::Missing {
                path,
                named_by: Some(by),
            } if path.ends_with('\r') => format!(
                "{}\\r: no such file in the image ({by} has Windows line endings: its #! line names the interpreter with a carriage return)",
                path.trim_end_matches('\r')
            ),
            StartProblem::Missing {
                path,
                named_by: Some(by),
            } => format!("{path}: no such file in the image (the interpreter {by} names)"),
            StartProblem::Missing {
                path,
                named_by: None,
            } => format!("{path}: no such file in the image"),
            StartProblem::NotExecutable { path } => {
                format!("{path}: not executable (no x permission bit)")
            }
            StartProblem::Directory { path } => format!("{path}: is a directory"),
            StartProblem::NoShebang { path } => {
                format!("{path}: a script without #! line: exec fails with \"exec format error\"")
            }
            StartProblem::ShebangLoop { chain } => format!(
                "interpreters within interpreters ({}): Linux gives up with ELOOP",
                chain.join(" → ")
            ),
        }
    }
}

/// Resolve what a container of the image runs (`args`, when given, replace Cmd).
pub fn resolve(config: &Config, files: &impl Files, args: Option<&[String]>) -> Start {
    let argv = config.argv(args);
    let mut start = Start {
        shell_form: argv.len() >= 3 && argv[1] == "-c" && is_shell(&argv[0]),
        argv: argv.clone(),
        steps: vec![],
        program: None,
        problem: None,
    };
    let Some(first) = argv.first() else {
        start.problem = Some(StartProblem::NoCommand);
        return start;
    };
    let mut named = first.clone();
    let mut named_by: Option<String> = None;
    let mut lookup_path = true;
    loop {
        if start.steps.len() > MAX_INTERPRETERS {
            let chain = start.steps.iter().map(|s| s.path.clone()).collect();
            start.problem = Some(StartProblem::ShebangLoop { chain });
            return start;
        }
        let (at, path) = match locate(&named, config, files, lookup_path) {
            Ok(found) => found,
            Err(mut p) => {
                if let StartProblem::Missing { named_by: by, .. } = &mut p {
                    *by = named_by;
                }
                start.problem = Some(p);
                return start;
            }
        };
        match files.kind(&path) {
            FileKind::Elf { executable: true } => {
                start.steps.push(step(&named, &at, &path, "elf"));
                start.program = Some(path);
                return start;
            }
            FileKind::Script {
                executable: true,
                shebang,
            } => {
                start.steps.push(step(&named, &at, &path, "script"));
                let (interpreter, arg) = split_shebang(&shebang);
                named_by = Some(path.clone());
                // `#!/usr/bin/env python3`: env runs its argument through PATH.
                if is_env(&interpreter)
                    && let Some(env_path) = files.resolve(&interpreter)
                {
                    start
                        .steps
                        .push(step(&interpreter, &interpreter, &env_path, "elf"));
                    match env_command(arg.as_deref()) {
                        Some(a) => {
                            (named, lookup_path) = (a, true);
                            continue;
                        }
                        None => {
                            start.program = Some(env_path);
                            return start;
                        }
                    }
                }
                (named, lookup_path) = (interpreter, false);
            }
            FileKind::Directory => {
                start.problem = Some(StartProblem::Directory { path });
                return start;
            }
            FileKind::Other { executable: true } => {
                start.problem = Some(StartProblem::NoShebang { path });
                return start;
            }
            _ => {
                start.problem = Some(StartProblem::NotExecutable { path });
                return start;
            }
        }
    }
}

fn step(named: &str, at: &str, path: &str, kind: &'static str) -> Step {
    Step {
        named: named.to_string(),
        path: path.to_string(),
        at: at.to_string(),
        kind,
    }
}

/// A command line run by a shell: `/bin/sh -c …` (Docker's shell form), bash, dash, ash…
fn is_shell(program: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    matches!(
        name,
        "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "mksh"
    )
}

/// The command `env` runs for a shebang's argument. The kernel passes the rest of the line as
/// ONE argument: `python3 -u` is a program of that name (which no PATH holds) unless env splits
/// it with `-S`; then the first word that is no option.
fn env_command(arg: Option<&str>) -> Option<String> {
    let arg = arg?;
    match arg.strip_prefix("-S") {
        Some(rest) => rest
            .split([' ', '\t'])
            .find(|w| !w.is_empty() && !w.starts_with('-') && !w.contains('='))
            .map(str::to_string),
        None if arg.starts_with('-') => None,
        None => Some(arg.to_string()),
    }
}

fn is_env(interpreter: &str) -> bool {
    interpreter.rsplit('/').next() == Some("env")
}

/// `/usr/bin/env python3 -u` → (`/usr/bin/env`, `python3 -u`): the kernel splits the line at
/// the first space or tab only, and strips nothing else (a CRLF line names `/bin/sh\r`).
fn split_shebang(line: &str) -> (String, Option<String>) {
    let line = line.trim_start_matches([' ', '\t']);
    match line.split_once([' ', '\t']) {
        Some((interpreter, rest)) => {
            let rest = rest.trim_matches([' ', '\t']);
            (
                interpreter.to_string(),
                (!rest.is_empty()).then(|| rest.to_string()),
            )
        }
        None => (line.to_string(), None),
    }
}

/// Where `named` is in the image: through PATH for a bare name (when `lookup_path`), relative to
/// WorkingDir for a relative path.
fn locate(
    named: &str,
    config: &Config,
    files: &impl Files,
    lookup_path: bool,
) -> Result<(String, String), StartProblem> {
    if named.is_empty() {
        return Err(StartProblem::Missing {
            path: String::new(),
            named_by: None,
        });
    }
    if lookup_path && !named.contains('/') {
        let path = config.path();
        return path
            .split(':')
            .filter(|d| !d.is_empty())
            .find_map(|d| {
                let at = crate::image::base::join(d, named);
                let real = files.resolve(&at)?;
                matches!(
                    files.kind(&real),
                    FileKind::Elf { executable: true }
                        | FileKind::Script {
                            executable: true,
                            ..
                        }
                        | FileKind::Other { executable: true }
                )
                .then_some((at, real))
            })
            .ok_or_else(|| StartProblem::NotInPath {
                name: named.to_string(),
                path: path.to_string(),
            });
    }
    let absolute = match named.starts_with('/') {
        true => named.to_string(),
        false => crate::image::base::normalize(&crate::image::base::join(
            if config.working_dir.is_empty() {
                "/"
            } else {
                &config.working_dir
            },
            named,
        )),
    };
    match files.resolve(&absolute) {
        Some(real) => Ok((absolute, real)),
        None => Err(StartProblem::Missing {
            path: absolute,
            named_by: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// An image's files: path → kind, and links.
    #[derive(Default)]
    struct Image {
        files: BTreeMap<String, FileKind>,
        links: BTreeMap<String, String>,
    }

    impl Files for Image {
        fn resolve(&self, path: &str) -> Option<String> {
            let mut p = path.to_string();
            for _ in 0..8 {
                match self.links.get(&p) {
                    Some(t) => p = t.clone(),
                    None => break,
                }
            }
            self.files.contains_key(&p).then_some(p)
        }
        fn kind(&self, real: &str) -> FileKind {
            self.files[real].clone()
        }
    }

    fn elf() -> FileKind {
        FileKind::Elf { executable: true }
    }

    fn script(shebang: &str) -> FileKind {
        FileKind::Script {
            executable: true,
            shebang: shebang.into(),
        }
    }

    fn config(entrypoint: &[&str], cmd: &[&str]) -> Config {
        Config {
            entrypoint: entrypoint.iter().map(|s| s.to_string()).collect(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn image(files: &[(&str, FileKind)], links: &[(&str, &str)]) -> Image {
        Image {
            files: files
                .iter()
                .map(|(p, k)| (p.to_string(), k.clone()))
                .collect(),
            links: links
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_command_through_path_and_links() {
        let img = image(
            &[("/usr/local/bin/app-1.2", elf())],
            &[("/usr/local/bin/app", "/usr/local/bin/app-1.2")],
        );
        let s = resolve(&config(&[], &["app", "--serve"]), &img, None);
        assert_eq!(s.program.as_deref(), Some("/usr/local/bin/app-1.2"));
        assert_eq!(s.problem, None);
        // Arguments replace Cmd, as `docker run IMAGE ARGS` does.
        let s = resolve(
            &config(&["app"], &["--serve"]),
            &img,
            Some(&["--version".into()]),
        );
        assert_eq!(s.argv, ["app", "--version"]);
        let mut c = config(&[], &["app"]);
        c.env = vec!["PATH=/opt/bin".into()];
        let s = resolve(&c, &img, None);
        assert_eq!(
            s.problem,
            Some(StartProblem::NotInPath {
                name: "app".into(),
                path: "/opt/bin".into()
            })
        );
        c.env = vec!["PATH=".into()];
        let s = resolve(&c, &img, None);
        assert!(s.problem.unwrap().describe().contains("PATH is empty"));
    }

    #[test]
    fn scripts_shells_and_their_interpreters() {
        let img = image(
            &[
                ("/entrypoint.sh", script("/bin/bash -e")),
                ("/run.py", script("/usr/bin/env python3")),
                ("/usr/bin/env", elf()),
                ("/bin/sh", elf()),
                ("/notes.txt", FileKind::Other { executable: true }),
            ],
            &[],
        );
        let s = resolve(&config(&["/entrypoint.sh"], &[]), &img, None);
        assert_eq!(
            s.problem,
            Some(StartProblem::Missing {
                path: "/bin/bash".into(),
                named_by: Some("/entrypoint.sh".into())
            })
        );
        let s = resolve(&config(&["/run.py"], &[]), &img, None);
        assert!(
            matches!(s.problem, Some(StartProblem::NotInPath { ref name, .. }) if name == "python3"),
            "{s:?}"
        );
        let s = resolve(&config(&[], &["/bin/sh", "-c", "exec app"]), &img, None);
        assert!(s.shell_form);
        assert_eq!(s.program.as_deref(), Some("/bin/sh"));
        let s = resolve(&config(&["/notes.txt"], &[]), &img, None);
        assert!(matches!(s.problem, Some(StartProblem::NoShebang { .. })));
        assert_eq!(
            resolve(&config(&[], &[]), &img, None).problem,
            Some(StartProblem::NoCommand)
        );
    }

    /// The kernel splits a `#!` line once, at a space or tab, and strips no carriage return;
    /// env takes the rest as one name unless `-S` splits it.
    #[test]
    fn shebang_lines_as_the_kernel_reads_them() {
        let img = image(
            &[
                ("/crlf.sh", script("/bin/sh\r")),
                ("/args.py", script("/usr/bin/env python3 -u")),
                ("/split.py", script("/usr/bin/env -S python3 -u")),
                ("/usr/bin/env", elf()),
                ("/bin/sh", elf()),
                ("/usr/bin/python3", elf()),
            ],
            &[],
        );
        let why = |e: &str| {
            resolve(&config(&[e], &[]), &img, None)
                .problem
                .map(|p| p.describe())
        };
        assert!(why("/crlf.sh").unwrap().contains("Windows line endings"));
        assert_eq!(
            why("/args.py").unwrap(),
            format!("python3 -u: not found in the image's PATH ({DEFAULT_PATH})")
        );
        assert_eq!(why("/split.py"), None);
        // docker-entrypoint.sh is no shell: its arguments are no shell command.
        let s = resolve(
            &config(&["/crlf.sh"], &["-c", "max_connections=200"]),
            &img,
            None,
        );
        assert!(!s.shell_form);
    }

    #[test]
    fn a_shebang_loop_ends() {
        let img = image(&[("/a", script("/b")), ("/b", script("/a"))], &[]);
        let s = resolve(&config(&["/a"], &[]), &img, None);
        assert!(
            matches!(s.problem, Some(StartProblem::ShebangLoop { .. })),
            "{s:?}"
        );
    }

    #[test]
    fn relative_commands_and_permissions() {
        let img = image(
            &[
                ("/srv/app", elf()),
                ("/srv/data", FileKind::Elf { executable: false }),
                ("/srv", FileKind::Directory),
            ],
            &[],
        );
        let mut c = config(&["./app"], &[]);
        c.working_dir = "/srv".into();
        assert_eq!(resolve(&c, &img, None).program.as_deref(), Some("/srv/app"));
        let s = resolve(&config(&["/srv/data"], &[]), &img, None);
        assert!(matches!(
            s.problem,
            Some(StartProblem::NotExecutable { .. })
        ));
        let s = resolve(&config(&["/srv"], &[]), &img, None);
        assert!(matches!(s.problem, Some(StartProblem::Directory { .. })));
    }
}
