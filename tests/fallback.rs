//! Air-gapped and registry-less: a base whose image cannot be had is predicted from the offline
//! catalog (marked not verified), the pull failure is said once, `--require-run` keeps exit 2,
//! `[aliases]` in libccheck.toml maps a name to a mirror or local image, and catalog names work
//! in Docker mode.

use serde_json::Value;

use crate::util::*;

/// Run libccheck in `dir` (where a libccheck.toml may be) with `args`.
fn run_in(dir: &std::path::Path, args: &[&str]) -> Output {
    let o = libccheck().current_dir(dir).args(args).output().unwrap();
    Output::from(o)
}

/// The summary line of a human report.
fn summary_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.starts_with("works on") || l.starts_with("predicted to work on"))
        .unwrap_or_else(|| panic!("no summary line in {out}"))
}

fn base<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["bases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["base"] == name)
        .unwrap_or_else(|| panic!("no base {name} in {v}"))
}

/// Two mirrors on a registry name that never resolves (`.invalid`), and a local image for a
/// third alias: the local one is run, the other two predicted from the catalog.
fn unresolvable_mirrors() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("libccheck.toml"),
        format!(
            "bases = [\"alpine\", \"debian-12\", \"distroless-cc\"]\n[aliases]\nalpine = \"{}\"\ndebian-12 = \"registry.invalid/libccheck/debian:12-slim\"\ndistroless-cc = \"registry.invalid/libccheck/cc:13\"\n",
            image("musl")
        ),
    )
    .unwrap();
    dir
}

