//! Podman as the engine (its Docker-compatible API, rootful, Debian's podman 4.3): the run matrix
//! of fixtures/expected.tsv, profiles, audit verification and `image` against it, and a missing
//! service. The service and its images come from util::podman().

use serde_json::Value;

use crate::matrix::{Engine, check_rows_on};
use crate::util::*;

/// Every row (load and exec probes) on every base: the whole table takes about as long as on
/// Docker (~100 s here), so no subset is needed.
#[test]
fn expected_table_on_podman() {
    let Some(host) = podman() else { return };
    check_rows_on(
        Engine {
            host: Some(&host),
            bases: &[],
        },
        |_| true,
    );
}

/// libccheck with `DOCKER_HOST` set to `host`.
fn on(host: &str, args: &[&str]) -> Output {
    libccheck()
        .env("DOCKER_HOST", host)
        .args(args)
        .output()
        .unwrap()
        .into()
}

fn parsed(o: &Output) -> Value {
    serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\nstderr: {}", o.stdout, o.stderr))
}

/// A JSON document without what differs from run to run: timings (`ms`) and run ids.
fn without_run_facts(mut v: Value) -> Value {
    drop_key(&mut v, "ms");
    drop_key(&mut v, "run_id");
    v
}

/// Predictions from profiles exported through Podman equal those through Docker on every fixture
/// base (apart from image sizes, which are each engine's own figure), and the cached profiles
/// (by image ID, whichever engine made them) are byte for byte Docker's: Docker's init layer
/// added, hard links (debian-slim's /usr/bin/perl5.36.0) read as the copies Docker's export has.
#[test]
fn predictions_and_profiles_from_podman_equal_dockers() {
    let Some(host) = podman() else { return };
    let bases = BASES.map(|(_, i)| i).join(",");
    let caches = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for binary in ["hello", "hello-cxx", "dlopen-string", "go-certs"] {
        let bin = fixture(binary);
        let [docker, podman] = [None, Some(host.as_str())].map(|engine| {
            let mut c = libccheck();
            c.env(
                "LIBCCHECK_CACHE_DIR",
                caches[engine.is_some() as usize].path(),
            );
            if let Some(h) = engine {
                c.env("DOCKER_HOST", h);
            }
            let o: Output = c
                .args(["--no-run", "--format", "json", "-b", &bases])
                .arg(&bin)
                .output()
                .unwrap()
                .into();
            let mut v = without_run_facts(parsed(&o));
            drop_key(&mut v, "bytes");
            v
        });
        assert_eq!(docker, podman, "{binary}");
    }
    let docker_ids: Vec<(&str, String)> = BASES
        .iter()
        .map(|(short, img)| {
            let o = std::process::Command::new("docker")
                .args(["image", "inspect", "-f", "{{.Id}}", img])
                .output()
                .unwrap();
            let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
            (*short, id.trim_start_matches("sha256:").to_string())
        })
        .collect();
    for (short, id) in docker_ids {
        let read = |d: &tempfile::TempDir| {
            std::fs::read_dir(d.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().contains(&id))
                .map(|p| std::fs::read(p).unwrap())
                .unwrap_or_else(|| panic!("no cached profile of {short}"))
        };
        assert!(
            read(&caches[0]) == read(&caches[1]),
            "{short}: the profile from Podman differs from Docker's"
        );
    }
}

fn drop_key(v: &mut Value, key: &str) {
    match v {
        Value::Object(m) => {
            m.remove(key);
            m.values_mut().for_each(|x| drop_key(x, key));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| drop_key(x, key)),
        _ => {}
    }
}

