//! The run matrix against the fixture images: fixtures/expected.tsv asserted cell by cell, for the
//! load probe and the exec probe; the sandbox (timeout, output cap, fork bomb, no network); no
//! container left behind, Ctrl-C included.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

pub(crate) struct Row {
    binary: String,
    probe: String,
    cells: Vec<(String, String)>,
}

/// One platform's block of fixtures/expected.tsv: its bases (short name → image) and where its
/// fixture programs are.
#[derive(Clone, Copy)]
struct Platform {
    name: &'static str,
    bases: &'static [(&'static str, &'static str)],
    programs: fn() -> &'static std::path::Path,
    ready: fn() -> bool,
}

const AMD64: Platform = Platform {
    name: "linux/amd64",
    bases: &BASES,
    programs: fixtures,
    ready: docker,
};

const ARM64: Platform = Platform {
    name: "linux/arm64",
    bases: &ARM64_BASES,
    programs: fixtures_arm64,
    ready: docker_arm64,
};

impl Platform {
    fn image(&self, short: &str) -> &'static str {
        self.bases.iter().find(|(s, _)| *s == short).unwrap().1
    }
}

pub(crate) fn expected() -> Vec<Row> {
    expected_for(&AMD64)
}

fn expected_for(platform: &Platform) -> Vec<Row> {
    let shorts: Vec<&str> = platform.bases.iter().map(|(s, _)| *s).collect();
    expected_lines(platform.name)
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 2 + shorts.len(), "bad row in expected.tsv: {l}");
            Row {
                binary: f[0].into(),
                probe: f[1].into(),
                cells: shorts
                    .iter()
                    .zip(&f[2..])
                    .map(|(b, v)| (b.to_string(), v.to_string()))
                    .collect(),
            }
        })
        .collect()
}

fn base_args(platform: &Platform) -> Vec<String> {
    vec![
        "-b".into(),
        platform
            .bases
            .iter()
            .map(|(_, i)| *i)
            .collect::<Vec<_>>()
            .join(","),
    ]
}

/// Does the outcome carry the detail the table names (a version, a library, a signal)?
fn detail_matches(outcome: &Value, detail: &str) -> bool {
    let s = outcome.to_string();
    s.contains(&format!("\"{detail}\""))
}

/// The engine a table is checked against: Docker (`DOCKER_HOST` as the tests found it) with
/// every base, or another engine's `DOCKER_HOST` with some of them (short names).
#[derive(Clone, Copy)]
pub(crate) struct Engine<'a> {
    pub host: Option<&'a str>,
    pub bases: &'a [&'a str],
}

const DOCKER: Engine<'static> = Engine {
    host: None,
    bases: &[],
};

