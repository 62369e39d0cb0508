//! The loader simulation on objects built from fixtures/src, against roots made of the host's own
//! loaders (musl's comes with musl-tools, which the fixture build needs), checked against what the
//! host's musl loader really prints. No Docker.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use libccheck::base::{BaseProfile, Library};
use libccheck::classify::{self, ProbeKind, Problem, Verdict};
use libccheck::predict::{self, Subject};
use libccheck::probe::JobResult;

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
    libccheck::profiles::profile_from_dir(root.path(), "sha256:host-root")
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
fn predict_with_ifunc_lib(program: &str, base: &BaseProfile) -> predict::Prediction {
    let (lp, le) = parse(&fixture("libifunc.so.1"));
    let sidecars: BTreeMap<String, Library> =
        [("/app/libifunc.so.1".to_string(), Library::new(lp, le))].into();
    let (profile, exports) = parse(&fixture(program));
    predict::predict(
        &Subject {
            profile: &profile,
            exports: &exports,
            path: format!("/app/{program}"),
            sidecars: &sidecars,
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
    let agree = libccheck::run::agreement(&pr, real.verdict, &real.problems);
    assert_eq!(agree, Some(true), "musl said: {real:?}");
}

