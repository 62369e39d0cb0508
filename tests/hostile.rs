//! Hostile binaries and careless input: the program under test must not be able to influence
//! its own verdict, see what it was not given, or hold the gate; bad input is a usage error.

use std::time::Duration;

use serde_json::Value;

use crate::util::*;

fn check_json(base: &str, binary: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "--format",
        "json",
        "-b",
        image(base),
        binary.to_str().unwrap(),
    ];
    args.extend(extra);
    json(&args)
}

/// A root directory with these fixtures in `/bin`, for audits.
fn root_with_bin(fixtures: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("bin")).unwrap();
    for f in fixtures {
        std::fs::copy(fixture(f), d.path().join("bin").join(f)).unwrap();
    }
    d
}

#[test]
fn a_forged_report_never_passes_the_gate() {
    if !docker() {
        return;
    }
    // forge-report writes well-formed "ok" blocks into every report channel it can open, then
    // crashes: the crash is what must be reported.
    for base in ["musl", "bookworm", "distroless-static"] {
        let (code, v) = check_json(base, &fixture("forge-report"), &["--exec"]);
        let b = &v["bases"][0];
        assert_eq!(b["verdict"], "crash", "{base}: {b}");
        assert_eq!(b["exec"]["signal"], "SIGSEGV", "{base}: {b}");
        assert_eq!(code, 1, "{base}");
    }
    // Even as root (--as-root: same uid as the probe) it cannot forge: the probe is not dumpable
    // and every block must carry a key the program never sees.
    let (code, v) = check_json(
        "bookworm",
        &fixture("forge-report"),
        &["--exec", "--as-root"],
    );
    assert_ne!(v["bases"][0]["verdict"], "ok", "{v}");
    assert_ne!(code, 0);
}

#[test]
fn the_program_sees_no_key_no_stray_files_and_not_the_probe() {
    if !docker() {
        return;
    }
    // peek sits beside secret.env, data.bin and notes.txt with RUNPATH $ORIGIN; its exit code
    // counts what it could read of those, the report key, and the probe's and PID 1's memory,
    // environment and stdout. Both ways the files reach a container: mounted read-only from this
    // machine (the key in the probe's environment) and uploaded to a daemon over TCP (a key file).
    let peek = fixture("peek/peek");
    let tcp = TcpDocker::start();
    for (host, delivery) in [
        (
            "unix:///var/run/docker.sock",
            "mounting the probe's files read-only",
        ),
        (
            tcp.host().as_str(),
            "uploading the probe's files into each container",
        ),
    ] {
        let o: Output = libccheck()
            .env("DOCKER_HOST", host)
            .args(["-v", "--format", "json", "-b", image("bookworm")])
            .arg(&peek)
            .arg("--exec")
            .output()
            .unwrap()
            .into();
        let v: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|_| panic!("{}", o.stderr));
        assert!(o.stderr.contains(delivery), "{host}: {}", o.stderr);
        let e = &v["bases"][0]["exec"];
        assert_eq!(e["stdout"], "saw 0 thing(s) it should not\n", "{host}: {v}");
        assert_eq!(v["bases"][0]["verdict"], "ok", "{v}");
        assert_eq!(o.code, 0);
        // Nothing was uploaded beside it: it needs no library from its directory.
        assert!(!o.stderr.contains("uploading /"), "{}", o.stderr);
    }
}

#[test]
fn the_mounted_files_are_read_only_for_the_program() {
    if !docker() {
        return;
    }
    // sandbox-report tries to write into its own directory: neither it nor the probe may.
    let (code, v) = check_json("musl", &fixture("sandbox-report"), &["--exec"]);
    assert_eq!(code, 0, "{v}");
    let out = v["bases"][0]["exec"]["stdout"].as_str().unwrap();
    assert!(out.contains("uid=65532"), "{out}");
    assert!(out.contains("libccheck_writable=0"), "{out}");
}

/// A static program built here from `source`, at `dir/name`.
fn static_program(dir: &std::path::Path, name: &str, source: &str) -> std::path::PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let exe = dir.join(name);
    let st = std::process::Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success());
    exe
}

/// Holds an exclusive lock on its own executable for a while; fails when another holds it (a
/// single-instance guard).
const LOCK_SELF_C: &str = r#"
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
int main(void) {
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) return 3;
    sleep(2);
    return 0;
}
"#;