/// An audit with verification of the application image on Podman is Docker's, field for field
/// (timings aside): the same files seen, findings, every prediction verified and agreeing.
#[test]
fn audit_with_verification_on_podman() {
    let Some(host) = podman() else { return };
    crate::audit::app_root();
    load_into_podman(&[crate::audit::APP_IMAGE]);
    let targets = crate::audit::targets();
    let args = [
        "audit",
        "--image",
        crate::audit::APP_IMAGE,
        "--to",
        &targets,
        "--format",
        "json",
    ];
    let o = on(&host, &args);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let on_podman = parsed(&o);
    crate::audit::check_findings(&on_podman);
    let on_docker = parsed(&run(&args));
    assert_eq!(without_run_facts(on_podman), without_run_facts(on_docker));
}

/// `image` on Podman: the same report as on Docker, its start verified (load and exec), apart
/// from the image's size, which is Podman's own figure.
#[test]
fn image_check_on_podman() {
    let Some(host) = podman() else { return };
    crate::audit::app_root();
    load_into_podman(&[crate::audit::APP_IMAGE]);
    let args = ["image", crate::audit::APP_IMAGE, "--format", "json"];
    let o = on(&host, &args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let on_podman = parsed(&o);
    assert_eq!(on_podman["program"]["verdict"], "ok", "{on_podman}");
    assert_eq!(on_podman["program"]["load"]["verdict"], "ok", "{on_podman}");
    let mut p = without_run_facts(on_podman);
    let mut d = without_run_facts(parsed(&run(&args)));
    let size = |v: &Value| v.to_string().matches("\"bytes\"").count();
    assert_eq!(size(&p), 1, "one size in the report: {p}");
    drop_key(&mut p, "bytes");
    drop_key(&mut d, "bytes");
    assert_eq!(p, d);
}

/// The run matrix's two ways of handing the probe its files on Podman: a read-only mount from a
/// local socket (the default), and the upload (`--as-root` always uploads; a TCP address is not
/// known to share this machine's files) — each with the verdicts of fixtures/expected.tsv.
#[test]
fn mount_and_upload_on_podman() {
    let Some(host) = podman() else { return };
    let bases = [image("musl"), image("bookworm"), image("distroless-static")].join(",");
    let hello = fixture("hello");
    let tcp = TcpDocker::start_at(PODMAN_SOCKET);
    for (engine, extra, how) in [
        (host.as_str(), None, "mounting the probe's files read-only"),
        (
            host.as_str(),
            Some("--as-root"),
            "uploading the probe's files",
        ),
        (tcp.host().as_str(), None, "uploading the probe's files"),
    ] {
        let mut args = vec!["--format", "json", "--exec", "-b", &bases];
        args.extend(extra);
        args.push(hello.to_str().unwrap());
        let o: Output = libccheck()
            .env("DOCKER_HOST", engine)
            .env("RUST_LOG", "libccheck::check::deliver=info")
            .args(&args)
            .output()
            .unwrap()
            .into();
        assert!(o.stderr.contains(how), "{engine} {extra:?}: {}", o.stderr);
        assert!(!o.stderr.contains("uploading instead"), "{}", o.stderr);
        let v = parsed(&o);
        let verdicts: Vec<&str> = v["bases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["exec"]["verdict"].as_str().unwrap_or("none"))
            .collect();
        assert_eq!(
            verdicts,
            ["no_interpreter", "ok", "no_interpreter"],
            "{engine} {extra:?}: {v}"
        );
        assert!(podman_containers_of_run(v["run_id"].as_str().unwrap()).is_empty());
    }
}

/// Podman's socket missing, or nothing listening on it: one line naming the socket and how to
/// start the service, exit 2, as for Docker.
#[test]
fn podman_service_not_running_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("podman.sock");
    // A socket file nobody listens on: what a stopped service leaves behind.
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let missing = dir.path().join("absent/podman.sock");
    for sock in [&missing, &stale] {
        let host = format!("unix://{}", sock.display());
        for args in [
            vec!["-b", "alpine", fixture("hello").to_str().unwrap()],
            vec!["clean"],
        ] {
            let o = on(&host, &args);
            assert_eq!(o.code, 2, "{}", o.stderr);
            assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
            let err = o.stderr.trim();
            assert!(
                err.starts_with(&format!(
                    "libccheck: error: cannot reach the Podman service at {host}: "
                )),
                "{err}"
            );
            assert!(
                err.ends_with(&format!(
                    "(is it running? `podman system service --time=0 {host}` starts it; DOCKER_HOST selects another engine)"
                )),
                "{err}"
            );
        }
    }
}

/// `clean` on Podman finds libccheck's containers by their labels (Podman's label filter) and
/// removes a dead run's, sparing a live one.
#[test]
fn clean_on_podman() {
    let Some(host) = podman() else { return };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let create = |run_id: &str, until: u64| {
        let mut c = std::process::Command::new("podman");
        c.arg("create");
        for l in [
            format!("org.libccheck.run={run_id}"),
            "org.libccheck.machine=another-machine/another-boot/ci".to_string(),
            "org.libccheck.pid=1".to_string(),
            format!("org.libccheck.until={until}"),
        ] {
            c.args(["--label", &l]);
        }
        let o = c.args([image("musl"), "/bin/true"]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (live, over) = (format!("0-plive{now}"), format!("0-pover{now}"));
    create(&live, now + 600);
    create(&over, now - 1);
    let o = on(&host, &["clean"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("removed "), "{}", o.stdout);
    assert!(podman_containers_of_run(&over).is_empty(), "{}", o.stdout);
    let spared = podman_containers_of_run(&live);
    assert_eq!(spared.len(), 1, "a live run was removed");
    std::process::Command::new("podman")
        .args(["rm", "-f", &spared[0]])
        .output()
        .unwrap();
}

/// Podman pulls over HTTPS even from a registry on 127.0.0.1 (Docker uses HTTP there): the
/// failure says how to allow it.
#[test]
fn pull_from_a_plain_http_registry_on_podman_says_what_to_do() {
    let Some(host) = podman() else { return };
    let registry = local_registry();
    let image = format!("127.0.0.1:{}/libccheck/absent:1", registry.port);
    let o = on(
        &host,
        &[
            "--format",
            "json",
            "-b",
            &image,
            fixture("hello").to_str().unwrap(),
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    let v = parsed(&o);
    let reason = v.to_string();
    assert!(
        reason.contains("server gave HTTP response to HTTPS client")
            && reason.contains("registries.conf marks `insecure = true`"),
        "{v}"
    );
    assert!(!reason.contains("Docker stream error"), "{v}");
}

/// A Podman service of this test's own, with `registries.conf` marking `registry` insecure;
/// stopped when dropped.
struct PodmanWithRegistry {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    host: String,
}

impl Drop for PodmanWithRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn podman_trusting(registry: &str) -> PodmanWithRegistry {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("registries.conf");
    std::fs::write(
        &conf,
        format!("[[registry]]\nlocation = \"{registry}\"\ninsecure = true\n"),
    )
    .unwrap();
    let sock = dir.path().join("podman.sock");
    let host = format!("unix://{}", sock.display());
    let child = std::process::Command::new("podman")
        .args(["system", "service", "--time=0", &host])
        .env("CONTAINERS_REGISTRIES_CONF", &conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while std::os::unix::net::UnixStream::connect(&sock).is_err() {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "no Podman service"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    PodmanWithRegistry {
        child,
        _dir: dir,
        host,
    }
}

/// A pull through Podman's API from a registry it trusts: its progress stream (layer statuses
/// without byte counts) is drained, and the pulled image is checked.
#[test]
fn pull_from_a_local_registry_on_podman() {
    if podman().is_none() {
        return;
    }
    let registry = local_registry();
    let at = format!("127.0.0.1:{}", registry.port);
    let image = format!("{at}/libccheck/musl-podman:1");
    docker_ok(&["tag", crate::util::image("musl"), &image]);
    docker_ok(&["push", &image]);
    docker_ok(&["rmi", &image]);
    let service = podman_trusting(&at);
    let o = on(
        &service.host,
        &[
            "--format",
            "json",
            "--pull",
            "always",
            "-b",
            &image,
            fixture("hello-musl").to_str().unwrap(),
        ],
    );
    let _ = std::process::Command::new("podman")
        .args(["rmi", &image])
        .output();
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = parsed(&o);
    assert_eq!(v["bases"][0]["verdict"], "ok", "{v}");
    assert_eq!(v["bases"][0]["load"]["verdict"], "ok", "{v}");
}

/// The rootful service's socket refuses another user: one line that says whose it is.
#[test]
fn podman_socket_of_root_refuses_another_user() {
    let Some(host) = podman() else { return };
    let bin = assert_cmd::cargo::cargo_bin("libccheck");
    let o: Output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .arg("clean")
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap()
        .into();
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(
        o.stderr.trim(),
        format!(
            "libccheck: error: permission denied on the Podman socket {host} (the rootful service's socket is root's: run as root, or use your own rootless service at $XDG_RUNTIME_DIR/podman/podman.sock)"
        )
    );
}

/// Without DOCKER_HOST and without Docker's socket, libccheck finds Podman's rootful socket
/// (/run/podman/podman.sock); with neither, the error names Docker's default socket. Run in a
/// mount namespace whose /run is empty but for the tests' Podman socket directory (unshare).
#[test]
fn podman_socket_found_without_docker_host() {
    let Some(_) = podman() else { return };
    let hidden = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("libccheck");
    let socket_dir = std::path::Path::new(PODMAN_SOCKET).parent().unwrap();
    let in_namespace = |with_podman: bool| -> Output {
        let podman_dir = if with_podman {
            format!(
                "mkdir -p /run/podman && mount --bind {} /run/podman && ",
                hidden.path().display()
            )
        } else {
            String::new()
        };
        let script = format!(
            "mount --make-rprivate / && mount --bind {sockets} {hidden} && mount -t tmpfs tmpfs /run && {podman_dir}exec \"$@\"",
            sockets = socket_dir.display(),
            hidden = hidden.path().display(),
        );
        std::process::Command::new("unshare")
            .args(["-m", "sh", "-c", &script, "sh"])
            .arg(&bin)
            .args(["--format", "json", "--exec", "-b", image("musl")])
            .arg(fixture("hello-musl"))
            .env_remove("DOCKER_HOST")
            .env_remove("XDG_RUNTIME_DIR")
            .env("RUST_LOG", "libccheck::docker=debug")
            .output()
            .unwrap()
            .into()
    };
    let o = in_namespace(true);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("podman=true"), "{}", o.stderr);
    assert_eq!(parsed(&o)["bases"][0]["exec"]["verdict"], "ok");
    let o = in_namespace(false);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(
            "cannot reach the Docker daemon at unix:///var/run/docker.sock: Socket not found: /var/run/docker.sock (is dockerd running?"
        ),
        "{}",
        o.stderr
    );
}

/// Ctrl-C (and SIGTERM) during a run on Podman: every container removed, the mounted files too.
#[test]
fn sigint_on_podman_leaves_nothing_behind() {
    let Some(host) = podman() else { return };
    let bases = [image("musl"), image("bookworm"), image("distroless-static")];
    for signal in ["INT", "TERM"] {
        let tmp = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("libccheck"))
            .env("DOCKER_HOST", &host)
            .env("TMPDIR", tmp.path())
            .args(["--timeout", "60", "-b", &bases.join(",")])
            .arg(fixture("hang"))
            .arg("--exec")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id().to_string();
        let t = std::time::Instant::now();
        while podman_containers_of_run(&pid).len() < bases.len() {
            assert!(
                t.elapsed() < std::time::Duration::from_secs(30),
                "containers never appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let st = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(st.success());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(if signal == "INT" { 130 } else { 143 }),
            "{err}"
        );
        assert!(err.contains("interrupted; removed"), "{err}");
        assert!(
            podman_containers_of_run(&pid).is_empty(),
            "containers left after SIG{signal}"
        );
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "files left after SIG{signal}"
        );
    }
}