fn check_row(platform: &Platform, row: &Row, engine: Engine) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--format".into(),
        "json".into(),
        "--timeout".into(),
        "3".into(),
        "--platform".into(),
        platform.name.into(),
    ];
    match engine.bases.is_empty() {
        true => args.extend(base_args(platform)),
        false => {
            let bases: Vec<&str> = engine.bases.iter().map(|s| platform.image(s)).collect();
            args.extend(["-b".to_string(), bases.join(",")]);
        }
    }
    args.push(
        (platform.programs)()
            .join(&row.binary)
            .to_string_lossy()
            .into_owned(),
    );
    if row.probe == "exec" {
        args.push("--exec".into());
    }
    let mut cmd = libccheck();
    if let Some(host) = engine.host {
        cmd.env("DOCKER_HOST", host);
    }
    let o: Output = cmd.args(&args).output().unwrap().into();
    let v: Value = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\nstderr: {}", o.stdout, o.stderr));
    let code = o.code;
    let left = match engine.host {
        Some(_) => podman_containers_of_run(v["run_id"].as_str().unwrap()),
        None => containers_of_run(v["run_id"].as_str().unwrap()),
    };
    assert!(left.is_empty(), "containers left behind by {}", row.binary);
    let mut errs = Vec::new();
    let cells: Vec<&(String, String)> = row
        .cells
        .iter()
        .filter(|(short, _)| engine.bases.is_empty() || engine.bases.contains(&short.as_str()))
        .collect();
    let all_ok = cells.iter().all(|(_, e)| e == "ok");
    if code != if all_ok { 0 } else { 1 } {
        errs.push(format!("{} {}: exit code {code}", row.binary, row.probe));
    }
    for (short, want) in cells {
        let b = v["bases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["base"] == platform.image(short))
            .unwrap();
        let (verdict, detail) = want
            .split_once(':')
            .map(|(v, d)| (v, Some(d)))
            .unwrap_or((want.as_str(), None));
        // The probe the row is about: exec rows look at the exec outcome itself.
        let outcome = if row.probe == "exec" {
            &b["exec"]
        } else {
            &b["load"]
        };
        let got = if outcome.is_null() {
            b["verdict"].as_str().unwrap()
        } else {
            outcome["verdict"].as_str().unwrap()
        };
        // Prediction and run agree in every cell the run could decide.
        let decided =
            !matches!(b["verdict"].as_str(), Some("timeout" | "error")) || !b["exec"].is_null();
        if b["prediction"].is_null() || (decided && b["agree"] != true) {
            errs.push(format!(
                "{} {} on {short}: prediction {} but run {} (agree {})",
                row.binary, row.probe, b["prediction"]["verdict"], got, b["agree"]
            ));
        }
        if got != verdict || b["verdict"] != verdict {
            errs.push(format!(
                "{} {} on {short}: expected {verdict}, got {got} (base verdict {}): {}",
                row.binary, row.probe, b["verdict"], b["reason"]
            ));
        } else if let Some(d) = detail
            && !detail_matches(outcome, d)
        {
            errs.push(format!(
                "{} {} on {short}: {verdict} without {d}: {outcome}",
                row.binary, row.probe
            ));
        }
    }
    errs
}

fn check_rows(filter: impl Fn(&Row) -> bool) {
    check_platform_rows(&AMD64, filter)
}

fn check_platform_rows(platform: &Platform, filter: impl Fn(&Row) -> bool) {
    if !(platform.ready)() {
        return;
    }
    check_platform_rows_on(platform, DOCKER, filter);
}

/// The amd64 rows of fixtures/expected.tsv that `filter` keeps, checked on `engine`.
pub(crate) fn check_rows_on(engine: Engine, filter: impl Fn(&Row) -> bool) {
    check_platform_rows_on(&AMD64, engine, filter)
}

/// The rows of `platform`'s block that `filter` keeps, checked on `engine`, three at a time.
fn check_platform_rows_on(platform: &Platform, engine: Engine, filter: impl Fn(&Row) -> bool) {
    let rows: Vec<Row> = expected_for(platform)
        .into_iter()
        .filter(|r| filter(r))
        .collect();
    assert!(!rows.is_empty());
    let errs: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = rows
            .chunks(rows.len().div_ceil(3))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|r| check_row(platform, r, engine))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(
        errs.is_empty(),
        "{} cell(s) differ from fixtures/expected.tsv:\n{}",
        errs.len(),
        errs.join("\n")
    );
}

#[test]
fn expected_table_load_probe() {
    check_rows(|r| r.probe == "load");
}

/// The exec rows decided by what the program does once it runs, not by the loader; the last thirteen
/// are run-time risks and what the program dlopens (thread stack, CA bundle, tzdata, shell, dlopen).
const RUNTIME_FIXTURES: [&str; 19] = [
    "hang",
    "forkbomb",
    "flood",
    "crash",
    "connect",
    "forge-report",
    "threadstack",
    "threadstack-musl",
    "threadstack-musl-sized",
    "threadstack-musl-static",
    "threadcrash-musl",
    "go-certs",
    "go-certs-stripped",
    "go-tz",
    "go-tz-embedded",
    "shell-out",
    "dlopen-note",
    "dlopen-string",
    "dlopen-string-musl",
];

