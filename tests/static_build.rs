//! A static libccheck (scripts/build-static.sh: glibc with crt-static on the gnu target) runs where
//! there is no glibc at all: in the musl fixture, as in the Alpine-based `docker:27` CI image.
//! Built in the debug profile: the same flags and linking as the release build, in about half the
//! time on two cores (a release build takes minutes), and cached by cargo after the first run.

use std::path::PathBuf;
use std::process::Command;

use crate::util::*;

fn static_libccheck() -> PathBuf {
    let o = Command::new(root().join("scripts/build-static.sh"))
        .arg("--debug")
        .output()
        .expect("run scripts/build-static.sh");
    assert!(
        o.status.success(),
        "build-static.sh: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    PathBuf::from(String::from_utf8(o.stdout).unwrap().trim())
}

/// `docker run --rm` of the musl fixture with the static libccheck and the hello fixture mounted.
fn in_musl(bin: &std::path::Path, extra: &[&str], args: &[&str]) -> Output {
    let o = Command::new("docker")
        .args(["run", "--rm", "--network", "none"])
        .arg("-v")
        .arg(format!("{}:/usr/local/bin/libccheck:ro", bin.display()))
        .arg("-v")
        .arg(format!("{}:/hello:ro", fixture("hello").display()))
        .args(extra)
        .arg(image("musl"))
        .arg("/usr/local/bin/libccheck")
        .args(args)
        .output()
        .unwrap();
    Output::from(o)
}

#[test]
fn the_static_libccheck_runs_in_the_musl_fixture() {
    if !docker() {
        return;
    }
    let bin = static_libccheck();
    // No interpreter: nothing for the musl base to lack.
    let (code, v) = json(&["inspect", "--format", "json", bin.to_str().unwrap()]);
    assert_eq!(code, 0);
    let kind = v["files"][0]["kind"].as_str().unwrap();
    assert!(matches!(kind, "static" | "static_pie"), "{kind}");
    assert!(v["files"][0]["interpreter"].is_null());

    let o = in_musl(&bin, &[], &["--version"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("libccheck "), "{}", o.stdout);

    let o = in_musl(
        &bin,
        &[],
        &["--offline", "-b", "debian-12,alpine-3.22", "/hello"],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stdout.contains("debian-12"), "{}", o.stdout);

    // A real check through the host's daemon, as a CI job talks to its Docker service.
    let socket = "/var/run/docker.sock";
    if std::env::var("DOCKER_HOST").is_err() && std::path::Path::new(socket).exists() {
        let mount = format!("{socket}:{socket}");
        let o = in_musl(
            &bin,
            &["-v", &mount],
            &["--format", "json", "-b", image("bookworm"), "/hello"],
        );
        assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
        let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(
            (v["mode"].as_str(), v["bases"][0]["verdict"].as_str()),
            (Some("run"), Some("ok"))
        );
    }
}
