//! The in-container probe program (`probes/probe.c`, built static by build.rs and embedded here):
//! how to ask it for jobs, and how to read its report. Pure: no Docker, no files.

pub mod agreement;
pub mod classify;
pub mod jobs;

/// The static probe binary for the machine libccheck was built for, uploaded into every
/// container of that architecture as its entrypoint.
pub const PROBE_BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libccheck-probe"));

/// The aarch64 probe (empty when build.rs found no aarch64 cross compiler).
const PROBE_AARCH64: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libccheck-probe-aarch64"));

/// The ELF machine libccheck itself (and so [`PROBE_BINARY`]) was built for.
pub const NATIVE_MACHINE: &str = match std::env::consts::ARCH.as_bytes() {
    b"aarch64" => "aarch64",
    _ => "x86-64",
};

/// The probe that runs in an image of `machine` (ELF machine name): `None` when this libccheck
/// has none for it. The native probe serves i386 images too (an x86-64 kernel runs both).
pub fn probe_for(machine: &str) -> Option<&'static [u8]> {
    match machine {
        m if m == NATIVE_MACHINE => Some(PROBE_BINARY),
        "i386" if NATIVE_MACHINE == "x86-64" => Some(PROBE_BINARY),
        "aarch64" if !PROBE_AARCH64.is_empty() => Some(PROBE_AARCH64),
        _ => None,
    }
}

/// Why there is no probe for `machine`, with the way to get one.
pub fn no_probe_reason(machine: &str) -> String {
    match machine {
        "aarch64" => "this libccheck was built without the aarch64 probe: install an aarch64 cross compiler (python3 -m pip install ziglang, or apt-get install gcc-aarch64-linux-gnu) and rebuild it (cargo clean -p libccheck first, so that build.rs looks again)".into(),
        m => format!("libccheck has no probe for {m} images"),
    }
}

/// One thing for the probe to run (or read, when `argv[0]` is `@read`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub name: String,
    pub env: Vec<String>,
    pub argv: Vec<String>,
}

impl Job {
    pub fn new(name: &str, env: &[&str], argv: &[&str]) -> Job {
        Job {
            name: name.into(),
            env: env.iter().map(|s| s.to_string()).collect(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
        }
    }
    pub fn read(name: &str, path: &str) -> Job {
        Job::new(name, &[], &["@read", path])
    }
}

/// Where the report key is uploaded (the probe deletes it before any job runs).
pub const KEY_FILE: &str = "key";
/// The variable that carries the report key when the probe's files are mounted read-only (the
/// probe removes it from its environment before any job runs).
pub const KEY_ENV: &str = "LIBCCHECK_PROBE_KEY";

/// How the probe receives this container's report key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFrom<'a> {
    /// A file the probe reads and deletes (uploaded files are the container's own).
    File(&'a str),
    /// The probe's environment ([`KEY_ENV`]): a read-only mount cannot lose a key file, and the
    /// jobs' user cannot read the environment of processes of another uid.
    Env,
}

/// A fresh report key: 128 random bits, hex. The probe puts it on every block it writes; the
/// program under test never sees it, so it cannot write a block libccheck would accept.
pub fn new_key() -> std::io::Result<String> {
    use std::io::Read;
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// How a probe container is started so that the program under test cannot reach the probe's
/// report: the probe runs as root with only CAP_SETUID/CAP_SETGID (to start every job as
/// `program_user`, which then has no capability at all) and CAP_KILL (to stop a job that runs
/// too long: its uid is not the probe's). When the program runs as root itself
/// (`--as-root`), the probe has no capability either and relies on the key and on not being dumpable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The container's user (the probe's).
    pub user: String,
    pub cap_add: Vec<String>,
    /// The probe's option words (before the jobs).
    pub options: Vec<String>,
}

pub fn launch(program_user: &str, key: KeyFrom) -> Launch {
    let root = runs_as_root(program_user);
    let mut options = vec![match key {
        KeyFrom::File(path) => format!("-k{path}"),
        KeyFrom::Env => "-e".to_string(),
    }];
    if !root {
        options.push(format!("-u{program_user}"));
    }
    Launch {
        user: "0:0".into(),
        cap_add: if root {
            vec![]
        } else {
            vec!["SETUID".into(), "SETGID".into(), "KILL".into()]
        },
        options,
    }
}

/// Whether the sandbox user is root (`--as-root`): the program then shares the probe's uid.
pub fn runs_as_root(program_user: &str) -> bool {
    matches!(program_user, "0" | "0:0" | "root")
}

/// The probe's command line: `TIMEOUT_MS CAP OPTION... JOB...`, each job
/// `NAME NENV ENV... NARGS ARGV...`.
pub fn command_line(
    timeout_ms: u64,
    cap_bytes: usize,
    options: &[String],
    jobs: &[Job],
) -> Vec<String> {
    let mut v = vec![timeout_ms.to_string(), cap_bytes.to_string()];
    v.extend(options.iter().cloned());
    for j in jobs {
        v.push(j.name.clone());
        v.push(j.env.len().to_string());
        v.extend(j.env.iter().cloned());
        v.push(j.argv.len().to_string());
        v.extend(j.argv.iter().cloned());
    }
    v
}

/// How one job ended, as the probe saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct JobResult {
    pub name: String,
    /// errno of a failed execve (2 = ENOENT: the program or its interpreter is missing).
    pub exec_errno: i32,
    pub exited: bool,
    pub exit_code: i32,
    pub signal: i32,
    pub timed_out: bool,
    /// The kernel killed a process of the container for want of memory while the job ran.
    pub oom_killed: bool,
    #[serde(skip)]
    pub stdout: Vec<u8>,
    #[serde(skip)]
    pub stderr: Vec<u8>,
    pub stdout_total: u64,
    pub stderr_total: u64,
    pub ms: u64,
}

