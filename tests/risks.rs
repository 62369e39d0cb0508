//! Run-time risks against the fixture images: fixtures/expected-risks.tsv asserted cell by cell
//! (predicted, --no-run), and the likely cause of a failed run named and, for the thread stack,
//! proven by a second run.

use serde_json::Value;

use crate::util::*;

/// (binary, [(base short name, risk kinds)]) of every row of the table.
fn expected() -> Vec<(String, Vec<(String, String)>)> {
    let text = std::fs::read_to_string(root().join("fixtures/expected-risks.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(
                f.len(),
                1 + BASES.len(),
                "bad row in expected-risks.tsv: {l}"
            );
            let cells = BASES
                .iter()
                .zip(&f[1..])
                .map(|((short, _), kinds)| (short.to_string(), kinds.to_string()))
                .collect();
            (f[0].to_string(), cells)
        })
        .collect()
}

fn all_bases() -> String {
    BASES.iter().map(|(_, i)| *i).collect::<Vec<_>>().join(",")
}

/// The risk kinds of a base's prediction, as the table writes them.
fn kinds(base: &Value) -> String {
    let kinds: Vec<&str> = base["prediction"]["risks"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["kind"].as_str()).collect())
        .unwrap_or_default();
    if kinds.is_empty() {
        "-".into()
    } else {
        kinds.join(",")
    }
}

