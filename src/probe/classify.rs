//! From what a probe job did (exit status, signal, errno, loader messages) to a verdict with
//! structured detail. Pure; the loader messages are the real glibc and musl texts.

use crate::probe::JobResult;
use crate::text::below;
use crate::verdict::OUT_OF_MEMORY;
use crate::verdict::Outcome;
use crate::verdict::Problem;
use crate::verdict::Verdict;
use crate::verdict::summarize;

pub fn signal_name(sig: i32) -> String {
    let n = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    n.to_string()
}

fn errno_text(e: i32) -> &'static str {
    match e {
        1 => "operation not permitted",
        2 => "no such file or directory",
        8 => "exec format error (wrong architecture?)",
        12 => "out of memory",
        13 => "permission denied",
        20 => "not a directory",
        26 => "text file busy",
        _ => "exec failed",
    }
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// glibc's messages for a file it found and will not map, as the loader prints them (the rest of
/// the line, after the file's name, names the loader's reason).
fn glibc_refusal(why: &str) -> Option<&str> {
    const REFUSALS: [&str; 5] = [
        "object file has no dynamic section",
        "object file has no loadable segments",
        "ELF load command address/offset not page-aligned",
        "ELF load command address/offset not properly aligned",
        "ELF load command alignment not page-aligned",
    ];
    REFUSALS.into_iter().find(|r| why.starts_with(r))
}

/// Recognise the glibc and musl loader messages in `text`: each problem once, with the first
/// line that showed it.
pub fn loader_problems(text: &str, app_dir: &str) -> Vec<(Problem, String)> {
    let mut out: Vec<(Problem, String)> = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(p) = line_problem(l, app_dir)
            && !out.iter().any(|(q, _)| *q == p)
        {
            out.push((p, l.to_string()));
        }
    }
    out
}

/// The problem one loader message names, if it is one. The tests run in this order and the
/// first whose marker the line has decides it, even when it then finds nothing (a "version `"
/// that is not "not found" is not looked at as an undefined symbol).
fn line_problem(l: &str, app_dir: &str) -> Option<Problem> {
    if let Some(lib) = l.strip_suffix(" => not found") {
        Some(glibc_trace_not_found(lib))
    } else if let Some((who, rest)) = l.split_once(": error while loading shared libraries: ") {
        Some(glibc_cannot_load(who, rest, app_dir))
    } else if let Some(rest) = l.strip_prefix("Error loading shared library ") {
        Some(musl_cannot_load(rest, app_dir))
    } else if let Some(i) = l.find("version `") {
        glibc_version_not_found(l, i, app_dir)
    } else if let Some(i) = l.find("undefined symbol: ") {
        Some(glibc_undefined_symbol(l, i, app_dir))
    } else if let Some(rest) = l.strip_prefix("Error relocating ") {
        musl_relocation_error(rest, app_dir)
    } else {
        l.strip_suffix(": CPU ISA level is lower than required")
            .map(|who| glibc_cpu_level(who, app_dir))
    }
}

/// glibc trace: "\tlibfoo.so.1 => not found" (`lib` is what comes before the arrow).
fn glibc_trace_not_found(lib: &str) -> Problem {
    Problem::MissingLibrary {
        library: lib.trim().to_string(),
        needed_by: None,
        via: None,
    }
}

/// glibc run: "/x: error while loading shared libraries: libfoo.so.1: cannot open shared object
/// file: ..." (`who` is "/x", `rest` what follows the marker).
fn glibc_cannot_load(who: &str, rest: &str, app_dir: &str) -> Problem {
    let (lib, why) = rest.split_once(": ").unwrap_or((rest, ""));
    // The file is there but the loader refuses it (a debug-info-only file, misaligned
    // segments): not a missing library.
    match glibc_refusal(why) {
        Some(what) => Problem::Unsupported {
            what: what.to_string(),
            needed_by: Some(below(lib, app_dir)),
        },
        None => Problem::MissingLibrary {
            library: lib.to_string(),
            needed_by: Some(below(who, app_dir)),
            via: None,
        },
    }
}