#[test]
fn expected_table_exec_probe_loader_cases() {
    check_rows(|r| r.probe == "exec" && !RUNTIME_FIXTURES.contains(&r.binary.as_str()));
}

#[test]
fn expected_table_exec_probe_runtime_cases() {
    check_rows(|r| r.probe == "exec" && RUNTIME_FIXTURES.contains(&r.binary.as_str()));
}

/// The arm64 block: the aarch64 programs on every arm64 fixture base, both probes, verified in
/// linux/arm64 containers (under qemu-user on an amd64 host) with the aarch64 probe.
#[test]
fn expected_table_arm64_both_probes() {
    check_platform_rows(&ARM64, |_| true);
}

fn run_one(base: &str, binary: &str, extra: &[&str]) -> (i32, Value) {
    let img = image(base);
    let bin = fixture(binary);
    let mut args = vec!["--format", "json", "-b", img, bin.to_str().unwrap()];
    args.extend(extra);
    json(&args)
}

#[test]
fn crash_names_the_signal_and_the_evidence() {
    if !docker() {
        return;
    }
    let (code, v) = run_one("bookworm", "crash", &["--exec"]);
    assert_eq!(code, 1);
    let e = &v["bases"][0]["exec"];
    assert_eq!(e["verdict"], "crash");
    assert_eq!(e["signal"], "SIGSEGV");
    assert_eq!(v["bases"][0]["reason"], "killed by SIGSEGV");
}

#[test]
fn hang_times_out_and_the_container_is_gone() {
    if !docker() {
        return;
    }
    let t = Instant::now();
    let (code, v) = run_one("distroless-static", "hang", &["--timeout", "2", "--exec"]);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(code, 1);
    assert_eq!(v["bases"][0]["verdict"], "timeout");
    assert!(containers_of_run(v["run_id"].as_str().unwrap()).is_empty());
}

#[test]
fn output_flood_is_capped_and_marked() {
    if !docker() {
        return;
    }
    let (code, v) = run_one("musl", "flood", &["--exec", "--output-limit", "1024"]);
    assert_eq!(code, 0, "{v}");
    let e = &v["bases"][0]["exec"];
    assert_eq!(e["verdict"], "ok");
    assert_eq!(e["stdout_truncated"], true);
    assert_eq!(e["stderr_truncated"], true);
    let o = run(&[
        "-b",
        image("musl"),
        fixture("flood").to_str().unwrap(),
        "--exec",
        "--output-limit",
        "1024",
    ]);
    assert!(o.stdout.contains("ok (output truncated)"), "{}", o.stdout);
    assert!(
        o.stdout.len() < 4096,
        "the report must not carry the flood: {} bytes",
        o.stdout.len()
    );
}

#[test]
fn fork_bomb_is_contained_by_the_pids_limit() {
    if !docker() {
        return;
    }
    let (code, v) = run_one(
        "bookworm",
        "forkbomb",
        &["--exec", "--timeout", "3", "--pids-limit", "64"],
    );
    assert_eq!(code, 1);
    assert_eq!(v["bases"][0]["verdict"], "timeout");
    assert!(containers_of_run(v["run_id"].as_str().unwrap()).is_empty());
    // The host is fine: we can still start processes.
    assert!(Command::new("true").status().unwrap().success());
}

#[test]
fn no_network_in_the_sandbox_unless_asked() {
    if !docker() {
        return;
    }
    let (_, v) = run_one("trixie", "connect", &["--exec"]);
    let e = &v["bases"][0]["exec"];
    assert_eq!(e["verdict"], "exit_nonzero");
    assert_eq!(e["exit_code"], 3);
    assert_eq!(e["evidence"], "connect failed: Network is unreachable");
}