#[test]
fn an_unresolvable_mirror_falls_back_to_the_catalog() {
    if !docker() {
        return;
    }
    let dir = unresolvable_mirrors();
    let hello = fixture("hello-static");
    let o = run_in(dir.path(), &["--format", "json", hello.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let alpine = base(&v, "alpine");
    assert_eq!(alpine["image"], image("musl"));
    assert_eq!(alpine["verified"], true);
    assert!(alpine.get("fallback").is_none(), "{alpine}");
    let debian = base(&v, "debian-12");
    assert_eq!(debian["image"], "registry.invalid/libccheck/debian:12-slim");
    assert_eq!(debian["verified"], false);
    assert_eq!(debian["fallback"], "catalog");
    assert_eq!(debian["verdict"], "ok");
    assert_eq!(debian["libc"], "glibc 2.36");
    let unavailable = debian["unavailable"].as_str().unwrap();
    assert!(
        unavailable.starts_with("pulling failed: ") && unavailable.contains("registry.invalid"),
        "{unavailable}"
    );
    assert!(
        debian["reason"]
            .as_str()
            .unwrap()
            .starts_with("not verified: predicted from the offline catalog (debian-12); "),
        "{debian}"
    );
    assert_eq!(
        v["summary"]["unverified"],
        serde_json::json!(["debian-12", "distroless-cc"])
    );
    assert_eq!(v["summary"]["errors"], 0);

    // The human report says the failure once, above the table, for both images of that
    // registry, and the hint once; the rows only mark their verdicts as predictions.
    let o = run_in(dir.path(), &[hello.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let out = &o.stdout;
    assert_eq!(out.matches("pulling failed").count(), 1, "{out}");
    assert_eq!(out.matches("hint:").count(), 1, "{out}");
    assert!(
        out.contains(
            "images unavailable (predicted from the offline catalog instead, not verified):\n  registry.invalid/libccheck/debian:12-slim, registry.invalid/libccheck/cc:13: pulling failed: "
        ),
        "{out}"
    );
    assert_eq!(
        summary_line(out),
        "works on 1 of 3 bases; 2 not verified (image unavailable), predicted to work on 2 of them",
        "{out}"
    );
}

#[test]
fn require_run_keeps_an_unavailable_image_an_error() {
    if !docker() {
        return;
    }
    let dir = unresolvable_mirrors();
    let hello = fixture("hello-static");
    let hello = hello.to_str().unwrap();
    let o = run_in(dir.path(), &["--require-run", hello]);
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    // The predictions are still shown, for what they are worth.
    assert!(
        o.stdout.contains(
            "(predicted from the offline catalog, not verified; --require-run makes that an error):"
        ),
        "{}",
        o.stdout
    );
    // The same from libccheck.toml.
    let toml = dir.path().join("libccheck.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("require_run = true\n{text}")).unwrap();
    let (code, v) = {
        let o = run_in(dir.path(), &["--format", "json", hello]);
        (o.code, serde_json::from_str::<Value>(&o.stdout).unwrap())
    };
    assert_eq!(code, 2);
    assert_eq!(v["exit_code"], 2);
    assert_eq!(v["summary"]["require_run"], true);
    // A base that is not required does not decide the exit code, fallback or not.
    let o = run_in(dir.path(), &["--require", "alpine", hello]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
}

#[test]
fn a_predicted_failure_decides_the_exit_code() {
    if !docker() {
        return;
    }
    // hello (glibc) on the musl fixture fails for real; on the unavailable glibc bases it is
    // predicted to work: exit 1 for the failure, no error.
    let dir = unresolvable_mirrors();
    let o = run_in(dir.path(), &[fixture("hello").to_str().unwrap()]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert_eq!(
        summary_line(&o.stdout),
        "works on 0 of 3 bases; 2 not verified (image unavailable), predicted to work on 2 of them; required but failing: alpine",
        "{}",
        o.stdout
    );
}

/// A local registry (Debian's docker-registry) holding the musl fixture, stopped afterwards:
/// the image reference of what it held.
fn a_registry_that_stopped() -> String {
    let registry = local_registry();
    let port = registry.port;
    let mirrored = format!(
        "127.0.0.1:{port}/libccheck-fallback/alpine:t{}",
        std::process::id()
    );
    docker_ok(&["tag", image("musl"), &mirrored]);
    docker_ok(&["push", &mirrored]);
    docker_ok(&["rmi", &mirrored]);
    drop(registry);
    mirrored
}

#[test]
fn a_stopped_local_registry_falls_back_to_the_catalog() {
    if !docker() {
        return;
    }
    let mirrored = a_registry_that_stopped();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("libccheck.toml"),
        format!("[aliases]\nalpine = \"{mirrored}\"\n\"alpine-3.22\" = \"{mirrored}\"\n"),
    )
    .unwrap();
    let musl = fixture("hello-musl");
    let o = run_in(
        dir.path(),
        &[
            "-b",
            "alpine,alpine-3.22",
            "--format",
            "json",
            musl.to_str().unwrap(),
        ],
    );
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    for name in ["alpine", "alpine-3.22"] {
        let b = base(&v, name);
        assert_eq!(b["fallback"], "catalog", "{b}");
        assert_eq!(b["verdict"], "ok", "{b}");
        assert_eq!(b["libc"], "musl 1.2.5", "{b}");
        assert!(
            b["unavailable"]
                .as_str()
                .unwrap()
                .contains("connection refused"),
            "{b}"
        );
    }
    // Two bases, one image, one cause: said once.
    let o = run_in(
        dir.path(),
        &["-b", "alpine,alpine-3.22", musl.to_str().unwrap()],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout.matches("connection refused").count(),
        1,
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains(&format!("\n  {mirrored}: pulling failed: ")),
        "{}",
        o.stdout
    );
    assert_eq!(
        summary_line(&o.stdout),
        "predicted to work on 2 of 2 bases (none verified: every image unavailable)",
        "{}",
        o.stdout
    );
    let o = run_in(
        dir.path(),
        &["-b", "alpine", "--require-run", musl.to_str().unwrap()],
    );
    assert_eq!(o.code, 2, "{}", o.stdout);
}

#[test]
fn a_catalog_name_is_its_public_image_in_docker_mode() {
    if !docker() {
        return;
    }
    // debian-12 stands for debian:12-slim, not for a local image named "debian-12".
    let (code, v) = json(&[
        "--format",
        "json",
        "--pull",
        "never",
        "-b",
        "debian-12",
        fixture("hello-static").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{v}");
    let b = base(&v, "debian-12");
    assert_eq!(b["image"], "debian:12-slim");
    assert_eq!(b["verdict"], "ok");
    if b["fallback"] != "catalog" {
        return; // debian:12-slim is present on this machine: it was run.
    }
    assert_eq!(
        b["unavailable"],
        "not present locally, and --pull never forbids pulling it"
    );
    // audit --to takes catalog names the same way.
    let tree = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("hello-static"), tree.path().join("hello-static")).unwrap();
    let o = run(&[
        "audit",
        "--pull",
        "never",
        "--to",
        "debian-12",
        tree.path().to_str().unwrap(),
    ]);
    assert!(
        o.stdout
            .contains("error: image debian:12-slim is not present locally"),
        "{}",
        o.stdout
    );
}

#[test]
fn an_image_without_a_catalog_entry_stays_an_error_said_once() {
    if !docker() {
        return;
    }
    let o = run(&[
        "--pull",
        "never",
        "-b",
        "libccheck-fixture/absent:none",
        fixture("hello-static").to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(
        o.stdout.matches("not present locally").count(),
        1,
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains(
            "images unavailable:\n  libccheck-fixture/absent:none: not present locally, and --pull never forbids pulling it\n"
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("image unavailable (see above); not in the offline catalog"),
        "{}",
        o.stdout
    );
    assert_eq!(
        summary_line(&o.stdout),
        "works on 0 of 1 bases; errors (no verdict): libccheck-fixture/absent:none"
    );
}