/// musl: "Error loading shared library libfoo.so.1: No such file or directory (needed by /x)"
/// (`rest` is what follows "Error loading shared library ").
fn musl_cannot_load(rest: &str, app_dir: &str) -> Problem {
    let lib = rest.split(": ").next().unwrap_or(rest);
    let by = rest
        .rsplit_once("(needed by ")
        .map(|(_, b)| below(b.trim_end_matches(')'), app_dir));
    Problem::MissingLibrary {
        library: lib.to_string(),
        needed_by: by,
        via: None,
    }
}

/// glibc: "/x: /lib/.../libc.so.6: version `GLIBC_2.38' not found (required by /x)" (`i` is
/// where "version `" starts). Other lines that mention a version are not problems.
fn glibc_version_not_found(l: &str, i: usize, app_dir: &str) -> Option<Problem> {
    let rest = &l[i + 9..];
    let (version, tail) = rest.split_once('\'')?;
    if !tail.trim_start().starts_with("not found") {
        return None;
    }
    let before = l[..i].trim_end().trim_end_matches(':');
    let library = basename(before.rsplit(": ").next().unwrap_or(before)).to_string();
    let by = tail
        .rsplit_once("(required by ")
        .map(|(_, b)| below(b.trim_end_matches(')'), app_dir));
    Some(Problem::MissingVersion {
        library,
        version: version.to_string(),
        needed_by: by,
    })
}

/// glibc trace with LD_WARN: "undefined symbol: foo, version GLIBC_2.38\t(/x)" or "undefined
/// symbol: foo\t(/x)"; glibc run: "/x: symbol lookup error: /x: undefined symbol: foo" (`i` is
/// where "undefined symbol: " starts).
fn glibc_undefined_symbol(l: &str, i: usize, app_dir: &str) -> Problem {
    let rest = &l[i + 18..];
    let (sym_part, by) = match rest.split_once('\t').or_else(|| rest.split_once(" (")) {
        Some((s, b)) => (
            s.trim(),
            Some(below(
                b.trim().trim_start_matches('(').trim_end_matches(')'),
                app_dir,
            )),
        ),
        // A run names the program, then the object whose lookup failed: that one needs it.
        None => (rest.trim(), l.split(": ").nth(2).map(|w| below(w, app_dir))),
    };
    let (symbol, version) = match sym_part.split_once(", version ") {
        Some((s, v)) => (s.to_string(), Some(v.to_string())),
        None => (sym_part.to_string(), None),
    };
    Problem::MissingSymbol {
        symbol,
        version,
        needed_by: by,
    }
}

/// musl: "Error relocating /x: foo: symbol not found", "Error relocating /x: unsupported
/// relocation type 37" (`rest` is what follows "Error relocating ").
fn musl_relocation_error(rest: &str, app_dir: &str) -> Option<Problem> {
    if let Some((who, n)) = rest.rsplit_once(": unsupported relocation type ") {
        Some(Problem::Unsupported {
            what: format!("relocation type {n}"),
            needed_by: Some(below(who, app_dir)),
        })
    } else if let Some(body) = rest.strip_suffix(": symbol not found") {
        let (who, sym) = body.rsplit_once(": ").unwrap_or(("", body));
        Some(Problem::MissingSymbol {
            symbol: sym.to_string(),
            version: None,
            needed_by: Some(below(who, app_dir)),
        })
    } else {
        None
    }
}

/// glibc ≥ 2.33 at start-up: "/x: CPU ISA level is lower than required" (`who` is "/x", the
/// object whose GNU property note asks for a level the CPU lacks; the message names no level).
fn glibc_cpu_level(who: &str, app_dir: &str) -> Problem {
    Problem::CpuUnsupported {
        level: None,
        cpu: None,
        needed_by: Some(below(who, app_dir)),
    }
}

/// Keep the causes, drop their consequences: symbols of a missing version, and (when a library
/// is missing) the symbols it would have provided.
fn root_causes(found: Vec<(Problem, String)>) -> Vec<(Problem, String)> {
    let missing_lib = found
        .iter()
        .any(|(p, _)| matches!(p, Problem::MissingLibrary { .. }));
    let missing_versions: Vec<String> = found
        .iter()
        .filter_map(|(p, _)| {
            if let Problem::MissingVersion { version, .. } = p {
                Some(version.clone())
            } else {
                None
            }
        })
        .collect();
    found
        .into_iter()
        .filter(|(p, _)| match p {
            Problem::MissingSymbol {
                version: Some(v), ..
            } => !missing_versions.contains(v) && !missing_lib,
            Problem::MissingSymbol { .. } => !missing_lib,
            _ => true,
        })
        .collect()
}

