//! `libccheck audit` on an application image built on the bookworm fixture, and on the same
//! application as a directory: exact grouped findings, predictions verified in one container per
//! target; bad input.

use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::util::*;

const APP_IMAGE: &str = "libccheck-fixture/app:bookworm";

pub(crate) fn app_root() -> std::path::PathBuf {
    static R: OnceLock<std::path::PathBuf> = OnceLock::new();
    R.get_or_init(|| {
        let root = fixtures().join("app-root");
        let st = Command::new(root_dir().join("fixtures/build-app-image.sh"))
            .arg(&root)
            .status()
            .unwrap();
        assert!(st.success(), "fixtures/build-app-image.sh failed");
        root
    })
    .clone()
}

fn root_dir() -> std::path::PathBuf {
    root()
}

fn targets() -> String {
    [image("musl"), image("distroless-cc"), image("bullseye")].join(",")
}

fn groups(t: &Value) -> Vec<(String, Vec<String>)> {
    t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["cause"].as_str().unwrap().to_string(),
                g["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| {
                        f["path"]
                            .as_str()
                            .map(String::from)
                            .unwrap_or_else(|| f.as_str().unwrap().to_string())
                    })
                    .collect(),
            )
        })
        .collect()
}

const GLIBC_PROGRAMS: [&str; 4] = [
    "/opt/app/bin/app-runpath",
    "/opt/app/bin/glibc-only",
    "/opt/app/bin/hello",
    "/opt/app/bin/hello-cxx",
];

