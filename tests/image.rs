//! `libccheck image`: images built here from the fixture bases with `docker build`, each the way
//! teams meet the problem (a program copied into a runtime base), and the exact answer.

use std::process::Command;

use serde_json::Value;

use crate::util::*;

/// Build `libccheck-test/<name>` from a fixture base: `files` (fixture binaries or text) copied
/// to their paths, then the Dockerfile `lines` (ENTRYPOINT, CMD, USER, ENV). Cached by Docker.
fn build(name: &str, from: &str, files: &[(&str, File)], lines: &[&str]) -> String {
    let ctx = tempfile::tempdir().unwrap();
    let mut dockerfile = format!("FROM {from}\n");
    for (i, (dest, f)) in files.iter().enumerate() {
        let local = ctx.path().join(format!("f{i}"));
        match f {
            File::Fixture(n) => std::fs::copy(fixture(n), &local).map(|_| ()).unwrap(),
            File::Text(t) => std::fs::write(&local, t).unwrap(),
        }
        let mode = match f {
            File::Text(t) if !t.starts_with("#!") && !t.starts_with("exec") => 0o644,
            _ => 0o755,
        };
        std::fs::set_permissions(&local, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .unwrap();
        dockerfile.push_str(&format!("COPY f{i} {dest}\n"));
    }
    for l in lines {
        dockerfile.push_str(l);
        dockerfile.push('\n');
    }
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile).unwrap();
    let tag = format!("libccheck-test/{name}:latest");
    let st = Command::new("docker")
        .args(["build", "-q", "-t", &tag])
        .arg(ctx.path())
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "docker build {name}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    tag
}

