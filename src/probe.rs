//! The in-container probe program (`probes/probe.c`, built static by build.rs and embedded here):
//! how to ask it for jobs, and how to read its report. Pure: no Docker, no files.

/// The static probe binary, uploaded into every container as its entrypoint.
pub const PROBE_BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libccheck-probe"));

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

/// The probe's command line: `TIMEOUT_MS CAP JOB...`, each job `NAME NENV ENV... NARGS ARGV...`.
pub fn command_line(timeout_ms: u64, cap_bytes: usize, jobs: &[Job]) -> Vec<String> {
    let mut v = vec![timeout_ms.to_string(), cap_bytes.to_string()];
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
    pub fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.stderr).into_owned();
        s.push('\n');
        s.push_str(&String::from_utf8_lossy(&self.stdout));
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

/// Parse the probe's stdout into one result per job.
pub fn parse_report(bytes: &[u8]) -> Result<Vec<JobResult>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "probe report is not text".to_string())?;
    let mut results = Vec::new();
    let mut cur: Option<JobResult> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("LIBCCHECK-PROBE v1 ") {
            if cur.is_some() {
                return Err("probe report: job without END".into());
            }
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
    jobs: &[Job],
    path: &str,
    workers: usize,
) -> (Vec<String>, Vec<u8>) {
    let words = command_line(timeout_ms, cap_bytes, jobs);
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
    fn command_line_counts_every_part() {
        let jobs = [
            Job::new("load", &["A=1", "B=2"], &["/ld.so", "/app/x"]),
            Job::read("os", "/etc/os-release"),
        ];
        assert_eq!(
            command_line(5000, 64, &jobs),
            [
                "5000",
                "64",
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

    #[test]
    fn parses_a_report() {
        let r = "LIBCCHECK-PROBE v1 name=exec errno=0 exited=0 code=-1 signal=11 timed_out=0 out_total=70000 err_total=2 ms=5\n\
                 OUT 6869\nOUT 0a\nERR 6f6b\nEND\n\
                 LIBCCHECK-PROBE v1 name=load errno=2 exited=0 code=-1 signal=0 timed_out=0 out_total=0 err_total=0 ms=1\nOUT \nERR \nEND\n";
        let v = parse_report(r.as_bytes()).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].stdout, b"hi\n");
        assert_eq!(v[0].stderr, b"ok");
        assert_eq!(v[0].signal, 11);
        assert!(v[0].stdout_truncated());
        assert!(!v[0].stderr_truncated());
        assert_eq!(v[1].exec_errno, 2);
    }

    #[test]
    fn rejects_damaged_reports() {
        assert!(parse_report(b"LIBCCHECK-PROBE v1 name=x errno=0\nOUT 6\nEND\n").is_err());
        assert!(parse_report(b"LIBCCHECK-PROBE v1 name=x errno=0\n").is_err());
        assert!(parse_report(b"garbage\n").is_err());
        assert_eq!(parse_report(b"").unwrap(), vec![]);
    }
}
