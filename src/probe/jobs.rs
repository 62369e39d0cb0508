//! What the probe is asked to do in a container, and what its answers mean: the container's
//! layout, the load-probe jobs of a file (its own interpreter in trace/list mode), the exec job,
//! the facts jobs (os-release, the libc's version), and the verdict of a base from their results.
//! Pure.

use crate::elf::{self, BinaryProfile, Kind, LibcFlavour};
use crate::probe::classify::{self, ProbeKind};
use crate::probe::{Job, JobResult};
use crate::verdict::{self, Outcome, Verdict};

/// Where uploads land in the container (an anonymous volume, since the root is read-only).
pub const WORK_DIR: &str = "/libccheck";
/// The binary's directory inside the container: `$ORIGIN` for it.
pub const APP_DIR: &str = "/libccheck/app";

/// `amd64` → `x86-64`: the ELF machine name of a Docker architecture.
pub fn machine_of_docker_arch(arch: &str) -> Option<&'static str> {
    elf::arch::of_docker(arch).map(|a| a.machine)
}

const GLIBC_TRACE: [&str; 3] = ["LD_TRACE_LOADED_OBJECTS=1", "LD_BIND_NOW=1", "LD_WARN=yes"];

/// The load-probe jobs for one file at `target` (a container path): `name` runs its own
/// interpreter (glibc in trace mode, musl's `--list`); a shared object, which has none, gets
/// `name-glibc` and `name-musl`, one per loader the image may have. A static file gets none.
pub fn load_jobs(profile: &BinaryProfile, target: &str, name: &str) -> Vec<Job> {
    match (&profile.interpreter, profile.kind) {
        (Some(interp), _) if elf::is_musl_loader(interp) => {
            vec![Job::new(name, &[], &[interp, "--list", target])]
        }
        (Some(interp), _) => vec![Job::new(name, &GLIBC_TRACE, &[interp, target])],
        (None, Kind::SharedObject) => match elf::arch::of_machine(&profile.machine) {
            Some(a) => vec![
                Job::new(
                    &format!("{name}-glibc"),
                    &GLIBC_TRACE,
                    &[a.glibc_loader, target],
                ),
                Job::new(
                    &format!("{name}-musl"),
                    &[],
                    &[a.musl_loader, "--list", target],
                ),
            ],
            None => vec![],
        },
        _ => vec![],
    }
}

/// A load job mapping `scope` first, as the host program that loads a module has those
/// libraries in its global scope before the module's own.
pub fn with_host_scope(mut job: Job, scope: &[String]) -> Job {
    if !scope.is_empty() {
        job.env.push(format!("LD_PRELOAD={}", scope.join(" ")));
    }
    job
}

/// Whether a job of [`jobs_for`] is the load probe of the binary.
pub fn is_load_job(job: &Job) -> bool {
    job.name == "load" || job.name.starts_with("load-")
}

/// Classify the jobs [`load_jobs`] made under `name`; `None` when there was nothing to load
/// (static). For a shared object, the first loader that loads it wins; ENOENT means that loader
/// is absent, and none present means no loader at all.
pub fn load_outcome<'r>(
    profile: &BinaryProfile,
    find: impl Fn(&str) -> Option<&'r JobResult>,
    name: &str,
    app_dir: &str,
) -> Option<Outcome> {
    if let Some(j) = find(name) {
        return Some(classify::classify(
            j,
            ProbeKind::Load,
            profile.interpreter.as_deref(),
            app_dir,
        ));
    }
    if profile.interpreter.is_some() || profile.kind != Kind::SharedObject {
        return None;
    }
    let tried: Vec<Outcome> = [format!("{name}-glibc"), format!("{name}-musl")]
        .iter()
        .filter_map(|n| find(n))
        .filter(|j| j.exec_errno != 2)
        .map(|j| classify::classify(j, ProbeKind::Load, None, app_dir))
        .collect();
    Some(
        match tried
            .iter()
            .find(|o| o.verdict == Verdict::Ok)
            .or(tried.first())
        {
            Some(o) => o.clone(),
            None => {
                let mut o = Outcome::new(
                    Verdict::NoInterpreter,
                    "the image has no dynamic loader to load this shared object",
                );
                o.problems = vec![verdict::Problem::NoInterpreter {
                    interpreter: "(any dynamic loader)".into(),
                }];
                o
            }
        },
    )
}