/// Which job is being classified: the load probe (the loader in trace/list mode, running none of
/// the program) or the exec probe (the program itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Load,
    Exec,
}

/// Classify one probe job. `interpreter` is the program's PT_INTERP (for the no-interpreter case).
pub fn classify(
    job: &JobResult,
    kind: ProbeKind,
    interpreter: Option<&str>,
    app_dir: &str,
) -> Outcome {
    let mut o = Outcome::new(Verdict::Ok, "");
    o.ms = job.ms;
    if kind == ProbeKind::Exec {
        o.stdout = Some(String::from_utf8_lossy(&job.stdout).into_owned());
        o.stderr = Some(String::from_utf8_lossy(&job.stderr).into_owned());
    }
    o.stdout_truncated = job.stdout_truncated();
    o.stderr_truncated = job.stderr_truncated();
    if job.exec_errno != 0 {
        // The kernel fails exec with ENOENT when PT_INTERP names a missing file, though the
        // program itself is there; for the load probe the loader path itself is missing.
        if job.exec_errno == 2 {
            let interp = interpreter.unwrap_or("(none)").to_string();
            o.verdict = Verdict::NoInterpreter;
            o.reason = format!("interpreter {interp} is not in the image");
            o.evidence = Some(format!("exec: {}", errno_text(2)));
            o.problems = vec![Problem::NoInterpreter {
                interpreter: interp,
            }];
        } else {
            o.verdict = Verdict::Error;
            o.reason = format!("cannot execute: {}", errno_text(job.exec_errno));
            o.evidence = Some(format!("execve errno {}", job.exec_errno));
        }
        return o;
    }
    if job.timed_out {
        o.verdict = Verdict::Timeout;
        o.reason = format!(
            "still running after {:.1} s; killed",
            job.ms as f64 / 1000.0
        );
        return o;
    }
    if job.exited
        && job.exit_code == 255
        && let Some((interp, line)) = qemu_missing_interpreter(&job.text())
    {
        o.verdict = Verdict::NoInterpreter;
        o.reason = format!("interpreter {interp} is not in the image");
        o.evidence = Some(line);
        o.exit_code = Some(255);
        o.problems = vec![Problem::NoInterpreter {
            interpreter: interp,
        }];
        return o;
    }
    let mut found = root_causes(loader_problems(&job.text(), app_dir));
    if kind == ProbeKind::Exec {
        found = with_dlopen_failures(found, &job.text(), failed(job));
    }
    if !found.is_empty() {
        let problems: Vec<Problem> = found.iter().map(|(p, _)| p.clone()).collect();
        let best = problems.iter().map(Problem::verdict).min().unwrap();
        o.verdict = best;
        o.reason = summarize(&problems);
        o.evidence = found
            .iter()
            .find(|(p, _)| p.verdict() == best)
            .map(|(_, l)| l.clone());
        o.problems = problems;
        o.exit_code = job.exited.then_some(job.exit_code);
        return o;
    }
    if job.signal != 0 {
        let name = signal_name(job.signal);
        o.verdict = Verdict::Crash;
        o.reason = if job.signal == 9 && job.oom_killed {
            OUT_OF_MEMORY.to_string()
        } else {
            format!("killed by {name}")
        };
        o.signal = Some(name);
        o.evidence = last_line(&job.stderr);
        return o;
    }
    o.exit_code = Some(job.exit_code);
    if job.exit_code != 0 {
        o.evidence = last_line(&job.stderr).or_else(|| last_line(&job.stdout));
        match kind {
            ProbeKind::Exec => {
                o.verdict = Verdict::ExitNonzero;
                o.reason = match &o.evidence {
                    Some(l) => format!("exited with status {}: {l}", job.exit_code),
                    None => format!("exited with status {}", job.exit_code),
                };
            }
            ProbeKind::Load => {
                o.verdict = Verdict::Error;
                o.reason = format!(
                    "the loader exited with status {} and no message libccheck knows",
                    job.exit_code
                );
            }
        }
        return o;
    }
    o.reason = match kind {
        ProbeKind::Load => "every library, version and symbol resolved".into(),
        ProbeKind::Exec => "exited 0".into(),
    };
    o
}

