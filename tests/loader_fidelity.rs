//! The loader simulation on objects built from fixtures/src, against roots made of the host's own
//! loaders (musl's comes with musl-tools, which the fixture build needs), checked against what the
//! host's musl loader really prints. No Docker.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use libccheck::image::base::{BaseProfile, Library};
use libccheck::loader::{self, Subject};
use libccheck::probe::JobResult;
use libccheck::probe::classify::{self, ProbeKind};
use libccheck::verdict::{Problem, Verdict};

use crate::util::*;

const MUSL_LD: &str = "/lib/ld-musl-x86_64.so.1";

/// A base profile of a root holding these host files (host path → path in the root).
fn base_of(files: &[(&str, &str)]) -> BaseProfile {
    let root = tempfile::tempdir().unwrap();
    for (host, at) in files {
        let dest = root.path().join(at.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        let real = std::fs::canonicalize(host).unwrap_or_else(|e| panic!("{host}: {e}"));
        std::fs::copy(real, dest).unwrap();
    }
    libccheck::image::read::profile_from_dir(root.path(), "sha256:host-root")
}

fn musl_base() -> BaseProfile {
    base_of(&[(MUSL_LD, MUSL_LD)])
}

fn glibc_base() -> BaseProfile {
    base_of(&[
        ("/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2"),
        (
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib/x86_64-linux-gnu/libc.so.6",
        ),
    ])
}

fn parse(path: &Path) -> (libccheck::elf::BinaryProfile, libccheck::elf::ExportTable) {
    libccheck::elf::parse_for_loader(&std::fs::read(path).unwrap()).unwrap()
}

/// Predict fixture `program` on `base`, libifunc.so.1 beside it (its RUNPATH is $ORIGIN).
fn predict_with_ifunc_lib(program: &str, base: &BaseProfile) -> loader::Prediction {
    let (lp, le) = parse(&fixture("libifunc.so.1"));
    let sidecars: BTreeMap<String, Library> =
        [("/app/libifunc.so.1".to_string(), Library::new(lp, le))].into();
    let (profile, exports) = parse(&fixture(program));
    loader::predict(
        &Subject {
            profile: &profile,
            exports: &exports,
            path: format!("/app/{program}"),
            sidecars: &sidecars,
            host_scope: &[],
        },
        base,
    )
}

/// What the host's musl loader says of `path` in list mode: (stdout, stderr).
fn musl_list(path: &Path) -> (Vec<u8>, Vec<u8>) {
    let o = Command::new(MUSL_LD)
        .arg("--list")
        .arg(path)
        .output()
        .unwrap();
    (o.stdout, o.stderr)
}

/// libifunc.so.1 defines `ifunc_add` only as an IFUNC: glibc binds it; musl's lookup skips that
/// symbol type, for the program and for the library's own call, as its real loader shows.
#[test]
fn ifunc_definitions_are_invisible_to_musl() {
    let pr = predict_with_ifunc_lib("needs-ifunc", &glibc_base());
    assert_eq!(
        (pr.verdict, pr.loader.as_deref()),
        (Verdict::Ok, Some("glibc")),
        "{pr:?}"
    );
    let pr = predict_with_ifunc_lib("needs-ifunc-musl", &musl_base());
    assert_eq!(pr.loader.as_deref(), Some("musl"));
    let missing = |by: &str| Problem::MissingSymbol {
        symbol: "ifunc_add".into(),
        version: None,
        needed_by: Some(by.into()),
    };
    assert_eq!(
        pr.problems,
        vec![missing("needs-ifunc-musl"), missing("libifunc.so.1")],
        "{pr:?}"
    );
    let (stdout, stderr) = musl_list(&fixture("needs-ifunc-musl"));
    let job = JobResult {
        exited: true,
        exit_code: 127,
        stdout_total: stdout.len() as u64,
        stderr_total: stderr.len() as u64,
        stdout,
        stderr,
        ..Default::default()
    };
    let real = classify::classify(&job, ProbeKind::Load, Some(MUSL_LD), "/nonexistent");
    let c = libccheck::probe::agreement::compare(&pr, real.verdict, &real.problems, false);
    assert_eq!(c.agree, Some(true), "musl said: {real:?}");
}

/// The audit of xsmod.so (shaped like Perl's Storable.so) on the host-musl root, verified by the
/// musl loader's real report as the probe would capture all of it or its first `cap` bytes.
fn audit_xsmod(report: impl Fn(&[u8]) -> (Vec<u8>, u64)) -> libccheck::audit::FileResult {
    let src = tempfile::tempdir().unwrap();
    let at = src.path().join("usr/lib/perl5/auto/Xsmod");
    std::fs::create_dir_all(&at).unwrap();
    std::fs::copy(fixture("xsmod.so"), at.join("xsmod.so")).unwrap();
    let source = libccheck::audit::source::source_from_dir(src.path());
    let base = musl_base();
    let predictions = libccheck::audit::predict_all(&source, true, &base);
    let (stdout, stderr) = musl_list(&fixture("xsmod.so"));
    let (kept, total) = report(&stderr);
    let job = JobResult {
        name: "f0-musl".into(),
        exited: true,
        exit_code: 127,
        stdout_total: stdout.len() as u64,
        stdout,
        stderr: kept,
        stderr_total: total,
        ..Default::default()
    };
    let outcomes = libccheck::audit::verify::outcomes(&source, true, &[job]);
    let (files, _) = libccheck::audit::assemble(&source, &base, predictions, Some(&outcomes));
    files.into_iter().next().unwrap()
}

/// The first lines of `stderr`, up to and including the one naming `symbol`, as a capped capture.
fn cut_after(stderr: &[u8], symbol: &str) -> (Vec<u8>, u64) {
    let text = String::from_utf8_lossy(stderr);
    let at = text
        .find(&format!(": {symbol}: "))
        .expect("symbol in musl's report");
    let end = at + text[at..].find('\n').unwrap() + 1;
    (stderr[..end].to_vec(), stderr.len() as u64)
}

fn symbols(problems: &[Problem]) -> Vec<&str> {
    problems
        .iter()
        .map(|p| match p {
            Problem::MissingSymbol { symbol, .. } => symbol.as_str(),
            _ => "(not a symbol)",
        })
        .collect()
}

/// musl reports every failing relocation, a hundred Perl ones first among them; the prediction
/// leaves the same host symbols out on both sides, so a whole report agrees, and one the capture
/// cut after `__memcpy_chk` (Storable.so's under the audit's 8 KiB) agrees with what it shows.
#[test]
fn perl_module_on_musl_agrees_whole_or_cut() {
    let whole = audit_xsmod(|e| (e.to_vec(), e.len() as u64));
    assert_eq!(
        (whole.verified, whole.agree),
        (Some(Verdict::MissingSymbol), Some(true)),
        "{whole:?}"
    );
    assert_eq!(symbols(&whole.problems), ["__memcpy_chk", "__sprintf_chk"]);
    assert!(
        whole.note.as_deref().unwrap_or("").contains("(Perl)"),
        "{whole:?}"
    );
    assert!(whole.differs.is_none());

    let cut = audit_xsmod(|e| cut_after(e, "__memcpy_chk"));
    assert_eq!(
        (cut.verified, cut.agree),
        (Some(Verdict::MissingSymbol), Some(true)),
        "{cut:?}"
    );

    // Cut before any glibc-only symbol: the run has not shown whether the module loads.
    let blind = audit_xsmod(|e| cut_after(e, "Perl_sv_2iv_flags"));
    assert_eq!((blind.verified, blind.agree), (None, None), "{blind:?}");
    assert_eq!(
        blind.verdict,
        Verdict::MissingSymbol,
        "the prediction stands"
    );
}

/// A whole report that names other symbols than predicted disagrees, and says which.
#[test]
fn perl_module_disagreement_names_the_details() {
    let swapped = |e: &[u8]| {
        let t = String::from_utf8_lossy(e).replace(": __sprintf_chk: ", ": __vsnprintf_chk: ");
        (t.clone().into_bytes(), t.len() as u64)
    };
    let f = audit_xsmod(swapped);
    assert_eq!(f.agree, Some(false), "{f:?}");
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(
        json["differs"],
        serde_json::json!({"predicted_only": ["__sprintf_chk"], "run_only": ["__vsnprintf_chk"]})
    );
    let whole = audit_xsmod(|e| (e.to_vec(), e.len() as u64));
    let json = serde_json::to_value(&whole).unwrap();
    assert!(
        json.get("differs").is_none(),
        "absent when they agree: {json}"
    );
}

/// What the host's glibc loader says of `path` in trace mode with every symbol bound (the load
/// probe's command): (stdout, stderr).
fn glibc_trace(path: &Path) -> (Vec<u8>, Vec<u8>) {
    let o = Command::new("/lib64/ld-linux-x86-64.so.2")
        .arg(path)
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .env("LD_BIND_NOW", "1")
        .env("LD_WARN", "yes")
        .output()
        .unwrap();
    (o.stdout, o.stderr)
}

/// Predict fixture `file` (a shared object, placed at /app) on `base`.
fn predict_fixture(file: &str, base: &BaseProfile) -> loader::Prediction {
    let (profile, exports) = parse(&fixture(file));
    loader::predict(
        &Subject {
            profile: &profile,
            exports: &exports,
            path: format!("/app/{file}"),
            sidecars: &BTreeMap::<String, Library>::new(),
            host_scope: &[],
        },
        base,
    )
}

fn job_of(stdout: Vec<u8>, stderr: Vec<u8>) -> JobResult {
    JobResult {
        exited: true,
        exit_code: 127,
        stdout_total: stdout.len() as u64,
        stderr_total: stderr.len() as u64,
        stdout,
        stderr,
        ..Default::default()
    }
}

/// nolibc.so (shaped like valgrind's vgpreload_*.so) names no library: musl's loader, which is
/// also its libc, is then not in the global scope, and its libc calls stay unbound — as under
/// glibc, and as the real musl loader reports.
#[test]
fn a_module_that_names_no_libc_finds_no_libc_symbol_under_musl() {
    let missing = |s: &str| Problem::MissingSymbol {
        symbol: s.into(),
        version: None,
        needed_by: Some("nolibc.so".into()),
    };
    let pr = predict_fixture("nolibc.so", &musl_base());
    assert_eq!(pr.loader.as_deref(), Some("musl"));
    assert_eq!(pr.verdict, Verdict::MissingSymbol, "{pr:?}");
    let mut got = pr.problems.clone();
    got.sort_by_key(|p| format!("{p:?}"));
    assert_eq!(got, vec![missing("_exit"), missing("getpid")]);
    let (stdout, stderr) = musl_list(&fixture("nolibc.so"));
    let real = classify::classify(
        &job_of(stdout, stderr),
        ProbeKind::Load,
        Some(MUSL_LD),
        "/nonexistent",
    );
    let c = libccheck::probe::agreement::compare(&pr, real.verdict, &real.problems, false);
    assert_eq!(c.agree, Some(true), "musl said: {real:?}");

    let pr = predict_fixture("nolibc.so", &glibc_base());
    assert_eq!(pr.verdict, Verdict::MissingSymbol, "{pr:?}");
}

/// glibc's report on plugin.so names 64 symbols its host provides; a capture cut in the middle
/// of a line (`undefined symbol: app_ho`) agrees with the prediction on what it shows, and the
/// fragment names no symbol.
#[test]
fn a_cut_glibc_report_ends_at_its_last_whole_line() {
    let pr = predict_fixture("plugin.so", &glibc_base());
    assert_eq!(pr.verdict, Verdict::MissingSymbol, "{pr:?}");
    assert_eq!(pr.problems.len(), 64);
    let (stdout, stderr) = glibc_trace(&fixture("plugin.so"));
    // The undefined symbols are on one of the streams; cut that one inside its fifth line.
    let (cut_out, on_stdout) = match String::from_utf8_lossy(&stderr).contains("undefined symbol") {
        true => (stderr.clone(), false),
        false => (stdout.clone(), true),
    };
    let text = String::from_utf8_lossy(&cut_out).into_owned();
    let fifth = text.match_indices("undefined symbol: ").nth(4).unwrap().0;
    let keep = fifth + "undefined symbol: app_ho".len();
    let mut job = match on_stdout {
        true => job_of(cut_out[..keep].to_vec(), stderr.clone()),
        false => job_of(stdout.clone(), cut_out[..keep].to_vec()),
    };
    job.stdout_total = stdout.len() as u64;
    job.stderr_total = stderr.len() as u64;
    let real = classify::classify(
        &job,
        ProbeKind::Load,
        Some("/lib64/ld-linux-x86-64.so.2"),
        "/nonexistent",
    );
    assert_eq!(real.problems.len(), 4, "{real:?}");
    let c = libccheck::probe::agreement::compare(&pr, real.verdict, &real.problems, true);
    assert_eq!(c.agree, Some(true), "{c:?}; the run said {real:?}");
}

/// A debug-info-only file (objcopy --only-keep-debug) keeps its library's program headers, but
/// its PT_DYNAMIC has no bytes: glibc's loader refuses to map it, musl's maps it and finds nothing
/// to bind. Both predictions agree with the real loaders.
#[test]
fn musl_crashes_on_a_writable_segment_in_its_read_only_first_page() {
    let file = "libgreet-rw-in-first-page.so";
    let pr = predict_fixture(file, &musl_base());
    assert_eq!(pr.verdict, Verdict::Crash, "{pr:?}");
    assert!(
        matches!(&pr.problems[..], [Problem::LoaderCrash { needed_by: Some(n), .. }] if n == file),
        "{pr:?}"
    );
    // The real musl loader: killed by SIGSEGV while mapping it.
    let o = Command::new(MUSL_LD)
        .arg("--list")
        .arg(fixture(file))
        .output()
        .unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&o.status),
        Some(11),
        "{o:?}"
    );
    let job = JobResult {
        signal: 11,
        exited: false,
        exit_code: -1,
        ..job_of(o.stdout, o.stderr)
    };
    let real = classify::classify(&job, ProbeKind::Load, Some(MUSL_LD), "/nonexistent");
    assert_eq!(real.verdict, Verdict::Crash, "{real:?}");
    let c = libccheck::probe::agreement::compare(&pr, real.verdict, &real.problems, false);
    assert_eq!(c.agree, Some(true));
    // The original layout maps fine.
    assert_eq!(
        predict_fixture("libgreet.so.1", &musl_base()).verdict,
        Verdict::Ok
    );
}