#[test]
fn every_fixture_programs_risks_on_every_fixture_base() {
    if !docker() {
        return;
    }
    let mut wrong = vec![];
    for (binary, cells) in expected() {
        let path = fixture(&binary);
        let (_, v) = json(&[
            "--no-run",
            "--format",
            "json",
            "-b",
            &all_bases(),
            path.to_str().unwrap(),
        ]);
        for ((short, want), got) in cells.iter().zip(v["bases"].as_array().unwrap()) {
            let got_kinds = kinds(got);
            if &got_kinds != want {
                wrong.push(format!(
                    "{binary} on {short}: expected {want}, predicted {got_kinds}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "risks differ from fixtures/expected-risks.tsv:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_risk_names_its_evidence_base_fact_and_fix() {
    if !docker() {
        return;
    }
    let (_, v) = json(&[
        "--no-run",
        "--format",
        "json",
        "-b",
        image("musl"),
        fixture("go-certs").to_str().unwrap(),
    ]);
    let risk = &v["bases"][0]["prediction"]["risks"][0];
    assert_eq!(risk["severity"], "warning");
    assert!(
        risk["evidence"].as_str().unwrap().contains("crypto/x509"),
        "{risk}"
    );
    assert!(
        risk["base_fact"].as_str().unwrap().contains("no CA bundle"),
        "{risk}"
    );
    assert!(
        risk["fix"].as_str().unwrap().contains("ca-certificates"),
        "{risk}"
    );
}

/// The run of `binary` with the exec probe on `bases`, as JSON.
fn exec_run(binary: &str, bases: &[&str]) -> (i32, Value) {
    let bases: Vec<&str> = bases.iter().map(|b| image(b)).collect();
    json(&[
        "--exec",
        "--timeout",
        "5",
        "--format",
        "json",
        "-b",
        &bases.join(","),
        fixture(binary).to_str().unwrap(),
    ])
}

#[test]
fn a_thread_stack_crash_is_confirmed_by_a_run_with_8_mib_stacks() {
    if !docker() {
        return;
    }
    let (code, v) = exec_run("threadstack-musl", &["musl"]);
    assert_eq!(code, 1, "{v}");
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "crash", "{b}");
    let cause = &b["likely_cause"];
    assert_eq!(cause["kind"], "thread_stack", "{b}");
    assert_eq!(cause["confirmed"], true, "{b}");
    assert!(
        cause["detail"]
            .as_str()
            .unwrap()
            .contains("-Wl,-z,stack-size=8388608"),
        "{cause}"
    );
    // The static one brings musl along: proven on a glibc base too.
    let (_, v) = exec_run("threadstack-musl-static", &["bookworm"]);
    assert_eq!(v["bases"][0]["likely_cause"]["confirmed"], true, "{v}");
}

/// A library the program declares required in its `.note.dlopen` and the base lacks is a
/// problem of the prediction (missing_library via dlopen), and the program's own dlerror() in
/// the run proves it; without the exec probe the prediction says it.
#[test]
fn a_required_dlopen_library_missing_is_predicted_and_proven_by_the_run() {
    if !docker() {
        return;
    }
    let (code, v) = exec_run("dlopen-note", &["bookworm", "distroless-base"]);
    assert_eq!(code, 1, "{v}");
    let (slim, distroless) = (&v["bases"][0], &v["bases"][1]);
    assert_eq!(slim["verdict"], "ok", "{slim}");
    let p = &distroless["prediction"];
    assert_eq!(p["verdict"], "missing_library", "{p}");
    assert_eq!(
        p["problems"][0],
        serde_json::json!({"kind": "missing_library", "library": "libz.so.1", "needed_by": "dlopen-note", "via": "dlopen"})
    );
    assert_eq!(distroless["verdict"], "missing_library", "{distroless}");
    assert_eq!(
        distroless["exec"]["problems"][0]["via"], "dlopen",
        "{distroless}"
    );
    assert_eq!(distroless["agree"], true, "{distroless}");
    // No exec probe: the load alone is fine, and the prediction decides, marked as such.
    let (code, v) = json(&[
        "--format",
        "json",
        "-b",
        image("distroless-base"),
        fixture("dlopen-note").to_str().unwrap(),
    ]);
    let b = &v["bases"][0];
    assert_eq!(
        (code, &b["verdict"]),
        (1, &serde_json::json!("missing_library")),
        "{b}"
    );
    assert!(
        b["reason"]
            .as_str()
            .unwrap()
            .contains("start the program with -- ARGS"),
        "{b}"
    );
}

/// A library named beside dlopen is a risk where it cannot be opened, found with the loader's
/// search and with what it needs: on distroless trixie libssl.so.3 is there, but its
/// libcrypto.so.3 needs libz.so.1. The run failing on it agrees with the risk.
#[test]
fn a_dlopen_risk_follows_what_the_library_needs() {
    if !docker() {
        return;
    }
    let (_, v) = exec_run(
        "dlopen-string",
        &["bookworm", "distroless-base", "distroless-base-trixie"],
    );
    let b = v["bases"].as_array().unwrap();
    let risk = |i: usize| b[i]["prediction"]["risks"][0].clone();
    assert_eq!(
        risk(0)["base_fact"],
        "no libssl.so.3 in the base",
        "{}",
        b[0]
    );
    assert!(b[1]["prediction"]["risks"].is_null(), "{}", b[1]);
    assert_eq!(
        risk(2)["base_fact"],
        "no libz.so.1 in the base, which libcrypto.so.3 needs",
        "{}",
        b[2]
    );
    assert!(
        risk(2)["fix"].as_str().unwrap().contains("zlib1g"),
        "{}",
        b[2]
    );
    for (i, lib) in [(0, "libssl.so.3"), (2, "libz.so.1")] {
        assert_eq!(b[i]["verdict"], "missing_library", "{}", b[i]);
        assert_eq!(b[i]["exec"]["problems"][0]["library"], lib, "{}", b[i]);
        assert_eq!(b[i]["agree"], true, "{}", b[i]);
    }
    assert_eq!(
        (&b[1]["verdict"], &b[1]["agree"]),
        (&serde_json::json!("ok"), &serde_json::json!(true))
    );
}

#[test]
fn a_crash_with_another_cause_is_not_confirmed() {
    if !docker() {
        return;
    }
    let (_, v) = exec_run("threadcrash-musl", &["musl"]);
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "crash", "{b}");
    assert_eq!(b["likely_cause"]["kind"], "thread_stack", "{b}");
    assert_eq!(b["likely_cause"]["confirmed"], false, "{b}");
    assert!(
        b["likely_cause"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("not confirmed"),
        "{b}"
    );
}

#[test]
fn a_failing_exit_names_the_missing_ca_bundle_but_not_where_the_run_passed() {
    if !docker() {
        return;
    }
    let (_, v) = exec_run("go-certs", &["bookworm", "distroless-static"]);
    let (slim, distroless) = (&v["bases"][0], &v["bases"][1]);
    assert_eq!(slim["verdict"], "exit_nonzero", "{slim}");
    assert_eq!(slim["likely_cause"]["kind"], "ca_bundle", "{slim}");
    assert!(slim["likely_cause"]["confirmed"].is_null(), "{slim}");
    assert_eq!(distroless["verdict"], "ok", "{distroless}");
    assert!(distroless.get("likely_cause").is_none(), "{distroless}");
    // And the human report says it next to the verdict.
    let bases = format!("{},{}", image("bookworm"), image("distroless-static"));
    let o = run(&[
        "--exec",
        "--timeout",
        "5",
        "-b",
        &bases,
        fixture("go-certs").to_str().unwrap(),
    ]);
    assert!(o.stdout.contains("likely cause: ca_bundle"), "{}", o.stdout);
    assert!(o.stdout.contains("run-time risks"), "{}", o.stdout);
}

#[test]
fn risks_fail_the_check_only_when_asked() {
    if !docker() {
        return;
    }
    let go_tz = fixture("go-tz");
    let args = [
        "--no-run",
        "--format",
        "json",
        "-b",
        image("musl"),
        go_tz.to_str().unwrap(),
    ];
    let (code, v) = json(&args);
    assert_eq!(
        (code, &v["summary"]["at_risk"][0]),
        (0, &Value::from(image("musl"))),
        "{v}"
    );
    let mut strict = args.to_vec();
    strict.insert(0, "--fail-on-risk");
    let (code, v) = json(&strict);
    assert_eq!(
        (code, &v["summary"]["risks_fail"]),
        (1, &Value::from(true)),
        "{v}"
    );
    // Every format shows the failure the exit code reports.
    let mut junit = strict.clone();
    junit[3] = "junit";
    assert!(run(&junit).stdout.contains("type=\"run_time_risk\""));
    let mut markdown = strict.clone();
    markdown[3] = "markdown";
    assert!(run(&markdown).stdout.contains("❌ ok, run-time risk"));
    let mut human = strict.clone();
    human.drain(2..4);
    assert!(run(&human).stdout.contains("(failing: --fail-on-risk)"));
    // The same from libccheck.toml.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("libccheck.toml");
    std::fs::write(&cfg, "fail_on_risk = true\n").unwrap();
    let mut from_file = args.to_vec();
    from_file.splice(0..0, ["--config", cfg.to_str().unwrap()]);
    assert_eq!(json(&from_file).0, 1);
}

#[test]
fn risks_are_sarif_warnings_a_markdown_section_and_junit_output() {
    if !docker() {
        return;
    }
    let go_tz = fixture("go-tz");
    let o = run(&[
        "--no-run",
        "--format",
        "sarif",
        "-b",
        image("musl"),
        go_tz.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let risk = results
        .iter()
        .find(|r| r["ruleId"] == "risk/tzdata")
        .expect("a risk/tzdata result");
    assert_eq!(risk["level"], "warning");
    let o = run(&[
        "--no-run",
        "--format",
        "markdown",
        "-b",
        image("musl"),
        go_tz.to_str().unwrap(),
    ]);
    assert!(o.stdout.contains("#### Run-time risks"), "{}", o.stdout);
    assert!(o.stdout.contains("tzdata"), "{}", o.stdout);
    // JUnit: a base that works but carries a risk says so in its test case's output.
    let o = run(&[
        "--no-run",
        "--format",
        "junit",
        "-b",
        image("musl"),
        go_tz.to_str().unwrap(),
    ]);
    assert!(
        o.stdout.contains("<system-out>risk: tzdata (warning)"),
        "{}",
        o.stdout
    );
}

#[test]
fn an_audit_groups_risks_by_cause_across_files() {
    if !docker() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("app/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for f in [
        "threadstack-musl",
        "threadcrash-musl",
        "threadstack-musl-sized",
        "go-certs",
        "hello-musl",
    ] {
        std::fs::copy(fixture(f), bin.join(f)).unwrap();
    }
    let dir = root.path().to_str().unwrap();
    let (_, v) = json(&[
        "audit",
        dir,
        "--no-run",
        "--to",
        image("musl"),
        "--format",
        "json",
    ]);
    let groups: Vec<(String, Vec<String>)> = v["targets"][0]["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let mut files: Vec<String> = g["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            files.sort();
            (g["kind"].as_str().unwrap().to_string(), files)
        })
        .collect();
    assert_eq!(
        groups,
        [
            (
                "thread_stack".to_string(),
                vec![
                    "/app/bin/threadcrash-musl".to_string(),
                    "/app/bin/threadstack-musl".to_string()
                ]
            ),
            (
                "ca_bundle".to_string(),
                vec!["/app/bin/go-certs".to_string()]
            ),
        ],
        "{}",
        v["targets"][0]["risks"]
    );
    let o = run(&["audit", dir, "--no-run", "--to", image("musl")]);
    assert!(
        o.stdout.contains("thread_stack (warning), 2 files"),
        "{}",
        o.stdout
    );
}