/// Under qemu-user (another architecture through binfmt_misc) qemu, not the kernel, opens the
/// program's interpreter, and says so itself before exiting 255:
/// `<argv0>: Could not open '/lib/ld-linux-aarch64.so.1': No such file or directory`.
/// The interpreter's path and the line; the `argv0` prefix varies with the binfmt flags.
fn qemu_missing_interpreter(text: &str) -> Option<(String, String)> {
    text.lines().find_map(|l| {
        let (_, rest) = l.split_once("Could not open '")?;
        let (path, why) = rest.split_once("': ")?;
        (why.trim() == "No such file or directory" && path.starts_with('/'))
            .then(|| (path.to_string(), l.trim().to_string()))
    })
}

/// Whether the program failed: a signal, or a non-zero exit status.
fn failed(job: &JobResult) -> bool {
    job.signal != 0 || job.exit_code != 0
}

/// The exec probe's problems with the libraries the program failed to `dlopen`: musl's message
/// names no object that needs the library (the loader's own at start-up always does), and
/// glibc's `dlerror()` is the library's name and why, without the start-up prefix. They are
/// the program's own output, so they count only when it then failed; a program that copes with
/// a missing plug-in and exits 0 works, whatever loader-like lines it printed.
fn with_dlopen_failures(
    mut found: Vec<(Problem, String)>,
    text: &str,
    failed: bool,
) -> Vec<(Problem, String)> {
    for (p, _) in &mut found {
        if let Problem::MissingLibrary {
            needed_by: None,
            via,
            ..
        } = p
        {
            *via = Some("dlopen".into());
        }
    }
    if found.is_empty() {
        found = text
            .lines()
            .map(str::trim)
            .filter_map(|l| glibc_dlerror(l).map(|p| (p, l.to_string())))
            .take(1)
            .collect();
    }
    // A loader that stops a program at start-up always makes it fail: loader-like lines from a
    // program that then exits 0 are its own business (a plug-in it did without).
    if !failed {
        found.clear();
    }
    found
}

/// glibc's `dlerror()` after a failed `dlopen`: "libz.so.1: cannot open shared object file: No
/// such file or directory".
fn glibc_dlerror(l: &str) -> Option<Problem> {
    let (lib, _) = l.split_once(": cannot open shared object file")?;
    (!lib.is_empty() && !lib.contains(char::is_whitespace)).then(|| Problem::MissingLibrary {
        library: basename(lib).to_string(),
        needed_by: None,
        via: Some("dlopen".into()),
    })
}

/// A library the program loads with `dlopen` (not the loader's start-up search).
pub fn is_via_dlopen(p: &Problem) -> bool {
    matches!(p, Problem::MissingLibrary { via: Some(_), .. })
}