#[test]
fn glibc_refuses_a_debug_info_only_file() {
    let pr = predict_fixture("libgreet.debug", &glibc_base());
    assert_eq!(
        pr.problems,
        vec![Problem::Unsupported {
            what: "object file has no dynamic section".into(),
            needed_by: Some("libgreet.debug".into()),
        }],
        "{pr:?}"
    );
    let (stdout, stderr) = glibc_trace(&fixture("libgreet.debug"));
    let real = classify::classify(
        &job_of(stdout, stderr),
        ProbeKind::Load,
        Some("/lib64/ld-linux-x86-64.so.2"),
        "/nonexistent",
    );
    assert!(
        matches!(&real.problems[..], [Problem::Unsupported { what, .. }] if what == "object file has no dynamic section"),
        "{real:?}"
    );
    let c = libccheck::probe::agreement::compare(&pr, real.verdict, &real.problems, false);
    assert_eq!(c.agree, Some(true), "glibc said: {real:?}");

    let pr = predict_fixture("libgreet.debug", &musl_base());
    assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
    let (stdout, stderr) = musl_list(&fixture("libgreet.debug"));
    let mut job = job_of(stdout, stderr);
    job.exit_code = 0;
    let real = classify::classify(&job, ProbeKind::Load, Some(MUSL_LD), "/nonexistent");
    assert_eq!(real.verdict, Verdict::Ok, "{real:?}");
}