impl JobResult {
    pub fn stdout_truncated(&self) -> bool {
        self.stdout_total > self.stdout.len() as u64
    }
    pub fn stderr_truncated(&self) -> bool {
        self.stderr_total > self.stderr.len() as u64
    }
    /// Both streams as text for the classifier. A stream the capture cut off ends in the first
    /// bytes of a line (`undefined symbol: zend_ar`): that fragment is dropped, it names nothing.
    pub fn text(&self) -> String {
        let whole = |b: &'_ [u8], cut: bool| -> String {
            let kept = match cut {
                true => &b[..b.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1)],
                false => b,
            };
            String::from_utf8_lossy(kept).into_owned()
        };
        let mut s = whole(&self.stderr, self.stderr_truncated());
        s.push('\n');
        s.push_str(&whole(&self.stdout, self.stdout_truncated()));
        s
    }
}

fn unhex(s: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let b = s.trim().as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err("odd hex length".into());
    }
    for pair in b.chunks(2) {
        let h = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err(format!("bad hex digit {:?}", c as char)),
        };
        out.push(h(pair[0])? << 4 | h(pair[1])?);
    }
    Ok(())
}

/// Parse the probe's stdout into one result per job of `jobs`, in their order. Only a report
/// that is exactly one block per job, each carrying `key`, is accepted: anything else (a block
/// without the key, a second block for a job, a job that was not asked for or not answered)
/// means someone else wrote into the channel, or the probe did not finish.
pub fn parse_report(bytes: &[u8], key: &str, jobs: &[Job]) -> Result<Vec<JobResult>, String> {
    let blocks = parse_blocks(bytes, key)?;
    let mut by_name: std::collections::HashMap<String, JobResult> =
        std::collections::HashMap::with_capacity(blocks.len());
    for b in blocks {
        if !jobs.iter().any(|j| j.name == b.name) {
            return Err(format!(
                "probe report: a block for job {:?}, which was not asked for",
                b.name
            ));
        }
        let name = b.name.clone();
        if by_name.insert(name.clone(), b).is_some() {
            return Err(format!("probe report: two blocks for job {name:?}"));
        }
    }
    jobs.iter()
        .map(|j| {
            by_name
                .remove(&j.name)
                .ok_or_else(|| format!("probe report: no block for job {:?}", j.name))
        })
        .collect()
}