#[test]
fn a_program_that_locks_its_own_file_reaches_neither_other_bases_nor_the_host() {
    if !docker() {
        return;
    }
    // Every base runs its own copy at the same time: a lock taken in one container is not seen
    // by the others, nor held on the user's file.
    let d = tempfile::tempdir().unwrap();
    let exe = static_program(d.path(), "lockself", LOCK_SELF_C);
    let bases = [image("musl"), image("bookworm"), image("distroless-static")].join(",");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("libccheck"))
        .env("NO_COLOR", "1")
        .args(["--format", "json", "-j", "3", "-b", &bases])
        .arg(&exe)
        .arg("--exec")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let on_host = std::fs::File::open(&exe).unwrap();
    let mut host_locked = false;
    while child.try_wait().unwrap().is_none() {
        host_locked |= on_host.try_lock().is_err();
        let _ = on_host.unlock();
        std::thread::sleep(Duration::from_millis(100));
    }
    let o: Output = child.wait_with_output().unwrap().into();
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let code = o.code;
    assert!(!host_locked, "a container held the lock on the user's file");
    for b in v["bases"].as_array().unwrap() {
        assert_eq!(b["verdict"], "ok", "{b}");
    }
    assert_eq!(code, 0, "{v}");
}

#[test]
fn a_with_file_cannot_stand_in_for_the_binary() {
    // `./prog` is the binary's own name: refused, and nothing is written anywhere.
    let d = tempfile::tempdir().unwrap();
    let prog = d.path().join("prog");
    std::fs::copy(fixture("hello-static"), &prog).unwrap();
    let other = d.path().join("other.txt");
    std::fs::write(&other, "other content\n").unwrap();
    let before = std::fs::read(&prog).unwrap();
    let o = run(&[
        "--no-run",
        "-b",
        image("musl"),
        "--with",
        &format!("{}:./prog", other.display()),
        prog.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("/libccheck/app/prog is already"),
        "{}",
        o.stderr
    );
    assert_eq!(std::fs::read(&prog).unwrap(), before);
}

#[test]
fn a_binary_with_file_capabilities_runs_from_its_copy() {
    if !docker() {
        return;
    }
    // A server given `setcap cap_net_bind_service+ep`: the copy each container gets carries no
    // capability the sandbox would refuse at exec.
    let d = tempfile::tempdir().unwrap();
    let prog = d.path().join("server");
    std::fs::copy(fixture("hello-static"), &prog).unwrap();
    let st = std::process::Command::new("setcap")
        .args(["cap_net_bind_service+ep"])
        .arg(&prog)
        .status()
        .expect("setcap (Debian package libcap2-bin)");
    assert!(st.success());
    let (code, v) = check_json("musl", &prog, &["--exec"]);
    assert_eq!(v["bases"][0]["verdict"], "ok", "{v}");
    assert_eq!(v["bases"][0]["exec"]["exit_code"], 0, "{v}");
    assert_eq!(code, 0);
}

#[test]
fn only_the_libraries_origin_resolves_are_uploaded_and_v_lists_them() {
    // The RUNPATH binary's lib/ holds its library and things that are no library of it.
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("lib")).unwrap();
    let app = d.path().join("app-runpath");
    std::fs::copy(fixture("runpath/app-runpath"), &app).unwrap();
    std::fs::copy(fixture("libgreet.so.1"), d.path().join("lib/libgreet.so.1")).unwrap();
    std::fs::write(d.path().join("lib/secret.env"), "TOKEN=x\n").unwrap();
    std::fs::write(d.path().join("lib/libunused.so.9"), "not needed\n").unwrap();
    std::fs::write(d.path().join("main.rs"), "fn main() {}\n").unwrap();
    let o = run(&["-v", "--offline", "-b", "debian-12", app.to_str().unwrap()]);
    let uploads: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.contains("uploading"))
        .collect();
    assert_eq!(uploads.len(), 1, "{}", o.stderr);
    assert!(
        uploads[0].ends_with("lib/libgreet.so.1 as /libccheck/app/lib/libgreet.so.1"),
        "{}",
        uploads[0]
    );
    // The prediction sees the uploaded library: it loads.
    assert!(
        o.stdout
            .contains("every library, version and symbol resolves"),
        "{}",
        o.stdout
    );
}

