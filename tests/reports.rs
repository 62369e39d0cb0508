//! Several reports from one run (`--report FORMAT=PATH`, `[reports]` in libccheck.toml), each
//! read back by its consumer, and the errors of a bad spec.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::*;

/// Every test case of a JUnit file as `name | failure type or pass`, through junitparser (PyPI).
fn junit_cases(file: &Path) -> Vec<String> {
    let py = "import sys\nfrom junitparser import JUnitXml, Failure\nfor suite in JUnitXml.fromfile(sys.argv[1]):\n    for case in suite:\n        r = [e for e in case.result if isinstance(e, Failure)]\n        print(case.name, '|', r[0].type if r else 'pass')\n";
    let o = Command::new("python3")
        .args(["-c", py])
        .arg(file)
        .output()
        .expect("python3");
    assert!(
        o.status.success(),
        "junitparser: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn one_run_writes_junit_sarif_and_json() {
    if !docker() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (xml, sarif, js) = (
        d.path().join("out.xml"),
        d.path().join("out.sarif"),
        d.path().join("r.json"),
    );
    let bin = fixture("hello-cxx");
    let bases = [image("musl"), image("bookworm"), image("distroless-base")].join(",");
    let spec = |f: &str, p: &Path| format!("{f}={}", p.display());
    let o = run(&[
        "--no-step-summary",
        "-b",
        &bases,
        "--report",
        &spec("junit", &xml),
        "--report",
        &spec("sarif", &sarif),
        "--report",
        &spec("json", &js),
        bin.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stdout.contains("works on 1 of 3 bases"), "{}", o.stdout);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    assert_eq!(v["schema"], "libccheck/report/v1");
    assert_eq!(v["mode"], "run");
    assert_eq!(v["summary"]["ok"], 1);
    let cases = junit_cases(&xml);
    assert_eq!(cases.len(), 3, "{cases:?}");
    assert_eq!(
        cases[2],
        format!("{} | missing_library", image("distroless-base"))
    );
    assert_eq!(sarif_results(&sarif), 2);
}

#[test]
fn reports_from_the_settings_file_and_flags_replacing_them() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("libccheck.toml"),
        "bases = [\"debian-12\"]\n[reports]\njson = \"a.json\"\nmarkdown = \"a.md\"\n",
    )
    .unwrap();
    let hello = fixture("hello");
    let h = hello.to_str().unwrap();
    let o = libccheck()
        .current_dir(d.path())
        .args(["--offline", "--no-step-summary", h])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("a.json")).unwrap()).unwrap();
    assert_eq!(v["mode"], "offline");
    let md = std::fs::read_to_string(d.path().join("a.md")).unwrap();
    assert!(md.starts_with("### libccheck: `"), "{md}");
    // --report replaces the file's table.
    let o = libccheck()
        .current_dir(d.path())
        .args([
            "--offline",
            "--no-step-summary",
            "--report",
            "junit=b.xml",
            h,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(junit_cases(&d.path().join("b.xml")), ["debian-12 | pass"]);
}

#[test]
fn a_bad_report_spec_or_path_is_one_line_and_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let hello = fixture("hello");
    let h = hello.to_str().unwrap();
    let missing_dir = d.path().join("nope/r.json");
    let in_missing = format!("json={}", missing_dir.display());
    let a_dir = format!("json={}", d.path().display());
    let cases: [(&[&str], &str); 5] = [
        (&["--report", "junit"], "not FORMAT=PATH"),
        (&["--report", "xml=a"], "unknown format \"xml\""),
        (&["--report", &in_missing], "no directory"),
        (&["--report", &a_dir], "is a directory"),
        (&["--report", "json=x", "--report", "sarif=x"], "same file"),
    ];
    for (args, want) in cases {
        let o = libccheck()
            .current_dir(d.path())
            .args(["--offline", "-b", "debian-12"])
            .args(args)
            .arg(h)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // Nothing was written, no stray file left.
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}

/// At 80 columns (`COLUMNS`, as a terminal would give) the table fits: the reason wraps, and
/// the image column goes where the reason would get too little room; the hints wrap too.
#[test]
fn the_table_fits_80_columns() {
    let o = libccheck()
        .current_dir(fixtures())
        .env("COLUMNS", "80")
        .args([
            "--offline",
            "--no-step-summary",
            "-b",
            "debian-11,debian-12,alpine,distroless-static",
            "hello-cxx",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("BASE"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(table.len() > 5, "{text}");
    let hints = text
        .lines()
        .skip_while(|l| *l != "how to fix:")
        .take_while(|l| !l.is_empty());
    for l in table.iter().copied().chain(hints) {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    insta::assert_snapshot!("table_80_columns", text);
    // Piped without COLUMNS: one line per base.
    let o = libccheck()
        .current_dir(fixtures())
        .env_remove("COLUMNS")
        .args([
            "--offline",
            "--no-step-summary",
            "-b",
            "debian-11,debian-12,alpine,distroless-static",
            "hello-cxx",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let rows = text
        .lines()
        .skip_while(|l| !l.starts_with("BASE"))
        .take_while(|l| !l.is_empty());
    assert_eq!(rows.count(), 5, "{text}");
}

/// What a failing program printed is in the human table's report, not only in the JSON.
#[test]
fn exec_output_of_a_failing_base_is_shown() {
    if !docker() {
        return;
    }
    let o = libccheck()
        .current_dir(fixtures())
        .args([
            "--no-step-summary",
            "--exec",
            "-b",
            image("bookworm"),
            "crash",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!(
            "\nexec probe output (first lines):\n  {} (stdout):\n    about to crash\n\n",
            image("bookworm")
        )),
        "{text}"
    );
    // A base where it works shows none.
    let o = libccheck()
        .current_dir(fixtures())
        .args([
            "--no-step-summary",
            "-b",
            image("bookworm"),
            "hello",
            "--",
            "--version",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("exec probe output"));
}

/// `audit` has no --offline: its pull failures do not suggest it.
#[test]
fn an_audit_pull_failure_does_not_suggest_offline() {
    if !docker() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("hello"), d.path().join("hello")).unwrap();
    let o = run(&[
        "audit",
        "--format",
        "json",
        "--to",
        "127.0.0.1:1/absent:none",
        d.path().to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let error = v["targets"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("pulling 127.0.0.1:1/absent:none failed: "),
        "{error}"
    );
    assert!(
        error.ends_with("(use a local image with --pull never)"),
        "{error}"
    );
}

/// `merge` writes its reports the same way.
#[test]
fn merge_writes_reports_too() {
    let d = tempfile::tempdir().unwrap();
    let part = d.path().join("part.json");
    let o = libccheck()
        .current_dir(fixtures())
        .args([
            "--offline",
            "--no-step-summary",
            "-b",
            "debian-11,debian-12",
            "--report",
        ])
        .arg(format!("json={}", part.display()))
        .arg("hello")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let xml = d.path().join("merged.xml");
    let o = run(&[
        "merge",
        "--no-step-summary",
        "--report",
        &format!("junit={}", xml.display()),
        part.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(
        junit_cases(&xml),
        ["debian-11 | missing_version", "debian-12 | pass"]
    );
}