enum File {
    Fixture(&'static str),
    Text(&'static str),
}

fn check(tag: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["image", "--format", "json", tag];
    args.extend(extra);
    json(&args)
}

/// The multi-stage mistake: a program built against glibc 2.38 copied into bookworm slim.
#[test]
fn a_program_built_on_a_newer_glibc_will_not_start() {
    if !docker() {
        return;
    }
    let tag = build(
        "multistage",
        image("bookworm"),
        &[("/usr/local/bin/app", File::Fixture("newer-glibc"))],
        &[r#"ENTRYPOINT ["app"]"#, r#"CMD ["--serve"]"#],
    );
    let (code, v) = check(&tag, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["schema"], "libccheck/image/v1");
    assert_eq!(v["starts"], false);
    let p = &v["program"];
    assert_eq!(p["path"], "/usr/local/bin/app", "{v}");
    assert_eq!(p["verdict"], "missing_version", "{p}");
    assert_eq!(p["load"]["verdict"], "missing_version", "verified: {p}");
    assert_eq!(p["agree"], true, "{p}");
    assert!(v["why_not"].as_str().unwrap().contains("GLIBC_2.38"), "{v}");
    let hints = p["prediction"]["hints"].to_string();
    assert!(
        hints.contains("debian:12") && hints.contains("debian-13"),
        "{hints}"
    );
    let o = run(&["image", &tag]);
    assert!(
        o.stdout
            .contains("WILL NOT START: /usr/local/bin/app: GLIBC_2.38 not found in libc.so.6"),
        "{}",
        o.stdout
    );
}

/// A glibc program copied into the musl base: no interpreter for the entrypoint; a script whose
/// shebang names bash, which the musl base lacks; a user the image does not have.
#[test]
fn what_stops_a_container_before_main() {
    if !docker() {
        return;
    }
    let glibc_on_musl = build(
        "glibc-on-musl",
        image("musl"),
        &[("/app/hello", File::Fixture("hello"))],
        &[r#"ENTRYPOINT ["/app/hello"]"#],
    );
    let (code, v) = check(&glibc_on_musl, &[]);
    assert_eq!(
        (code, &v["program"]["verdict"]),
        (1, &Value::from("no_interpreter")),
        "{v}"
    );
    assert_eq!(v["program"]["agree"], true, "{v}");

    let bash_script = build(
        "bash-script",
        image("musl"),
        &[
            (
                "/entrypoint.sh",
                File::Text("#!/bin/bash\nexec /app/hello-static\n"),
            ),
            ("/app/hello-static", File::Fixture("hello-static")),
        ],
        &[r#"ENTRYPOINT ["/entrypoint.sh"]"#],
    );
    let (code, v) = check(&bash_script, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        v["start"]["problem"],
        serde_json::json!({"kind": "missing", "path": "/bin/bash", "named_by": "/entrypoint.sh"})
    );
    assert_eq!(
        v["why_not"],
        "/bin/bash: no such file in the image (the interpreter /entrypoint.sh names)"
    );

    let no_user = build(
        "no-user",
        image("distroless-static"),
        &[("/app/hello-static", File::Fixture("hello-static"))],
        &[r#"ENTRYPOINT ["/app/hello-static"]"#, "USER app"],
    );
    let (code, v) = check(&no_user, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["user"]["ok"], false, "{v}");
    assert_eq!(
        v["program"]["verdict"], "ok",
        "the program itself is fine: {v}"
    );
    assert!(
        v["why_not"]
            .as_str()
            .unwrap()
            .contains("unable to find user app"),
        "{v}"
    );
}

/// A static program on distroless-static starts, verified, and with --exec it runs; shell form
/// needs a shell, which distroless lacks.
#[test]
fn a_good_image_and_a_shell_form_command() {
    if !docker() {
        return;
    }
    let good = build(
        "good",
        image("distroless-static"),
        &[("/app/hello-static", File::Fixture("hello-static"))],
        &[r#"ENTRYPOINT ["/app/hello-static"]"#],
    );
    let (code, v) = check(&good, &["--exec"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        (&v["starts"], &v["mode"]),
        (&Value::from(true), &Value::from("run"))
    );
    assert_eq!(v["program"]["verdict"], "ok", "{v}");
    assert_eq!(v["exec"]["verdict"], "ok", "{v}");
    assert!(
        v["exec"]["stdout"].as_str().unwrap().contains("hello"),
        "{v}"
    );

    // --exec alone starts the image's own command (Cmd only here), as `docker run IMAGE` does.
    let cmd_only = build(
        "cmd-only",
        image("distroless-static"),
        &[("/app/hello-static", File::Fixture("hello-static"))],
        &[r#"CMD ["/app/hello-static"]"#],
    );
    let (code, v) = check(&cmd_only, &["--exec"]);
    assert_eq!(
        (code, &v["exec"]["verdict"]),
        (0, &Value::from("ok")),
        "{v}"
    );

    let shell_form = |name: &str, base: &str| {
        build(
            name,
            base,
            &[("/app/hello-static", File::Fixture("hello-static"))],
            &["CMD exec /app/hello-static"],
        )
    };
    let (code, v) = check(&shell_form("shell-musl", image("musl")), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["start"]["shell_form"], true);
    assert_eq!(v["shell_command"]["path"], "/app/hello-static", "{v}");
    let (code, v) = check(
        &shell_form("shell-distroless", image("distroless-static")),
        &[],
    );
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["why_not"], "/bin/sh: no such file in the image", "{v}");
}

/// Bad input: each one clear line and the right exit code.
#[test]
fn images_that_leave_nothing_or_nothing_sensible_to_start() {
    if !docker() {
        return;
    }
    // distroless has neither Entrypoint nor Cmd.
    let o = run(&["image", image("distroless-static")]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(
        o.stderr.trim(),
        format!(
            "libccheck: error: {}: the image has neither Entrypoint nor Cmd: there is nothing to start",
            image("distroless-static")
        )
    );
    type Case<'a> = (&'a str, &'a [(&'a str, File)], &'a [&'a str], &'a str);
    let cases: [Case; 4] = [
        (
            "missing-entry",
            &[],
            &[r#"ENTRYPOINT ["/app/server"]"#],
            "/app/server: no such file in the image",
        ),
        (
            "no-shebang",
            &[("/run.sh", File::Text("exec true\n"))],
            &[r#"ENTRYPOINT ["/run.sh"]"#],
            "/run.sh: a script without #! line: exec fails with \"exec format error\"",
        ),
        (
            "shebang-loop",
            &[("/a", File::Text("#!/b\n")), ("/b", File::Text("#!/a\n"))],
            &[r#"ENTRYPOINT ["/a"]"#],
            "interpreters within interpreters (/a → /b → /a → /b → /a): Linux gives up with ELOOP",
        ),
        (
            "empty-path",
            &[("/app/hello-static", File::Fixture("hello-static"))],
            &["ENV PATH=", r#"ENTRYPOINT ["hello-static"]"#],
            "hello-static: not found (the image's PATH is empty)",
        ),
    ];
    for (name, files, lines, why) in cases {
        let tag = build(name, image("musl"), files, lines);
        let (code, v) = check(&tag, &["--no-run"]);
        assert_eq!(
            (code, v["why_not"].as_str().unwrap()),
            (1, why),
            "{name}: {v}"
        );
    }
    let st = Command::new(root().join("fixtures/build-foreign-image.sh"))
        .status()
        .unwrap();
    assert!(st.success());
    let o = run(&["image", "libccheck-fixture/arm64:test"]);
    assert_eq!(
        (o.code, o.stderr.trim()),
        (
            2,
            "libccheck: error: libccheck-fixture/arm64:test: an image for linux/arm64; libccheck checks amd64 images"
        )
    );
    let o = run(&["image", "--pull", "never", "libccheck-fixture/absent:none"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("not present locally"), "{}", o.stderr);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
}

/// A C++ program on bookworm slim would also run on distroless-cc, predicted from the catalog
/// and ranked by size against the local image; a program the image's own packages installed
/// (bash) cannot move by its files alone.
#[test]
fn a_smaller_base_that_would_also_run_the_application() {
    if !docker() {
        return;
    }
    let tag = build(
        "cxx-on-slim",
        image("bookworm"),
        &[("/app/hello-cxx", File::Fixture("hello-cxx"))],
        &[r#"ENTRYPOINT ["/app/hello-cxx"]"#],
    );
    let (code, v) = check(&tag, &["--suggest", "--to", image("distroless-cc")]);
    assert_eq!(code, 0, "{v}");
    let s = &v["smaller"];
    let local = s["current"]["bytes"].as_u64().unwrap();
    let smaller = s["smaller"].as_array().unwrap();
    // The fixture and the catalog entry measured from it are the same size: either comes first.
    assert!(
        smaller[0]["base"]
            .as_str()
            .unwrap()
            .contains("distroless-cc"),
        "{s}"
    );
    assert!(
        smaller
            .iter()
            .all(|b| b["works"] == true && b["size"]["bytes"].as_u64().unwrap() < local)
    );
    let names: Vec<&str> = smaller
        .iter()
        .map(|b| b["base"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&image("distroless-cc")) && names.contains(&"distroless-cc-debian12"),
        "the --to base and the catalog's: {names:?}"
    );
    assert!(
        !names.contains(&"debian-12"),
        "its own base is no smaller base: {names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.contains("distroless-base") || n.contains("alpine")),
        "{names:?}"
    );
    let ranking = s["ranking"].as_array().unwrap();
    assert!(
        ranking.len() > smaller.len(),
        "--suggest lists every candidate"
    );
    let o = run(&["image", &tag]);
    assert!(
        o.stdout
            .contains("would also run on distroless-cc-debian12 ("),
        "{}",
        o.stdout
    );
    let (_, v) = check(image("bookworm"), &["--no-run"]);
    assert!(
        v["smaller"]["why_none"]
            .as_str()
            .unwrap()
            .contains("/usr/bin/bash"),
        "{v}"
    );
}