#[test]
fn runs_as_non_root_with_read_only_root_no_capabilities_and_no_network() {
    if !docker() {
        return;
    }
    for base in ["musl", "distroless-static", "bookworm"] {
        let (code, v) = run_one(base, "sandbox-report", &["--exec"]);
        assert_eq!(code, 0, "{v}");
        let out = v["bases"][0]["exec"]["stdout"]
            .as_str()
            .unwrap()
            .to_string();
        for want in [
            "uid=65532\n",
            "root_writable=0\n",
            "tmp_writable=1\n",
            "CapEff:\t0000000000000000\n",
            "NoNewPrivs:\t1\n",
            "interfaces=lo\n",
        ] {
            assert!(out.contains(want), "{base}: {want:?} not in {out:?}");
        }
    }
    // The user may relax the sandbox explicitly.
    let (_, v) = run_one(
        "bookworm",
        "sandbox-report",
        &["--exec", "--as-root", "--allow-network"],
    );
    let out = v["bases"][0]["exec"]["stdout"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(out.contains("uid=0\n") && out.contains("eth0"), "{out}");
}

#[test]
fn with_uploads_extra_files_beside_the_binary() {
    if !docker() {
        return;
    }
    // The RUNPATH binary alone, without its lib/ directory: the library is missing…
    let d = tempfile::tempdir().unwrap();
    let app = d.path().join("app-runpath");
    std::fs::copy(fixture("runpath/app-runpath"), &app).unwrap();
    let (code, v) = json(&[
        "--format",
        "json",
        "-b",
        image("bookworm"),
        app.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["bases"][0]["verdict"], "missing_library");
    assert_eq!(
        v["bases"][0]["load"]["problems"][0]["library"],
        "libgreet.so.1"
    );
    // …and --with puts it where $ORIGIN/lib finds it.
    let with = format!("{}:lib/libgreet.so.1", fixture("libgreet.so.1").display());
    let (code, v) = json(&[
        "--format",
        "json",
        "-b",
        image("bookworm"),
        "--with",
        &with,
        app.to_str().unwrap(),
        "--exec",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["bases"][0]["exec"]["stdout"], "greetings, runpath\n");
}

#[test]
fn require_decides_the_exit_code() {
    if !docker() {
        return;
    }
    let bases = format!("{},{}", image("musl"), image("bookworm"));
    let hello = fixture("hello");
    let (code, v) = json(&["--format", "json", "-b", &bases, hello.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        v["summary"]["required_failing"],
        serde_json::json!([image("musl")])
    );
    let (code, v) = json(&[
        "--format",
        "json",
        "-b",
        &bases,
        "--require",
        image("bookworm"),
        hello.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["bases"][0]["required"], false);
    assert_eq!(v["summary"]["required_failing"], serde_json::json!([]));
}

#[test]
fn junit_and_markdown_reports() {
    if !docker() {
        return;
    }
    let bases = format!(
        "{},{},{}",
        image("musl"),
        image("bookworm"),
        image("distroless-base")
    );
    let cxx = fixture("hello-cxx");
    let o = run(&["--format", "junit", "-b", &bases, cxx.to_str().unwrap()]);
    assert_eq!(o.code, 1);
    // A real XML parser reads it: one testcase per base, the failure message is the reason.
    let py = r#"
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
suite = root.find("testsuite")
print(root.tag, suite.get("tests"), suite.get("failures"), suite.get("errors"))
for tc in suite.findall("testcase"):
    f = tc.find("failure")
    print(tc.get("name"), "|", f.get("type") if f is not None else "pass", "|", f.get("message") if f is not None else "")
"#;
    let mut child = Command::new("python3")
        .args(["-c", py])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), o.stdout.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "XML did not parse:\n{}", o.stdout);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "testsuites 3 2 0");
    assert_eq!(
        lines[1],
        format!(
            "{} | no_interpreter | interpreter /lib64/ld-linux-x86-64.so.2 is not in the image",
            image("musl")
        )
    );
    assert_eq!(lines[2], format!("{} | pass | ", image("bookworm")));
    assert_eq!(
        lines[3],
        format!(
            "{} | missing_library | libraries not found: libstdc++.so.6, libgcc_s.so.1",
            image("distroless-base")
        )
    );

    let o = run(&["--format", "markdown", "-b", &bases, cxx.to_str().unwrap()]);
    assert!(
        o.stdout
            .contains("| Base | Image | libc | Predicted | Result | Reason |"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains(&format!(
            "| {} | `{}` | glibc 2.36 | ok | ✅ ok | every library, version and symbol resolved |",
            image("bookworm"),
            image("bookworm")
        )),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("❌ missing_library"), "{}", o.stdout);
    assert!(
        o.stdout.contains("Works on **1 of 3** bases."),
        "{}",
        o.stdout
    );
}

#[test]
fn docker_host_over_tcp() {
    if !docker() {
        return;
    }
    let tcp = TcpDocker::start();
    let o = libccheck()
        .env("DOCKER_HOST", tcp.host())
        .args([
            "--format",
            "json",
            "-b",
            image("musl"),
            fixture("hello-musl").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(v["bases"][0]["verdict"], "ok");
}

#[test]
fn glibc_programs_on_musl_with_an_interpreter_link() {
    if !docker() {
        return;
    }
    // hello: musl provides every symbol → "runs with gcompat"; proven by musl's loader in the run…
    let (_, v) = run_one("musl", "hello", &[]);
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "no_interpreter");
    assert_eq!(b["prediction"]["musl_compat"]["runs"], true, "{b}");
    assert_eq!(b["musl_compat_run"]["verdict"], "ok");
    assert_eq!(b["agree"], true);
    // …and by running it for real through musl's loader, as gcompat's link would.
    let out = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &format!("{}:/app:ro", fixtures().display()),
            image("musl"),
            "/lib/ld-musl-x86_64.so.1",
            "/app/hello",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from libccheck fixture\n"
    );
    // glibc-only: names what musl lacks, and musl's loader agrees.
    let (_, v) = run_one("musl", "glibc-only", &[]);
    let b = &v["bases"][0];
    let c = &b["prediction"]["musl_compat"];
    assert_eq!(c["runs"], false);
    assert_eq!(
        c["summary"],
        "needs glibc: `__snprintf_chk`, `backtrace_symbols_fd`, `backtrace`, `gnu_get_libc_version` are not in musl"
    );
    assert_eq!(b["musl_compat_run"]["verdict"], "missing_symbol");
    let mut want: Vec<&str> = vec![
        "__snprintf_chk",
        "backtrace",
        "backtrace_symbols_fd",
        "gnu_get_libc_version",
    ];
    let mut got: Vec<&str> = b["musl_compat_run"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["symbol"].as_str().unwrap())
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(b["agree"], true);
    let hints: Vec<&str> = b["prediction"]["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(
        hints[0].starts_with("needs glibc: `__snprintf_chk`"),
        "{hints:?}"
    );
}

#[test]
fn no_run_predicts_from_the_image_filesystems_without_containers() {
    if !docker() {
        return;
    }
    let mut args: Vec<String> = vec!["--format".into(), "json".into(), "--no-run".into()];
    args.extend(base_args(&AMD64));
    args.push(fixture("hello-cxx").to_string_lossy().into_owned());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, v) = json(&a);
    assert_eq!(code, 1);
    let verdicts: Vec<(String, String)> = v["bases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["base"].as_str().unwrap().to_string(),
                b["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = expected()
        .into_iter()
        .find(|r| r.binary == "hello-cxx" && r.probe == "load")
        .unwrap()
        .cells
        .into_iter()
        .map(|(s, v)| {
            (
                image(&s).to_string(),
                v.split(':').next().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(verdicts, want);
    for b in v["bases"].as_array().unwrap() {
        assert!(
            b["load"].is_null() && b["exec"].is_null() && b["agree"].is_null(),
            "{b}"
        );
    }
    assert!(containers_of_run(v["run_id"].as_str().unwrap()).is_empty());
    let o = run(&[
        "--no-run",
        "-b",
        image("distroless-base"),
        fixture("hello-cxx").to_str().unwrap(),
    ]);
    assert!(o.stdout.contains("use distroless-cc"), "{}", o.stdout);
    assert!(
        o.stdout.contains(
            "libstdc++.so.6: install Debian package libstdc++6 / Alpine package libstdc++"
        ),
        "{}",
        o.stdout
    );
}

fn cache_file(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "bin"))
        .expect("a cached profile")
}

#[test]
fn corrupt_cached_profiles_are_rebuilt() {
    if !docker() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let hello = fixture("hello");
    let go = || {
        let o = libccheck()
            .env("LIBCCHECK_CACHE_DIR", cache.path())
            .args([
                "--format",
                "json",
                "--no-run",
                "-b",
                image("bookworm"),
                hello.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        (
            o.status.code(),
            serde_json::from_slice::<Value>(&o.stdout).unwrap(),
        )
    };
    let (code, v) = go();
    assert_eq!(code, Some(0), "{v}");
    let f = cache_file(cache.path());
    let good = std::fs::read(&f).unwrap();
    std::fs::write(&f, b"{ this is not a profile").unwrap();
    let (code, v) = go();
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["bases"][0]["libc"], "glibc 2.36");
    assert_eq!(
        std::fs::read(&f).unwrap().len(),
        good.len(),
        "the corrupt entry was rewritten"
    );
}

#[test]
fn a_prediction_the_run_refutes_is_flagged_everywhere() {
    if !docker() {
        return;
    }
    // Make libccheck wrong on purpose: a cached profile of bookworm whose libc.so.6 lacks GLIBC_2.34.
    let cache = tempfile::tempdir().unwrap();
    let hello = fixture("hello");
    let with_cache = |args: &[&str]| {
        let o = libccheck()
            .env("LIBCCHECK_CACHE_DIR", cache.path())
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    with_cache(&["--no-run", "-b", image("bookworm"), hello.to_str().unwrap()]);
    let f = cache_file(cache.path());
    let mut p = libccheck::image::cache::read_cache_file(&f).unwrap();
    let mut changed = 0;
    for lib in p.libraries.values_mut() {
        if lib.profile.soname.as_deref() == Some("libc.so.6") {
            lib.profile
                .version_definitions
                .retain(|d| d != "GLIBC_2.34");
            changed += 1;
        }
    }
    assert_eq!(changed, 1, "bookworm's profile has one libc.so.6");
    libccheck::image::cache::write_cache_file(&f, &p).unwrap();
    let (code, out) = with_cache(&[
        "--format",
        "json",
        "-b",
        image("bookworm"),
        hello.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "a mismatch is libccheck's own error");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["bases"][0]["agree"], false);
    assert_eq!(v["bases"][0]["prediction"]["verdict"], "missing_version");
    assert_eq!(v["bases"][0]["verdict"], "ok");
    assert_eq!(
        v["summary"]["mismatches"],
        serde_json::json!([image("bookworm")])
    );
    let (code, out) = with_cache(&["-b", image("bookworm"), hello.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        out.contains("ok ≠ PREDICTED") && out.contains("PREDICTION MISMATCH on"),
        "{out}"
    );
    let (_, out) = with_cache(&[
        "--format",
        "markdown",
        "-b",
        image("bookworm"),
        hello.to_str().unwrap(),
    ]);
    assert!(out.contains("missing_version ⚠️ mismatch"), "{out}");
    let (_, out) = with_cache(&[
        "--format",
        "junit",
        "-b",
        image("bookworm"),
        hello.to_str().unwrap(),
    ]);
    assert!(out.contains("PREDICTION MISMATCH"), "{out}");
    let (code, _) = with_cache(&[
        "--allow-mismatch",
        "-b",
        image("bookworm"),
        hello.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
}