#[test]
fn a_daemon_that_never_answers_is_an_error_naming_it_not_a_wait() {
    // Daemons that accept connections and never say a word, over TCP and a unix socket.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let unix = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in unix.incoming().flatten() {
            held.push(s);
        }
    });
    let hosts = [
        format!("tcp://127.0.0.1:{port}"),
        format!("unix://{}", socket.display()),
    ];
    let runs = [
        vec!["-b", "alpine", "HELLO"],
        vec!["audit", "ROOT", "--to", "alpine"],
    ];
    let check = |host: &String, args: &Vec<&str>| {
        let root = fixtures().to_str().unwrap().to_string();
        let hello = fixture("hello").to_str().unwrap().to_string();
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("HELLO", &hello).replace("ROOT", &root))
            .collect();
        let o = libccheck()
            .env("DOCKER_HOST", host)
            .args(&args)
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "the Docker daemon at {host} did not answer the version request within 10 s"
            )),
            "{args:?}: {err}"
        );
    };
    // The four at once (each waits out the connect limit).
    std::thread::scope(|s| {
        for host in &hosts {
            for args in &runs {
                s.spawn(|| check(host, args));
            }
        }
    });
}

#[test]
fn a_child_left_writing_neither_holds_the_probe_nor_changes_the_verdict() {
    if !docker() {
        return;
    }
    // drip exits 0 at once; its child (setsid) writes to the shared stdout every 10 ms forever.
    let (code, v) = check_json("musl", &fixture("drip"), &["--exec", "--timeout", "2"]);
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "ok", "{b}");
    assert_eq!(b["exec"]["exit_code"], 0, "{b}");
    assert_eq!(code, 0);
}

#[test]
fn an_out_of_memory_kill_names_the_memory_limit() {
    if !docker() {
        return;
    }
    let (code, v) = check_json(
        "bookworm",
        &fixture("memhog"),
        &["--exec", "--memory", "32"],
    );
    assert_eq!(code, 1);
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "crash");
    assert_eq!(b["exec"]["signal"], "SIGKILL");
    assert_eq!(
        b["reason"],
        "killed by SIGKILL: out of memory (the sandbox's limit of 32 MiB; --memory raises it)"
    );
}