fn last_line(b: &[u8]) -> Option<String> {
    String::from_utf8_lossy(b)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "/libccheck/app";

    fn job(errno: i32, code: i32, signal: i32, stdout: &str, stderr: &str) -> JobResult {
        JobResult {
            name: "t".into(),
            exec_errno: errno,
            exited: errno == 0 && signal == 0,
            exit_code: code,
            signal,
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            stdout_total: stdout.len() as u64,
            stderr_total: stderr.len() as u64,
            ..Default::default()
        }
    }

    // Real texts captured from the fixture images.
    #[test]
    fn glibc_trace_missing_version_drops_its_symbols() {
        let j = job(
            0,
            0,
            0,
            "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n",
            "/libccheck/app/newer-glibc: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /libccheck/app/newer-glibc)\nundefined symbol: strlcpy, version GLIBC_2.38\t(/libccheck/app/newer-glibc)\n",
        );
        let o = classify(
            &j,
            ProbeKind::Load,
            Some("/lib64/ld-linux-x86-64.so.2"),
            APP,
        );
        assert_eq!(o.verdict, Verdict::MissingVersion);
        assert_eq!(
            o.problems,
            vec![Problem::MissingVersion {
                library: "libc.so.6".into(),
                version: "GLIBC_2.38".into(),
                needed_by: Some("newer-glibc".into())
            }]
        );
        assert_eq!(
            o.reason,
            "GLIBC_2.38 not found in libc.so.6 (needed by newer-glibc)"
        );
    }

    #[test]
    fn glibc_refusing_the_cpu_level_is_cpu_unsupported() {
        // glibc 2.36 starting a program whose note asks for a level this CPU lacks.
        let j = job(
            0,
            127,
            0,
            "",
            "/libccheck/app/hello-isa-beyond: CPU ISA level is lower than required\n",
        );
        let o = classify(&j, ProbeKind::Exec, None, APP);
        assert_eq!(o.verdict, Verdict::CpuUnsupported);
        assert_eq!(
            o.problems,
            vec![Problem::CpuUnsupported {
                level: None,
                cpu: None,
                needed_by: Some("hello-isa-beyond".into()),
            }]
        );
        assert_eq!(
            o.reason,
            "CPU ISA level is lower than hello-isa-beyond requires"
        );
    }

    #[test]
    fn glibc_trace_missing_library_wins_over_symbols() {
        let j = job(
            0,
            0,
            0,
            "\tlinux-vdso.so.1 (0x7)\n\tlibnowhere.so.1 => not found\n",
            "undefined symbol: nowhere\t(/libccheck/app/needs-nowhere)\n",
        );
        let o = classify(&j, ProbeKind::Load, None, APP);
        assert_eq!(o.verdict, Verdict::MissingLibrary);
        assert_eq!(
            o.problems,
            vec![Problem::MissingLibrary {
                library: "libnowhere.so.1".into(),
                needed_by: None,
                via: None,
            }]
        );
        assert_eq!(o.evidence.as_deref(), Some("libnowhere.so.1 => not found"));
    }

    #[test]
    fn glibc_exec_messages() {
        let j = job(
            0,
            127,
            0,
            "",
            "/libccheck/app/needs-nowhere: error while loading shared libraries: libnowhere.so.1: cannot open shared object file: No such file or directory\n",
        );
        let o = classify(&j, ProbeKind::Exec, None, APP);
        assert_eq!(o.verdict, Verdict::MissingLibrary);
        assert_eq!(
            o.problems[0],
            Problem::MissingLibrary {
                library: "libnowhere.so.1".into(),
                needed_by: Some("needs-nowhere".into()),
                via: None,
            }
        );
        let j = job(
            0,
            127,
            0,
            "",
            "/libccheck/app/x: symbol lookup error: /libccheck/app/x: undefined symbol: frob\n",
        );
        let o = classify(&j, ProbeKind::Exec, None, APP);
        assert_eq!(o.verdict, Verdict::MissingSymbol);
        assert_eq!(
            o.problems[0],
            Problem::MissingSymbol {
                symbol: "frob".into(),
                version: None,
                needed_by: Some("x".into())
            }
        );
    }

    #[test]
    fn qemu_names_a_missing_interpreter_like_the_kernel() {
        for argv0 in ["/libccheck/app/hello-a64", "qemu-aarch64-static", ""] {
            let line = format!(
                "{argv0}: Could not open '/lib/ld-linux-aarch64.so.1': No such file or directory"
            );
            let o = classify(
                &job(0, 255, 0, "", &format!("{line}\n")),
                ProbeKind::Exec,
                Some("/lib/ld-linux-aarch64.so.1"),
                "/libccheck/app",
            );
            assert_eq!(o.verdict, Verdict::NoInterpreter, "{argv0}");
            assert_eq!(o.evidence.as_deref(), Some(line.as_str()));
            assert_eq!(
                o.problems,
                vec![Problem::NoInterpreter {
                    interpreter: "/lib/ld-linux-aarch64.so.1".into()
                }]
            );
        }
        // The same words from a program that exits otherwise are the program's own business.
        let o = classify(
            &job(
                0,
                1,
                0,
                "",
                "x: Could not open '/etc/x.conf': No such file or directory\n",
            ),
            ProbeKind::Exec,
            None,
            "/libccheck/app",
        );
        assert_eq!(o.verdict, Verdict::ExitNonzero);
    }

    #[test]
    fn musl_messages() {
        let j = job(
            0,
            127,
            0,
            "",
            "Error loading shared library libstdc++.so.6: No such file or directory (needed by /libccheck/app/hello-cxx)\nError relocating /libccheck/app/hello-cxx: _Znwm: symbol not found\n",
        );
        let o = classify(&j, ProbeKind::Load, None, APP);
        assert_eq!(o.verdict, Verdict::MissingLibrary);
        assert_eq!(
            o.problems,
            vec![Problem::MissingLibrary {
                library: "libstdc++.so.6".into(),
                needed_by: Some("hello-cxx".into()),
                via: None,
            }]
        );
        let j = job(
            0,
            127,
            0,
            "",
            "Error relocating /libccheck/app/glibc-only: __snprintf_chk: symbol not found\nError relocating /libccheck/app/glibc-only: backtrace: symbol not found\n",
        );
        let o = classify(&j, ProbeKind::Load, None, APP);
        assert_eq!(o.verdict, Verdict::MissingSymbol);
        assert_eq!(o.reason, "2 symbols not found: __snprintf_chk, backtrace");
    }

    #[test]
    fn exec_failures_signals_timeouts_and_exit_codes() {
        let o = classify(
            &job(2, -1, 0, "", ""),
            ProbeKind::Exec,
            Some("/lib64/ld-linux-x86-64.so.2"),
            APP,
        );
        assert_eq!(o.verdict, Verdict::NoInterpreter);
        assert_eq!(
            o.reason,
            "interpreter /lib64/ld-linux-x86-64.so.2 is not in the image"
        );
        assert_eq!(
            classify(&job(8, -1, 0, "", ""), ProbeKind::Exec, None, APP).verdict,
            Verdict::Error
        );
        let o = classify(
            &job(0, -1, 11, "about to crash\n", ""),
            ProbeKind::Exec,
            None,
            APP,
        );
        assert_eq!(
            (o.verdict, o.signal.as_deref()),
            (Verdict::Crash, Some("SIGSEGV"))
        );
        let mut t = job(0, -1, 0, "", "");
        t.timed_out = true;
        t.ms = 3000;
        assert_eq!(
            classify(&t, ProbeKind::Exec, None, APP).verdict,
            Verdict::Timeout
        );
        let o = classify(
            &job(0, 3, 0, "connect failed: Network is unreachable\n", ""),
            ProbeKind::Exec,
            None,
            APP,
        );
        assert_eq!(o.verdict, Verdict::ExitNonzero);
        assert_eq!(
            o.reason,
            "exited with status 3: connect failed: Network is unreachable"
        );
        assert_eq!(
            classify(&job(0, 0, 0, "hi", ""), ProbeKind::Exec, None, APP).verdict,
            Verdict::Ok
        );
        assert_eq!(
            classify(&job(0, 1, 0, "", "weird"), ProbeKind::Load, None, APP).verdict,
            Verdict::Error
        );
    }

    /// What the program failed to dlopen, in its own output: glibc's dlerror() and musl's
    /// message without "(needed by", counted only when the program then failed.
    #[test]
    fn dlopen_failures_in_the_programs_output() {
        let o = classify(
            &job(
                0,
                3,
                0,
                "",
                "libz.so.1: cannot open shared object file: No such file or directory\n",
            ),
            ProbeKind::Exec,
            None,
            APP,
        );
        assert_eq!(o.verdict, Verdict::MissingLibrary);
        assert_eq!(
            o.problems,
            [Problem::MissingLibrary {
                library: "libz.so.1".into(),
                needed_by: None,
                via: Some("dlopen".into()),
            }]
        );
        let musl = classify(
            &job(
                0,
                1,
                0,
                "",
                "Error loading shared library libssl.so.3: No such file or directory\n",
            ),
            ProbeKind::Exec,
            None,
            APP,
        );
        assert!(is_via_dlopen(&musl.problems[0]), "{musl:?}");
        // A program that copes with a missing plug-in works.
        let coped = classify(
            &job(
                0,
                0,
                0,
                "",
                "libz.so.1: cannot open shared object file: No such file or directory\n",
            ),
            ProbeKind::Exec,
            None,
            APP,
        );
        assert_eq!(coped.verdict, Verdict::Ok, "{coped:?}");
        // The loader's probe never reads a program's dlerror().
        let load = classify(
            &job(
                0,
                3,
                0,
                "",
                "libz.so.1: cannot open shared object file: No such file or directory\n",
            ),
            ProbeKind::Load,
            None,
            APP,
        );
        assert_eq!(load.verdict, Verdict::Error);
    }
}