fn check_findings(v: &Value) {
    let ts = v["targets"].as_array().unwrap();
    assert_eq!(ts.len(), 3);
    let s = |x: &[&str]| x.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    // musl: the four glibc programs need glibc; the static tool, the libraries and the Python
    // module load (musl maps libc.so.6 onto itself and has their symbols).
    assert_eq!(ts[0]["base"], image("musl"));
    assert_eq!(
        groups(&ts[0]),
        vec![("needs glibc".to_string(), s(&GLIBC_PROGRAMS))]
    );
    assert!(
        ts[0]["groups"][0]["hint"]
            .as_str()
            .unwrap()
            .starts_with("build it in an Alpine builder")
    );
    // distroless-cc: everything loads.
    assert_eq!(ts[1]["broken"], 0);
    assert_eq!(groups(&ts[1]), vec![]);
    // bullseye: glibc 2.31 lacks GLIBC_2.34.
    assert_eq!(
        groups(&ts[2]),
        vec![("GLIBC_2.34 needed".to_string(), s(&GLIBC_PROGRAMS))]
    );
    for t in ts {
        assert_eq!(t["audited"], 8, "{t}");
        assert!(t["error"].is_null(), "{}", t["error"]);
        for f in t["files"].as_array().unwrap() {
            assert!(!f["verified"].is_null(), "{f}");
            assert_eq!(f["agree"], true, "prediction and verification differ: {f}");
        }
        let py = t["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "/opt/app/python/pyext.so")
            .unwrap();
        assert_eq!(py["verdict"], "ok");
        assert!(
            py["note"]
                .as_str()
                .unwrap()
                .contains("left to the host program"),
            "{py}"
        );
    }
}

#[test]
fn audit_an_application_image() {
    if !docker() {
        return;
    }
    app_root();
    let (code, v) = json(&[
        "audit",
        "--image",
        APP_IMAGE,
        "--to",
        &targets(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["schema"], "libccheck/audit/v1");
    assert_eq!(v["source"]["package_manager"], "dpkg");
    assert_eq!(v["source"]["audited"], 8);
    assert!(
        v["source"]["elf_files"].as_u64().unwrap() > 100,
        "the base's own ELF files are seen, and left out"
    );
    check_findings(&v);
    let o = run(&["audit", "--image", APP_IMAGE, "--to", &targets()]);
    assert!(
        o.stdout
            .contains("  needs glibc: 4 files — build it in an Alpine builder"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("  GLIBC_2.34 needed: 4 files — needs glibc ≥ 2.34"),
        "{}",
        o.stdout
    );
    let before = o.stdout.find("TARGET").unwrap();
    assert!(
        before < o.stdout.find("needs glibc:").unwrap(),
        "summary first"
    );
}

#[test]
fn audit_the_same_application_as_a_directory() {
    if !docker() {
        return;
    }
    let root = app_root();
    let (code, v) = json(&[
        "audit",
        root.to_str().unwrap(),
        "--to",
        &targets(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["source"]["kind"], "directory");
    assert!(v["source"]["package_manager"].is_null());
    check_findings(&v);
    // distroless-base lacks libstdc++: the group says what to add.
    let (_, v) = json(&[
        "audit",
        root.to_str().unwrap(),
        "--to",
        image("distroless-base"),
        "--format",
        "json",
    ]);
    let g = &v["targets"][0]["groups"];
    let causes: Vec<&str> = g
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["cause"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["libgcc_s.so.1 missing", "libstdc++.so.6 missing"]);
    let hint = g[1]["hint"].as_str().unwrap();
    assert!(
        hint.contains("libstdc++6") && hint.contains("distroless-cc"),
        "{hint}"
    );
    let o = run(&[
        "audit",
        root.to_str().unwrap(),
        "--to",
        image("distroless-cc"),
        "--format",
        "markdown",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .contains("| libccheck-fixture/distroless-cc:bookworm | glibc 2.36 | ✅ 0 of 8 |"),
        "{}",
        o.stdout
    );
}

#[test]
fn audit_all_files_without_running() {
    if !docker() {
        return;
    }
    app_root();
    // bookworm's own packages moved onto trixie: each is checked against trixie's libraries
    // (its package's libraries do not come along), the application's files with their own.
    let (code, v) = json(&[
        "audit",
        "--image",
        APP_IMAGE,
        "--all",
        "--no-run",
        "--to",
        image("trixie"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{}", v["targets"][0]["groups"]);
    let t = &v["targets"][0];
    assert_eq!(t["audited"], v["source"]["elf_files"]);
    let files = t["files"].as_array().unwrap();
    assert!(files.iter().all(|f| f["verified"].is_null()));
    let file = |p: &str| files.iter().find(|f| f["path"] == p).unwrap();
    // trixie has libapt-pkg.so.7.0, not bookworm's 6.0.
    let apt = t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["cause"] == "libapt-pkg.so.6.0 missing")
        .unwrap();
    assert!(
        apt["files"]
            .as_array()
            .unwrap()
            .contains(&json!("/usr/bin/apt"))
    );
    assert_eq!(file("/usr/bin/apt")["packaged"], true);
    // A packaged module still finds its neighbours through RUNPATH $ORIGIN (libKSC.so).
    assert_eq!(
        file("/usr/lib/x86_64-linux-gnu/gconv/EUC-KR.so")["verdict"],
        "ok"
    );
    // bookworm's libc.so.6 does not fit trixie's loader (GLIBC_PRIVATE symbols).
    assert_eq!(
        file("/usr/lib/x86_64-linux-gnu/libc.so.6")["verdict"],
        "missing_symbol"
    );
    // The application's own files load on trixie.
    let own: Vec<&Value> = files.iter().filter(|f| f["packaged"] == false).collect();
    assert!(own.len() >= 5);
    assert!(own.iter().all(|f| f["verdict"] == "ok"), "{own:?}");
}

#[test]
fn audit_bad_input() {
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("notes.txt"), "x").unwrap();
    let o = run(&["audit", empty.path().to_str().unwrap(), "--to", "alpine"]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr.trim(),
        format!(
            "libccheck: error: {}: no ELF files to audit (1 other files)",
            empty.path().display()
        )
    );
    let o = run(&["audit", "/no/such/dir", "--to", "alpine"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("/no/such/dir: not a directory"),
        "{}",
        o.stderr
    );
    if !docker() {
        return;
    }
    let o = run(&[
        "audit",
        "--image",
        "libccheck-fixture/absent:none",
        "--pull",
        "never",
        "--to",
        image("musl"),
    ]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("image libccheck-fixture/absent:none is not present locally"),
        "{}",
        o.stderr
    );
    let st = Command::new(root().join("fixtures/build-foreign-image.sh"))
        .status()
        .unwrap();
    assert!(st.success());
    let o = run(&[
        "audit",
        "--image",
        "libccheck-fixture/arm64:test",
        "--to",
        image("musl"),
    ]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr.trim(),
        "libccheck: error: libccheck-fixture/arm64:test is an image for linux/arm64; libccheck audits amd64 images"
    );
}

#[test]
fn absolute_symlinks_resolve_inside_the_root_and_unreadable_files_are_reported() {
    if !docker() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let app = d.path().join("opt/app");
    std::fs::create_dir_all(app.join("lib")).unwrap();
    std::fs::copy(fixture("hello"), app.join("hello")).unwrap();
    // Absolute links that exist on the host but not in the root: never read from the host.
    std::os::unix::fs::symlink(
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        app.join("lib/libc.so.6"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/bin/ls", app.join("ls")).unwrap();
    let secret = app.join("secret.so");
    std::fs::copy(fixture("libgreet.so.1"), &secret).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    for p in [
        d.path().to_path_buf(),
        d.path().join("opt"),
        app.clone(),
        app.join("lib"),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // Run as nobody (so that the mode-0 file is really unreadable), reaching Docker over tcp.
    let tcp = TcpDocker::start();
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("libccheck"))
        .args([
            "audit",
            d.path().to_str().unwrap(),
            "--to",
            image("bookworm"),
            "--format",
            "json",
        ])
        .env("DOCKER_HOST", tcp.host())
        .env("LIBCCHECK_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    drop(tcp);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
    // A file that could not be read was not audited: an error (2), as `inspect` says too.
    assert_eq!(o.status.code(), Some(2), "{v}");
    assert_eq!(
        v["source"]["elf_files"], 1,
        "only hello: links are not followed to the host"
    );
    let unreadable = v["source"]["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1);
    // Named by its path in the root, like every other file of the audit.
    assert_eq!(
        (unreadable[0][0].as_str(), unreadable[0][1].as_str()),
        (Some("/opt/app/secret.so"), Some("permission denied")),
        "{unreadable:?}"
    );
    assert_eq!(v["targets"][0]["files"][0]["verdict"], "ok");
}

#[test]
fn every_file_of_the_image_on_musl_agrees_with_musls_loader() {
    if !docker() {
        return;
    }
    app_root();
    // ~700 real ELF files of Debian bookworm, verified by musl's loader in one container.
    let (code, v) = json(&[
        "audit",
        "--image",
        APP_IMAGE,
        "--all",
        "--to",
        image("musl"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{}", v["targets"][0]["error"]);
    let t = &v["targets"][0];
    assert!(t["audited"].as_u64().unwrap() > 500);
    let mismatched: Vec<&Value> = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["agree"] != true)
        .collect();
    assert!(
        mismatched.is_empty(),
        "{} files where prediction and musl's loader differ, e.g. {}",
        mismatched.len(),
        mismatched[0]
    );
    // Packaged files are checked under /libccheck/system; the report names them by their paths.
    assert!(!v.to_string().contains("/libccheck/system"));
    // libgcc_s relocates against its own hidden-version symbols, which musl cannot see.
    let gcc = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1")
        .unwrap();
    let syms: Vec<&str> = gcc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["symbol"].as_str())
        .collect();
    assert!(
        syms.contains(&"__cpu_indicator_init") && syms.contains(&"_dl_find_object"),
        "{syms:?}"
    );
}
