//! Packages as the subject of a check: wheels (a module whose bundled library needs GLIBC_2.32,
//! tagged manylinux_2_17 — wrong — and manylinux_2_32; the same built against musl), the wrong
//! wheel installed as a site-packages directory, a jar with a JNI library, and bad packages.

use serde_json::Value;

use crate::util::*;

const WRONG_TAG: &str = "pkgdemo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl";
const RIGHT_TAG: &str = "pkgdemo-1.0-cp311-cp311-manylinux_2_32_x86_64.whl";
const MUSL_TAG: &str = "pkgdemo-1.0-cp311-cp311-musllinux_1_2_x86_64.whl";
const MODULE: &str = "pkgdemo/_core.cpython-311-x86_64-linux-gnu.so";
const BUNDLED: &str = "pkgdemo.libs/libpkgdemo-dep.so.1";

fn bases(short: &[&str]) -> String {
    short.iter().map(|s| image(s)).collect::<Vec<_>>().join(",")
}

fn base<'a>(v: &'a Value, short: &str) -> &'a Value {
    v["bases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["base"] == image(short))
        .unwrap_or_else(|| panic!("no base {short} in {v}"))
}

fn causes(b: &Value) -> Vec<(String, Vec<String>)> {
    b["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let files = g["files"].as_array().unwrap();
            (
                g["cause"].as_str().unwrap().to_string(),
                files
                    .iter()
                    .map(|f| f.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

/// Every file of every base was verified in a container and agrees with its prediction.
fn all_verified(v: &Value) {
    for b in v["bases"].as_array().unwrap() {
        assert!(b["error"].is_null(), "{b}");
        for f in b["files"].as_array().unwrap() {
            assert!(!f["verified"].is_null(), "not verified: {f}");
            assert_eq!(f["agree"], true, "prediction and verification differ: {f}");
        }
    }
}

fn both_files() -> Vec<String> {
    vec![BUNDLED.to_string(), MODULE.to_string()]
}

#[test]
fn a_wheel_per_base_and_its_wrong_platform_tag() {
    if !docker() {
        return;
    }
    let b = bases(&[
        "musl",
        "bullseye",
        "bookworm",
        "distroless-static",
        "distroless-cc",
    ]);
    let wheel = fixture(WRONG_TAG);
    let (code, v) = json(&["--format", "json", "-b", &b, wheel.to_str().unwrap()]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["schema"], "libccheck/package/v1");
    assert_eq!(v["mode"], "run");
    let p = &v["package"];
    assert_eq!(
        (p["kind"].as_str(), p["elf_files"].as_u64()),
        (Some("wheel"), Some(2))
    );
    let findings = p["wheel"]["tag_findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["severity"], "wrong");
    assert_eq!(
        findings[0]["message"],
        format!(
            "tagged manylinux_2_17 but {BUNDLED} needs GLIBC_2.32 (because of strerrorname_np) → the tag should be manylinux_2_32_x86_64"
        )
    );
    assert_eq!(findings[0]["suggested"], "manylinux_2_32_x86_64");
    all_verified(&v);

    // musl: pip would not take a manylinux wheel, and musl has no strerrorname_np.
    let musl = base(&v, "musl");
    assert_eq!(musl["verdict"], "fails");
    assert_eq!(musl["pip"]["installs"], false);
    assert_eq!(
        causes(musl),
        [("symbols not found".to_string(), both_files())]
    );
    // bullseye (glibc 2.31): pip installs it — the tag says 2.17 — and it cannot load: the
    // wrong tag's damage, shown. The module fails through its bundled library, found by $ORIGIN.
    let bullseye = base(&v, "bullseye");
    assert_eq!(bullseye["verdict"], "fails");
    assert_eq!(bullseye["pip"]["installs"], true);
    assert_eq!(
        causes(bullseye),
        [("GLIBC_2.32 needed".to_string(), both_files())]
    );
    for short in ["bookworm", "distroless-cc"] {
        let ok = base(&v, short);
        assert_eq!(ok["verdict"], "works", "{ok}");
        assert_eq!(ok["summary"], "all 2 files load");
        let module = ok["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == MODULE)
            .unwrap();
        assert!(
            module["note"].as_str().unwrap().contains("(Python)"),
            "Py* symbols are left to the interpreter: {module}"
        );
    }
    let none = base(&v, "distroless-static");
    assert_eq!(
        (none["verdict"].as_str(), none["pip"]["installs"].as_bool()),
        (Some("fails"), Some(false))
    );

    // The human report: the tag first, then one line per base, then the detail per file.
    let o = run(&["--no-run", "-b", &b, wheel.to_str().unwrap()]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert!(
        lines[1].starts_with("platform tag (wrong): tagged manylinux_2_17 but"),
        "{}",
        o.stdout
    );
    let row = |short: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{} ", image(short))))
            .unwrap_or_else(|| panic!("no line for {short}:\n{}", o.stdout))
            .to_string()
    };
    assert!(
        row("bullseye").contains("installs  fails  2 of 2 files: GLIBC_2.32 needed (2 files)"),
        "{}",
        row("bullseye")
    );
    assert!(
        row("bookworm").contains("works  all 2 files load"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains(&format!(
            "    {MODULE}: GLIBC_2.32 not found in libc.so.6 (needed by libpkgdemo-dep.so.1)"
        )),
        "{}",
        o.stdout
    );
    let md = run(&[
        "--no-run",
        "--format",
        "markdown",
        "-b",
        &b,
        wheel.to_str().unwrap(),
    ]);
    assert!(
        md.stdout.contains("| Base | libc | pip | Result |"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout.contains("| installs | ❌ 2 of 2 files"),
        "{}",
        md.stdout
    );
}

#[test]
fn the_rightly_tagged_wheel_is_not_flagged_and_pip_refuses_it_where_it_cannot_load() {
    if !docker() {
        return;
    }
    let b = bases(&["bullseye", "bookworm"]);
    let wheel = fixture(RIGHT_TAG);
    let (code, v) = json(&[
        "--no-run",
        "--format",
        "json",
        "-b",
        &b,
        wheel.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["mode"], "no_run");
    assert_eq!(v["package"]["wheel"]["tag_findings"], serde_json::json!([]));
    let bullseye = base(&v, "bullseye");
    assert_eq!(bullseye["pip"]["installs"], false);
    assert_eq!(
        bullseye["pip"]["reason"],
        "manylinux_2_32_x86_64 needs glibc ≥ 2.32, the base has 2.31"
    );
    assert_eq!(base(&v, "bookworm")["verdict"], "works");
    // Only bookworm required: exit 0.
    let o = run(&[
        "--no-run",
        "--require",
        image("bookworm"),
        "-b",
        &b,
        wheel.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(!o.stdout.contains("platform tag"), "{}", o.stdout);
}

#[test]
fn a_musllinux_wheel_works_on_musl_and_pip_refuses_it_on_glibc() {
    if !docker() {
        return;
    }
    let b = bases(&["musl", "bookworm"]);
    let wheel = fixture(MUSL_TAG);
    let (code, v) = json(&["--format", "json", "-b", &b, wheel.to_str().unwrap()]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["package"]["wheel"]["tag_findings"], serde_json::json!([]));
    all_verified(&v);
    let musl = base(&v, "musl");
    assert_eq!(
        (musl["verdict"].as_str(), musl["pip"]["installs"].as_bool()),
        (Some("works"), Some(true))
    );
    let bookworm = base(&v, "bookworm");
    assert_eq!(bookworm["verdict"], "fails");
    assert_eq!(
        bookworm["pip"]["reason"],
        "musllinux_1_2_x86_64 needs musl, the base has glibc"
    );
}

#[test]
fn a_jar_with_a_jni_library_needs_libstdcxx() {
    if !docker() {
        return;
    }
    let b = bases(&["distroless-base", "distroless-cc"]);
    let jar = fixture("jnidemo.jar");
    let (code, v) = json(&["--format", "json", "-b", &b, jar.to_str().unwrap()]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["package"]["kind"], "jar");
    assert!(v["package"]["wheel"].is_null());
    all_verified(&v);
    let lib = "native/linux-x86_64/libjnidemo.so".to_string();
    let base_ = base(&v, "distroless-base");
    assert!(base_["pip"].is_null());
    assert_eq!(
        causes(base_),
        [
            ("libgcc_s.so.1 missing".to_string(), vec![lib.clone()]),
            ("libstdc++.so.6 missing".to_string(), vec![lib.clone()])
        ]
    );
    assert_eq!(
        base_["summary"],
        format!("1 of 1 files: {lib}: libraries not found: libstdc++.so.6, libgcc_s.so.1")
    );
    assert_eq!(base(&v, "distroless-cc")["verdict"], "works");
}

#[test]
fn an_installed_directory_gives_the_wheels_answer() {
    if !docker() {
        return;
    }
    let b = bases(&["musl", "bullseye", "bookworm"]);
    let dir = fixture("pkgdemo-site-packages");
    let (code, v) = json(&["--format", "json", "-b", &b, dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["package"]["kind"], "directory");
    all_verified(&v);
    let (_, w) = json(&[
        "--no-run",
        "--format",
        "json",
        "-b",
        &b,
        fixture(WRONG_TAG).to_str().unwrap(),
    ]);
    for short in ["musl", "bullseye", "bookworm"] {
        assert_eq!(
            base(&v, short)["verdict"],
            base(&w, short)["verdict"],
            "{short}"
        );
        assert_eq!(causes(base(&v, short)), causes(base(&w, short)), "{short}");
    }
    // The loader's own path for the bundled library, named by its place in the package.
    let bullseye = base(&v, "bullseye");
    let module = bullseye["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == MODULE)
        .unwrap();
    assert_eq!(
        module["reason"],
        "GLIBC_2.32 not found in libc.so.6 (needed by pkgdemo.libs/libpkgdemo-dep.so.1)"
    );
}

#[test]
fn run_time_risks_of_a_packages_files_fail_it_only_when_asked() {
    if !docker() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    std::fs::copy(
        fixture("threadstack-musl"),
        dir.path().join("bin/threadstack-musl"),
    )
    .unwrap();
    let args = |extra: &'static str| {
        let mut a = vec!["--no-run", "--format", "json", "-b", image("musl")];
        a.extend(extra.split_whitespace());
        a.push(dir.path().to_str().unwrap());
        a
    };
    let (code, v) = json(&args(""));
    assert_eq!(code, 0, "{v}");
    let musl = &v["bases"][0];
    assert_eq!(musl["verdict"], "works");
    assert_eq!(musl["risks"][0]["kind"], "thread_stack", "{musl}");
    assert_eq!(musl["risks"][0]["files"][0], "bin/threadstack-musl");
    assert_eq!(v["summary"]["at_risk"][0], image("musl"));
    let (code, v) = json(&args("--fail-on-risk"));
    assert_eq!(
        (code, &v["summary"]["risks_fail"]),
        (1, &Value::Bool(true)),
        "{v}"
    );
}

#[test]
fn a_package_offline_from_the_catalog() {
    let (code, v) = json(&[
        "--offline",
        "--format",
        "json",
        "-b",
        "debian-11,debian-12",
        fixture(RIGHT_TAG).to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["mode"], "offline");
    let pip = |i: usize| v["bases"][i]["pip"]["installs"].as_bool();
    assert_eq!((pip(0), pip(1)), (Some(false), Some(true)));
    assert_eq!(v["bases"][1]["verdict"], "works");
}

#[test]
fn the_benchmark_wheel_has_fifty_modules_that_load() {
    let (code, v) = json(&[
        "--offline",
        "--format",
        "json",
        "-b",
        "debian-12",
        fixture("bench50-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["package"]["elf_files"], 51);
    assert_eq!(v["bases"][0]["summary"], "all 51 files load");
}

#[test]
fn bad_packages_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    // A zip's start with nothing after it: no central directory.
    let corrupt = write(
        "corrupt-1.0-py3-none-any.whl",
        b"PK\x03\x04\x14\x00\x00\x00",
    );
    let not_zip = write("app.jar", b"\x7fELF not a jar");
    let badly_named = write("wheel.whl", &std::fs::read(fixture(RIGHT_TAG)).unwrap());
    let empty = tempfile::tempdir().unwrap();
    let cases: [(Vec<String>, &str); 7] = [
        (vec![corrupt.clone()], "damaged zip archive: "),
        (vec![not_zip], "not a zip archive (a Java archive is one)"),
        (
            vec![fixture("noelf-1.0-py3-none-any.whl").display().to_string()],
            "no ELF files in this wheel (4 other files): nothing to check",
        ),
        (
            vec![fixture("escape-1.0-py3-none-any.whl").display().to_string()],
            "member \"../escape.so\" would be installed outside the package",
        ),
        (vec![badly_named], "wheel.whl: not a wheel name"),
        (
            vec![empty.path().display().to_string()],
            "no ELF files in this directory (0 other files)",
        ),
        (
            vec![
                "--exec".into(),
                fixture("jnidemo.jar").display().to_string(),
            ],
            "a package is not run",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["--offline".to_string()];
        all.extend(args);
        let a: Vec<&str> = all.iter().map(String::as_str).collect();
        let o = run(&a);
        assert_eq!(o.code, 2, "{a:?}: {}{}", o.stdout, o.stderr);
        assert!(o.stdout.is_empty(), "{a:?}: {}", o.stdout);
        assert_eq!(o.stderr.lines().count(), 1, "{a:?}: {}", o.stderr);
        assert!(o.stderr.contains(message), "{a:?}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    }
    let o = run(&[
        "--format",
        "sarif",
        fixture("jnidemo.jar").to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("a package's report is human, json or markdown"),
        "{}",
        o.stderr
    );
}