/// The blocks of a report, each checked for `key`.
fn parse_blocks(bytes: &[u8], key: &str) -> Result<Vec<JobResult>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "probe report is not text".to_string())?;
    let mut results = Vec::new();
    let mut cur: Option<JobResult> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("LIBCCHECK-PROBE v1 ") {
            if cur.is_some() {
                return Err("probe report: job without END".into());
            }
            let rest = rest
                .strip_prefix("key=")
                .and_then(|r| r.strip_prefix(key))
                .and_then(|r| r.strip_prefix(' '))
                .filter(|_| !key.is_empty())
                .ok_or("probe report: a block without this run's key (not written by the probe)")?;
            let mut r = JobResult::default();
            for kv in rest.split(' ') {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("probe report: bad field {kv:?}"))?;
                let num = || {
                    v.parse::<i64>()
                        .map_err(|_| format!("probe report: bad number in {kv:?}"))
                };
                match k {
                    "name" => r.name = v.to_string(),
                    "errno" => r.exec_errno = num()? as i32,
                    "exited" => r.exited = num()? == 1,
                    "code" => r.exit_code = num()? as i32,
                    "signal" => r.signal = num()? as i32,
                    "timed_out" => r.timed_out = num()? == 1,
                    "out_total" => r.stdout_total = num()? as u64,
                    "err_total" => r.stderr_total = num()? as u64,
                    "ms" => r.ms = num()? as u64,
                    "oom" => r.oom_killed = num()? == 1,
                    _ => {}
                }
            }
            cur = Some(r);
        } else if let Some(h) = line.strip_prefix("OUT ") {
            let r = cur.as_mut().ok_or("probe report: OUT outside a job")?;
            unhex(h, &mut r.stdout)?;
        } else if let Some(h) = line.strip_prefix("ERR ") {
            let r = cur.as_mut().ok_or("probe report: ERR outside a job")?;
            unhex(h, &mut r.stderr)?;
        } else if line == "OUT" || line == "ERR" {
        } else if line == "END" {
            results.push(cur.take().ok_or("probe report: END outside a job")?);
        } else if !line.trim().is_empty() {
            return Err(format!(
                "probe report: unexpected line {:?}",
                line.chars().take(80).collect::<String>()
            ));
        }
    }
    if cur.is_some() {
        return Err("probe report ends in the middle of a job".into());
    }
    Ok(results)
}

