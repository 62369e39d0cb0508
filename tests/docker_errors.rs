//! Docker paths that go wrong, and pulling: an unreachable daemon, a forbidden socket, unknown
//! images, pulls from a real registry (Debian's docker-registry on 127.0.0.1), Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

#[test]
fn unreachable_daemon_is_one_clear_line() {
    let o = libccheck()
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args(["-b", "alpine", fixture("hello").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot reach the Docker daemon at unix:///nonexistent/docker.sock"),
        "{err}"
    );
    let o = libccheck()
        .env("DOCKER_HOST", "tcp://127.0.0.1:1")
        .args(["clean"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot reach the Docker daemon at tcp://127.0.0.1:1"),
        "{err}"
    );
}

#[test]
fn forbidden_socket_says_permission_denied() {
    if !docker() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let hello = d.path().join("hello");
    std::fs::copy(fixture("hello"), &hello).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sock = "/var/run/docker.sock";
    let meta = std::fs::metadata(sock).unwrap();
    if meta.permissions().mode() & 0o006 != 0 {
        panic!("{sock} is world-accessible; this test needs a socket that uid 65534 may not use");
    }
    let bin = assert_cmd::cargo::cargo_bin("libccheck");
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["-b", "alpine", hello.to_str().unwrap()])
        .env("DOCKER_HOST", format!("unix://{sock}"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "libccheck: error: permission denied on the Docker socket unix://{sock} (add your user to the `docker` group, or use a daemon you may access)"
        )
    );
}

#[test]
fn bad_bases_and_binaries() {
    let hello = fixture("hello");
    let o = run(&["-b", "not a base!", hello.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("unknown base \"not a base!\""),
        "{}",
        o.stderr
    );
    let o = run(&["-b", "alpine", "/no/such/binary"]);
    assert_eq!(
        (o.code, o.stderr.trim()),
        (
            2,
            "libccheck: error: /no/such/binary: no such file or directory"
        )
    );
    let o = run(&["-b", "alpine", root().join("Cargo.toml").to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("Cargo.toml: not an ELF file"),
        "{}",
        o.stderr
    );
    let o = run(&[
        "-b",
        "alpine",
        "--require",
        "ubuntu",
        hello.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("--require ubuntu: not among the bases"),
        "{}",
        o.stderr
    );
    let o = run(&[
        "-b",
        "alpine",
        fixture("libgreet.so.1").to_str().unwrap(),
        "--",
        "x",
    ]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("a shared object cannot be run"),
        "{}",
        o.stderr
    );
}

#[test]
fn missing_image_with_pull_never_and_a_failing_pull() {
    if !docker() {
        return;
    }
    let hello = fixture("hello-static");
    let o = run(&[
        "--format",
        "json",
        "--pull",
        "never",
        "-b",
        "libccheck-fixture/absent:none",
        hello.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["bases"][0]["verdict"], "error");
    assert_eq!(
        v["bases"][0]["reason"],
        "image libccheck-fixture/absent:none is not present locally (and --pull never forbids pulling it)"
    );
    // With pulling allowed, the pull fails (no registry is reachable) and says what to do.
    let o = run(&[
        "--format",
        "json",
        "-b",
        "127.0.0.1:1/absent:none",
        hello.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let reason = v["bases"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("pulling 127.0.0.1:1/absent:none failed: "),
        "{reason}"
    );
    assert!(
        reason.contains("--pull never") && reason.contains("--offline"),
        "{reason}"
    );
}

#[test]
fn pulls_from_a_registry_with_progress_and_uses_the_image() {
    if !docker() {
        return;
    }
    let registry = local_registry();
    let port = registry.port;
    let image = format!(
        "127.0.0.1:{port}/libccheck-pulltest/musl:t{}",
        std::process::id()
    );
    docker_ok(&["tag", image_of("musl"), &image]);
    docker_ok(&["push", &image]);
    docker_ok(&["rmi", &image]);
    let (code, v) = json(&[
        "--format",
        "json",
        "-b",
        &image,
        fixture("hello-musl").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["bases"][0]["verdict"], "ok");
    assert_eq!(v["bases"][0]["libc"], "musl 1.2.5");
    // It is local now; --pull never finds it, --pull always pulls again.
    let (code, _) = json(&[
        "--format",
        "json",
        "--pull",
        "never",
        "-b",
        &image,
        fixture("hello-musl").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let (code, _) = json(&[
        "--format",
        "json",
        "--pull",
        "always",
        "-b",
        &image,
        fixture("hello-musl").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    // A tag the registry does not have: the failure names image and reason.
    let missing = format!("127.0.0.1:{port}/libccheck-pulltest/musl:nope");
    let (code, v) = json(&[
        "--format",
        "json",
        "-b",
        &missing,
        fixture("hello-musl").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    let reason = v["bases"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("pulling {missing} failed: ")) && reason.contains("not found"),
        "{reason}"
    );
    docker_ok(&["rmi", &image]);
}

fn image_of(short: &str) -> &'static str {
    image(short)
}

/// Start libccheck on the `hang` fixture, with `tmp` as its temporary directory (where a local
/// run keeps the files its containers mount), and return once every base's container exists.
fn spawn_hanging_run(images: &[&str], tmp: &std::path::Path) -> (std::process::Child, String) {
    let child = Command::new(assert_cmd::cargo::cargo_bin("libccheck"))
        .env("TMPDIR", tmp)
        .args(["--timeout", "60", "-b", &images.join(",")])
        .arg(fixture("hang"))
        .arg("--exec")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let t = Instant::now();
    while containers_of_run(&pid).len() < images.len() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "containers never appeared"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, pid)
}

#[test]
fn sigint_leaves_no_container_behind() {
    if !docker() {
        return;
    }
    for signal in ["INT", "TERM"] {
        let all: Vec<&str> = BASES.iter().map(|(_, i)| *i).collect();
        let tmp = tempfile::tempdir().unwrap();
        let (mut child, pid) = spawn_hanging_run(&all, tmp.path());
        assert_eq!(entries(tmp.path()).len(), 1, "the run's private directory");
        let t = Instant::now();
        assert!(
            Command::new("kill")
                .args([&format!("-{signal}"), &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = child.wait().unwrap();
        let mut err = String::new();
        for l in BufReader::new(child.stderr.take().unwrap()).lines() {
            err.push_str(&l.unwrap());
        }
        assert_eq!(
            status.code(),
            Some(if signal == "INT" { 130 } else { 143 }),
            "{err}"
        );
        assert!(err.contains("interrupted; removed"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(40));
        assert_eq!(
            containers_of_run(&pid),
            Vec::<String>::new(),
            "containers left after SIG{signal}"
        );
        assert_eq!(
            entries(tmp.path()),
            Vec::<String>::new(),
            "files left after SIG{signal}"
        );
    }
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn clean_removes_leftovers_of_killed_runs() {
    if !docker() {
        return;
    }
    // A run killed with SIGKILL cannot clean up; `libccheck clean` can.
    let tmp = tempfile::tempdir().unwrap();
    let (mut child, pid) = spawn_hanging_run(&[image("musl")], tmp.path());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!containers_of_run(&pid).is_empty());
    // Other tests' runs are live: clean spares them and removes the dead run's container, and
    // the files its container mounted.
    assert_eq!(entries(tmp.path()).len(), 1);
    let o: Output = libccheck()
        .arg("clean")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap()
        .into();
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("removed "), "{}", o.stdout);
    assert!(containers_of_run(&pid).is_empty());
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
    assert!(
        o.stdout.contains("removed 1 director(ies) of their files"),
        "{}",
        o.stdout
    );
    let o = run(&["clean"]);
    assert!(
        o.stdout.starts_with("removed 0 container(s)"),
        "{}",
        o.stdout
    );
    // Runs of another machine sharing the daemon, under the same hostname and a pid that is
    // live here: one within its time limit (spared), one past it (removed).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let other_host = |run_id: &str, until: u64| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        let labels = [
            format!("org.libccheck.run={run_id}"),
            format!("org.libccheck.host={}", host.trim()),
            format!("org.libccheck.pid={}", std::process::id()),
            "org.libccheck.machine=another-machine/another-boot/ci".to_string(),
            "org.libccheck.pid-start=1".to_string(),
            format!("org.libccheck.until={until}"),
        ];
        let mut c = Command::new("docker");
        c.arg("create");
        for l in &labels {
            c.args(["--label", l]);
        }
        let o = c.args([image("musl"), "/bin/true"]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (live, over) = (format!("0-live{now}"), format!("0-over{now}"));
    other_host(&live, now + 600);
    other_host(&over, now - 1);
    let o = run(&["clean"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        containers_of_run(&live).len(),
        1,
        "a live run of another host was removed"
    );
    assert!(containers_of_run(&over).is_empty(), "{}", o.stdout);
    // (Not `clean --all`: other tests' runs are going on.)
    for id in containers_of_run(&live) {
        Command::new("docker")
            .args(["rm", "-f", &id])
            .output()
            .unwrap();
    } // A live run of a binary under another name (a release asset) is live all the same.
    let d = tempfile::tempdir().unwrap();
    let renamed = d.path().join("libccheck-linux-amd64");
    std::fs::copy(assert_cmd::cargo::cargo_bin("libccheck"), &renamed).unwrap();
    let mut child = Command::new(&renamed)
        .args(["--timeout", "60", "-b", image("musl")])
        .arg(fixture("hang"))
        .arg("--exec")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let t = Instant::now();
    while containers_of_run(&pid).is_empty() {
        assert!(t.elapsed() < Duration::from_secs(30), "no container");
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = run(&["clean"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        !containers_of_run(&pid).is_empty(),
        "a live run was removed: {}",
        o.stdout
    );
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    child.wait().unwrap();
    assert!(containers_of_run(&pid).is_empty());
}