#[test]
fn the_audit_needs_no_writable_tmp_in_the_target() {
    if !docker() {
        return;
    }
    // Two programs, so that the probe runs its workers; a target whose /tmp only uid 1 may
    // write, and one with no /tmp at all (FROM scratch).
    let d = root_with_bin(&["hello-musl", "hello"]);
    let (code, v) = json(&[
        "audit",
        d.path().to_str().unwrap(),
        "--format",
        "json",
        "--to",
        "libccheck-fixture/musl:locked-tmp,libccheck-fixture/musl:no-tmp",
    ]);
    for t in v["targets"].as_array().unwrap() {
        assert_eq!(t["error"], Value::Null, "{t}");
        let verified: Vec<&str> = t["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["verified"].as_str().unwrap_or("none"))
            .collect();
        assert_eq!(verified.len(), 2, "{t}");
        assert!(
            verified.contains(&"ok") && verified.contains(&"no_interpreter"),
            "{t}"
        );
        assert_eq!(t["mismatches"], 0, "{t}");
    }
    assert_eq!(code, 1, "hello breaks on musl: {v}");
}

#[test]
fn an_audited_file_cannot_stand_in_for_the_probe() {
    if !docker() {
        return;
    }
    // The tree holds /libccheck/probe, which would answer "loaded fine" with the report key.
    let d = root_with_bin(&["newer-glibc"]);
    std::fs::create_dir(d.path().join("libccheck")).unwrap();
    std::fs::copy(fixture("fake-probe"), d.path().join("libccheck/probe")).unwrap();
    let (code, v) = json(&[
        "audit",
        d.path().to_str().unwrap(),
        "--format",
        "json",
        "--to",
        image("musl"),
    ]);
    let t = &v["targets"][0];
    let error = t["error"].as_str().unwrap_or_default();
    assert!(error.contains("/libccheck/probe under /libccheck"), "{t}");
    for f in t["files"].as_array().unwrap() {
        assert_ne!(f["verified"], "ok", "a verdict from the fake probe: {f}");
    }
    assert_eq!(code, 2, "{v}");
}

#[test]
fn files_of_another_architecture_are_wrong_arch_in_checks_and_audits() {
    if !docker() {
        return;
    }
    let (code, v) = check_json("bookworm", &fixture("hello-aarch64"), &[]);
    assert_eq!(code, 1, "an answer, not an error: {v}");
    assert_eq!(v["bases"][0]["verdict"], "wrong_arch");
    // 32-bit x86 runs on an amd64 image: checked like any program (no 32-bit loader here).
    let (code, v) = check_json("bookworm", &fixture("hello-i386"), &[]);
    assert_eq!(code, 1);
    assert_eq!(v["bases"][0]["verdict"], "no_interpreter");
    assert_eq!(v["bases"][0]["agree"], true);
    let d = root_with_bin(&["hello-aarch64", "hello-i386", "hello"]);
    let (_, v) = json(&[
        "audit",
        d.path().to_str().unwrap(),
        "--format",
        "json",
        "--to",
        image("bookworm"),
    ]);
    let verdict = |name: &str| {
        v["targets"][0]["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == format!("/bin/{name}"))
            .map(|f| (f["verdict"].clone(), f["agree"].clone()))
            .unwrap()
    };
    assert_eq!(verdict("hello-aarch64").0, "wrong_arch", "{v}");
    assert_eq!(
        verdict("hello-i386"),
        (Value::from("no_interpreter"), Value::from(true))
    );
    assert_eq!(verdict("hello"), (Value::from("ok"), Value::from(true)));
}

#[test]
fn escape_sequences_in_elf_strings_are_shown_not_sent() {
    // needs-escape's needed library is named "lib\e[2Jnwh.so.1" (clear screen).
    let bin = fixture("needs-escape");
    let b = bin.to_str().unwrap();
    for args in [
        vec!["inspect", b],
        vec!["--offline", "-b", "debian-12", b],
        vec!["--offline", "-b", "debian-12", "--format", "markdown", b],
    ] {
        let o = run(&args);
        assert!(
            !o.stdout.contains('\x1b'),
            "{args:?}: raw escape in {:?}",
            o.stdout
        );
        assert!(
            o.stdout.contains("lib\\x1b[2Jnwh.so.1"),
            "{args:?}: {}",
            o.stdout
        );
    }
    // A line break in a name does not start a line of the check's report (a forged row).
    let newline = fixture("needs-newline");
    for format in ["human", "markdown"] {
        let o = run(&[
            "--offline",
            "-b",
            "debian-12",
            "--format",
            format,
            newline.to_str().unwrap(),
        ]);
        assert!(
            !o.stdout.lines().any(|l| l.starts_with("   ok forged")),
            "{format}: {}",
            o.stdout
        );
        assert!(
            o.stdout.contains("li\\x0a   ok forged"),
            "{format}: {}",
            o.stdout
        );
    }
    // JSON keeps the true name (JSON escapes it itself).
    let (_, v) = json(&["inspect", "--format", "json", b]);
    assert!(v.to_string().contains("lib\\u001b[2Jnwh.so.1"), "{v}");
}

#[test]
fn careless_input_is_a_usage_error() {
    let hello = fixture("hello");
    let h = hello.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("libccheck.toml");
    std::fs::write(&toml, "bases = []\n").unwrap();
    let toml = toml.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-b", "", h], "no base given"),
        (vec!["-b", ",", h], "no base given"),
        (vec!["--offline", "-b", " , ", h], "no base given"),
        (vec!["--config", toml, h], "no base given"),
        (vec!["audit", "/", "--to", ""], "no base given"),
        (vec!["--output-limit", "0", h], "--output-limit"),
        (vec!["--output-limit", "4000000000", h], "--output-limit"),
        (
            vec!["--with", dir.path().to_str().unwrap(), h],
            "is a directory",
        ),
    ];
    for (args, want) in cases {
        let o = run(&args);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(want), "{args:?}: {}", o.stderr);
        assert_eq!(o.stdout, "", "{args:?}");
    }
}

#[test]
fn a_huge_binary_is_refused_at_once_with_the_limit() {
    // A sparse 2 GiB file that starts like hello: refused before anything is read or sent.
    let d = tempfile::tempdir().unwrap();
    let big = d.path().join("big");
    std::fs::write(&big, std::fs::read(fixture("hello")).unwrap()).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let o = run(&["--offline", "-b", "debian-12", big.to_str().unwrap()]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("the upload would be 2.0 GiB") && o.stderr.contains("at most 1 GiB"),
        "{}",
        o.stderr
    );
}