/// For many jobs: the probe's arguments point at a job file (`@jobs PATH`) holding the same words
/// NUL-separated, run by `workers` processes. Returns (arguments, file content).
pub fn job_file(
    timeout_ms: u64,
    cap_bytes: usize,
    options: &[String],
    jobs: &[Job],
    path: &str,
    workers: usize,
) -> (Vec<String>, Vec<u8>) {
    let words = command_line(timeout_ms, cap_bytes, options, jobs);
    let mut content = Vec::new();
    if workers > 1 {
        content.extend_from_slice(format!("-j{workers}").as_bytes());
        content.push(0);
    }
    for w in &words[2..] {
        content.extend_from_slice(w.as_bytes());
        content.push(0);
    }
    (
        vec![
            words[0].clone(),
            words[1].clone(),
            "@jobs".into(),
            path.into(),
        ],
        content,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_probe_is_a_static_program_for_its_machine() {
        for machine in ["x86-64", "aarch64", "i386"] {
            let Some(bytes) = probe_for(machine) else {
                assert_eq!(
                    machine, "aarch64",
                    "only the cross-built probe may be missing"
                );
                assert!(no_probe_reason(machine).contains("cross compiler"));
                continue;
            };
            let p = crate::elf::parse(bytes).unwrap();
            let want = if machine == "i386" { "x86-64" } else { machine };
            assert_eq!(p.machine, want);
            assert_eq!(p.interpreter, None, "{machine}: the probe must be static");
        }
    }

    #[test]
    fn command_line_counts_every_part() {
        let jobs = [
            Job::new("load", &["A=1", "B=2"], &["/ld.so", "/app/x"]),
            Job::read("os", "/etc/os-release"),
        ];
        assert_eq!(
            command_line(5000, 64, &["-kkey".to_string()], &jobs),
            [
                "5000",
                "64",
                "-kkey",
                "load",
                "2",
                "A=1",
                "B=2",
                "2",
                "/ld.so",
                "/app/x",
                "os",
                "0",
                "2",
                "@read",
                "/etc/os-release"
            ]
        );
    }

    fn two_jobs() -> Vec<Job> {
        vec![
            Job::new("load", &[], &["/ld.so", "/app/x"]),
            Job::new("exec", &[], &["/app/x"]),
        ]
    }

    const EXEC: &str = "LIBCCHECK-PROBE v1 key=k1 name=exec errno=0 exited=0 code=-1 signal=11 timed_out=0 out_total=70000 err_total=2 ms=5\n\
                        OUT 6869\nOUT 0a\nERR 6f6b\nEND\n";
    const LOAD: &str = "LIBCCHECK-PROBE v1 key=k1 name=load errno=2 exited=0 code=-1 signal=0 timed_out=0 out_total=0 err_total=0 ms=1\nOUT \nERR \nEND\n";

    #[test]
    fn parses_a_report() {
        let r = format!("{EXEC}{LOAD}");
        let v = parse_report(r.as_bytes(), "k1", &two_jobs()).unwrap();
        assert_eq!(v.len(), 2);
        // In the order of the jobs, not of the blocks.
        assert_eq!(v[0].exec_errno, 2);
        assert_eq!(v[1].stdout, b"hi\n");
        assert_eq!(v[1].stderr, b"ok");
        assert_eq!(v[1].signal, 11);
        assert!(v[1].stdout_truncated());
        assert!(!v[1].stderr_truncated());
    }

    #[test]
    fn rejects_damaged_reports() {
        let one = [Job::new("x", &[], &["/x"])];
        let parse = |s: &str| parse_report(s.as_bytes(), "k1", &one);
        assert!(parse("LIBCCHECK-PROBE v1 key=k1 name=x errno=0\nOUT 6\nEND\n").is_err());
        assert!(parse("LIBCCHECK-PROBE v1 key=k1 name=x errno=0\n").is_err());
        assert!(parse("garbage\n").is_err());
        assert_eq!(parse_report(b"", "k1", &[]).unwrap(), vec![]);
    }

    #[test]
    fn a_forged_block_is_never_accepted() {
        let jobs = two_jobs();
        let forged_ok = "LIBCCHECK-PROBE v1 name=exec errno=0 exited=1 code=0 signal=0 timed_out=0 out_total=0 err_total=0 ms=1\nOUT \nERR \nEND\n";
        let with_guess = forged_ok.replace("v1 name", "v1 key=0 name");
        let with_prefix = forged_ok.replace("v1 name", "v1 key=k name");
        // A block without the key, with a wrong key, or with the key's prefix: refused.
        for forged in [forged_ok, &with_guess, &with_prefix] {
            let r = format!("{forged}{LOAD}{EXEC}");
            let e = parse_report(r.as_bytes(), "k1", &jobs).unwrap_err();
            assert!(e.contains("key"), "{e}");
        }
        // A second block for a job, even with the key: refused, whichever comes first.
        let e = parse_report(format!("{LOAD}{EXEC}{EXEC}").as_bytes(), "k1", &jobs).unwrap_err();
        assert!(e.contains("two blocks"), "{e}");
        // A job nobody asked for, a job not answered: refused.
        let e = parse_report(format!("{LOAD}{EXEC}").as_bytes(), "k1", &jobs[..1]).unwrap_err();
        assert!(e.contains("not asked for"), "{e}");
        let e = parse_report(LOAD.as_bytes(), "k1", &jobs).unwrap_err();
        assert!(e.contains("no block for job \"exec\""), "{e}");
        // No key at all never matches (an empty key would accept "key= ").
        let e = parse_report(b"LIBCCHECK-PROBE v1 key= name=x\nEND\n", "", &[]).unwrap_err();
        assert!(e.contains("key"), "{e}");
    }

    #[test]
    fn the_probe_drops_the_program_to_its_user() {
        let l = launch("65532:65532", KeyFrom::File("/libccheck/key"));
        assert_eq!(l.user, "0:0");
        assert_eq!(l.cap_add, ["SETUID", "SETGID", "KILL"]);
        assert_eq!(l.options, ["-k/libccheck/key", "-u65532:65532"]);
        let l = launch("0:0", KeyFrom::File("/libccheck/key"));
        assert!(l.cap_add.is_empty());
        assert_eq!(l.options, ["-k/libccheck/key"]);
        // On files mounted read-only the key comes through the environment.
        let l = launch("65532:65532", KeyFrom::Env);
        assert_eq!(l.options, ["-e", "-u65532:65532"]);
        assert_ne!(new_key().unwrap(), new_key().unwrap());
        assert_eq!(new_key().unwrap().len(), 32);
    }
}