/// The probe jobs for this binary in an image of `base_machine` (pure).
pub fn jobs_for(
    profile: &BinaryProfile,
    binary_name: &str,
    exec_args: Option<&[String]>,
    base_machine: &str,
) -> Vec<Job> {
    let target = format!("{APP_DIR}/{binary_name}");
    let mut jobs = vec![
        Job::read("os-release", "/etc/os-release"),
        Job::read("os-release-usr", "/usr/lib/os-release"),
    ];
    // The image's libc, read with the image's names (a 32-bit program runs on an amd64 image).
    let names = elf::arch::of_machine(base_machine);
    if let Some(a) = &names {
        jobs.push(Job::new(
            "libc-glibc",
            &[],
            &[&format!("/lib/{}/libc.so.6", a.triplet)],
        ));
        jobs.push(Job::new("libc-glibc-lib64", &[], &["/lib64/libc.so.6"]));
        jobs.push(Job::new("libc-musl", &[], &[a.musl_loader]));
    }
    // A program built for an ISA level above the baseline: which level has the daemon's CPU?
    if crate::cpu::bits_of(&profile.x86_isa_needed) & !1 != 0 {
        jobs.push(Job::read(CPUINFO_JOB, "/proc/cpuinfo"));
    }
    jobs.extend(load_jobs(profile, &target, "load"));
    // A glibc program whose interpreter a musl base lacks: what would musl's loader do with it?
    if let (Some(interp), Some(a)) = (
        &profile.interpreter,
        elf::arch::of_machine(&profile.machine),
    ) && elf::is_glibc_loader(interp)
    {
        jobs.push(Job::new(
            "musl-compat",
            &[],
            &[a.musl_loader, "--list", &target],
        ));
    }
    if let Some(args) = exec_args {
        let mut argv = vec![target.clone()];
        argv.extend(args.iter().cloned());
        jobs.push(Job {
            name: "exec".into(),
            env: vec![],
            argv,
        });
    }
    jobs
}

/// The job reading the CPU's flags.
const CPUINFO_JOB: &str = "cpuinfo";

/// The highest x86-64 ISA level of the CPU the container ran on, when the jobs read it.
pub fn cpu_level(results: &[JobResult]) -> Option<&'static str> {
    let r = results
        .iter()
        .find(|r| r.name == CPUINFO_JOB && r.exec_errno == 0)?;
    crate::cpu::cpu_bits(&String::from_utf8_lossy(&r.stdout)).map(crate::cpu::highest)
}

/// What the facts jobs say about the image's libc and OS (pure).
pub fn image_facts(results: &[JobResult]) -> (Option<String>, Option<String>) {
    let get = |n: &str| {
        results
            .iter()
            .find(|r| r.name == n && r.exec_errno == 0 && !r.timed_out)
    };
    let glibc = ["libc-glibc", "libc-glibc-lib64"]
        .iter()
        .filter_map(|n| get(n))
        .find_map(|r| Some(format!("glibc {}", elf::version::glibc_release(&r.stdout)?)));
    let musl = get("libc-musl").and_then(|r| {
        let t = String::from_utf8_lossy(&r.stderr);
        let v = t.lines().find_map(|l| l.strip_prefix("Version "))?;
        Some(format!("musl {}", v.trim()))
    });
    let libc = match (glibc, musl) {
        (Some(g), Some(m)) => Some(format!("{g} + {m}")),
        (g, m) => g.or(m),
    };
    let os = ["os-release", "os-release-usr"]
        .iter()
        .filter_map(|n| get(n))
        .find_map(|r| {
            String::from_utf8_lossy(&r.stdout).lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        });
    let ran_facts = results.iter().any(|r| r.name.starts_with("libc-"));
    (libc.or_else(|| ran_facts.then(|| "none".to_string())), os)
}

/// Combine the probes of one base into its verdict (pure).
pub fn base_verdict(
    profile: &BinaryProfile,
    results: &[JobResult],
) -> (Option<Outcome>, Option<Outcome>, Verdict, String) {
    let find = |n: &str| results.iter().find(|r| r.name == n);
    let interpreter = profile.interpreter.as_deref();
    // A module's host provides some of its symbols, as its prediction says (`loader::host`).
    let load = load_outcome(profile, find, "load", APP_DIR).map(|mut o| {
        crate::loader::host::leave_to_host(
            profile.kind,
            &mut o.verdict,
            &mut o.reason,
            &mut o.problems,
        );
        o
    });
    let exec = find("exec").map(|j| classify::classify(j, ProbeKind::Exec, interpreter, APP_DIR));
    let (verdict, reason) = match (&load, &exec) {
        (Some(l), _) if l.verdict != Verdict::Ok => (l.verdict, l.reason.clone()),
        (_, Some(e)) => (e.verdict, e.reason.clone()),
        (Some(l), None) => (l.verdict, l.reason.clone()),
        (None, None) => {
            let why = if profile.libc.flavour == LibcFlavour::Static {
                "static: no loader involved"
            } else {
                "nothing to load"
            };
            (Verdict::Ok, why.to_string())
        }
    };
    (load, exec, verdict, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_from_probe_output() {
        let r = |name: &str, errno: i32, out: &str, err: &str| JobResult {
            name: name.into(),
            exec_errno: errno,
            stdout: out.into(),
            stderr: err.into(),
            ..Default::default()
        };
        let (libc, os) = image_facts(&[
            r(
                "os-release",
                0,
                "NAME=x\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
                "",
            ),
            r(
                "libc-glibc",
                0,
                "GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36.\n",
                "",
            ),
            r("libc-musl", 2, "", ""),
        ]);
        assert_eq!(libc.as_deref(), Some("glibc 2.36"));
        assert_eq!(os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        let (libc, os) = image_facts(&[
            r("os-release", 2, "", ""),
            r("libc-glibc", 2, "", ""),
            r("libc-musl", 0, "", "musl libc (x86_64)\nVersion 1.2.5\n"),
        ]);
        assert_eq!((libc.as_deref(), os), (Some("musl 1.2.5"), None));
        let (libc, _) = image_facts(&[r("libc-glibc", 2, "", ""), r("libc-musl", 2, "", "")]);
        assert_eq!(libc.as_deref(), Some("none"));
    }
}
