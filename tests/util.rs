//! Shared helpers: fixture builds (once per test binary), running the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Build the fixture binaries (cached by recipe hash) and return their directory.
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = root().join("fixtures/out");
        let st = Command::new(root().join("fixtures/build-binaries.sh"))
            .arg(&out)
            .status()
            .expect("run build-binaries.sh");
        assert!(st.success(), "fixtures/build-binaries.sh failed");
        out
    })
}

pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

pub fn libccheck() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("libccheck").unwrap();
    c.env_remove("RUST_LOG").env("NO_COLOR", "1");
    c
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Output {
    fn from(o: std::process::Output) -> Output {
        Output {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub fn run(args: &[&str]) -> Output {
    libccheck().args(args).output().unwrap().into()
}

pub fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let o = run(args);
    let v = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\nstderr: {}", o.stdout, o.stderr));
    (o.code, v)
}

/// The fixture base images, keyed by the short names of fixtures/expected.tsv.
pub const BASES: [(&str, &str); 10] = [
    ("musl", "libccheck-fixture/musl:latest"),
    ("bullseye", "libccheck-fixture/debian-slim:bullseye"),
    ("bookworm", "libccheck-fixture/debian-slim:bookworm"),
    ("trixie", "libccheck-fixture/debian-slim:trixie"),
    (
        "distroless-static",
        "libccheck-fixture/distroless-static:bookworm",
    ),
    (
        "distroless-base",
        "libccheck-fixture/distroless-base:bookworm",
    ),
    ("distroless-cc", "libccheck-fixture/distroless-cc:bookworm"),
    (
        "distroless-static-trixie",
        "libccheck-fixture/distroless-static:trixie",
    ),
    (
        "distroless-base-trixie",
        "libccheck-fixture/distroless-base:trixie",
    ),
    (
        "distroless-cc-trixie",
        "libccheck-fixture/distroless-cc:trixie",
    ),
];

pub fn image(short: &str) -> &'static str {
    BASES
        .iter()
        .find(|(s, _)| *s == short)
        .unwrap_or_else(|| panic!("no fixture base {short}"))
        .1
}

/// Docker-backed tests need the daemon and the fixture images. They never skip silently: without
/// a daemon they fail, unless LIBCCHECK_SKIP_DOCKER=1 (for laptops; CI never sets it).
pub fn docker() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        if std::env::var("LIBCCHECK_SKIP_DOCKER").is_ok_and(|v| v == "1") {
            eprintln!("LIBCCHECK_SKIP_DOCKER=1: skipping a Docker-backed test");
            return false;
        }
        let info = Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]).output();
        match info {
            Ok(o) if o.status.success() => {}
            _ => panic!("the Docker daemon is not reachable; Docker-backed tests need it (set LIBCCHECK_SKIP_DOCKER=1 to skip them on a laptop)"),
        }
        let st = Command::new(root().join("fixtures/build-images.sh")).status().expect("run fixtures/build-images.sh");
        assert!(st.success(), "fixtures/build-images.sh failed");
        let st = Command::new(root().join("fixtures/build-python-image.sh")).status().expect("run fixtures/build-python-image.sh");
        assert!(st.success(), "fixtures/build-python-image.sh failed");
        fixtures();
        true
    })
}

/// The rows of fixtures/expected.tsv for one platform (`linux/amd64`: the rows before any
/// `@platform` line; `linux/arm64`: those after `@platform linux/arm64`), comments left out.
pub fn expected_lines(platform: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("fixtures/expected.tsv")).unwrap();
    let mut current = "linux/amd64".to_string();
    let mut out = Vec::new();
    for l in text.lines() {
        if let Some(p) = l.strip_prefix("@platform ") {
            current = p.trim().to_string();
        } else if !l.trim().is_empty() && !l.starts_with('#') && current == platform {
            out.push(l.to_string());
        }
    }
    out
}

/// The arm64 fixture bases (linux/arm64 images, run under qemu-user on an amd64 host), by short name.
pub const ARM64_BASES: [(&str, &str); 6] = [
    ("musl", "libccheck-fixture/musl-arm64:latest"),
    ("bookworm", "libccheck-fixture/debian-slim-arm64:bookworm"),
    ("trixie", "libccheck-fixture/debian-slim-arm64:trixie"),
    (
        "distroless-static",
        "libccheck-fixture/distroless-static-arm64:trixie",
    ),
    (
        "distroless-base",
        "libccheck-fixture/distroless-base-arm64:trixie",
    ),
    (
        "distroless-cc",
        "libccheck-fixture/distroless-cc-arm64:trixie",
    ),
];

/// [`docker`], and the arm64 fixture bases and aarch64 fixture programs built (once). Running
/// them needs qemu-aarch64 in binfmt_misc (`.ci/run` registers it).
pub fn docker_arm64() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        if !docker() {
            return false;
        }
        let st = Command::new(root().join("fixtures/build-arm64-images.sh"))
            .status()
            .expect("run fixtures/build-arm64-images.sh");
        assert!(st.success(), "fixtures/build-arm64-images.sh failed");
        fixtures_arm64();
        true
    })
}

/// Build the aarch64 fixture programs (cached by recipe hash) and return their directory.
pub fn fixtures_arm64() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = root().join("fixtures/out-arm64");
        let st = Command::new(root().join("fixtures/build-arm64-binaries.sh"))
            .arg(&out)
            .status()
            .expect("run build-arm64-binaries.sh");
        assert!(st.success(), "fixtures/build-arm64-binaries.sh failed");
        out
    })
}

/// Ids of containers whose org.libccheck.run label equals `run_id` (or starts with `prefix-`).
pub fn containers_of_run(run_id_or_pid_prefix: &str) -> Vec<String> {
    labelled_containers(
        "docker",
        "{{.Label \"org.libccheck.run\"}}",
        run_id_or_pid_prefix,
    )
}

/// Ids of containers of `engine` (its command) whose run label, as `label_format` prints it,
/// equals `run_id` or starts with `prefix-`.
fn labelled_containers(
    engine: &str,
    label_format: &str,
    run_id_or_pid_prefix: &str,
) -> Vec<String> {
    let o = Command::new(engine)
        .args([
            "ps",
            "-a",
            "--filter",
            "label=org.libccheck.run",
            "--format",
            &format!("{{{{.ID}}}} {label_format}"),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, run)| {
            *run == run_id_or_pid_prefix || run.starts_with(&format!("{run_id_or_pid_prefix}-"))
        })
        .map(|(id, _)| id.to_string())
        .collect()
}

/// The Docker socket exposed on a 127.0.0.1 TCP port (socat), for DOCKER_HOST=tcp:// tests and
/// for reaching Docker as a user the socket's permissions refuse. Stopped on drop.
pub struct TcpDocker {
    child: std::process::Child,
    pub port: u16,
}

impl TcpDocker {
    pub fn start() -> TcpDocker {
        TcpDocker::start_at("/var/run/docker.sock")
    }

    /// The engine at the unix socket `sock` on a 127.0.0.1 TCP port.
    pub fn start_at(sock: &str) -> TcpDocker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("socat")
            .args([
                &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
                &format!("UNIX-CONNECT:{sock}"),
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("socat (Debian package socat)");
        let t = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < std::time::Duration::from_secs(10),
                "socat did not listen"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        TcpDocker { child, port }
    }
    pub fn host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

impl Drop for TcpDocker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A local registry (Debian's docker-registry) on a free port, stopped and its storage removed
/// when dropped; `.port` is where it listens.
pub struct Registry {
    child: std::process::Child,
    _storage: tempfile::TempDir,
    pub port: u16,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start a local registry and wait until it answers.
pub fn local_registry() -> Registry {
    local_registry_with("")
}

/// A local registry that asks for a user and password (`user`, `pw`), checked against a
/// bcrypt htpasswd entry (the hash of `pw`, made once with libxcrypt's crypt).
pub fn local_registry_with_auth() -> Registry {
    local_registry_with("auth:\n  htpasswd:\n    realm: libccheck-test\n    path: HTPASSWD\n")
}

/// Start a local registry with more configuration (`HTPASSWD` stands for a file of one user).
fn local_registry_with(extra: &str) -> Registry {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yml");
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(
        &htpasswd,
        "user:$2b$05$abcdefghijklmnopqrstuuHIrMEWpUCQe2YqFR3sXwQ75u4od..9q\n",
    )
    .unwrap();
    std::fs::write(
        &cfg,
        format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{}",
            dir.path().join("data").display(),
            extra.replace("HTPASSWD", &htpasswd.display().to_string())
        ),
    )
    .unwrap();
    let child = Command::new("docker-registry")
        .args(["serve", cfg.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("docker-registry (Debian package docker-registry) must be installed");
    let registry = Registry {
        child,
        _storage: dir,
        port,
    };
    let t = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(20),
            "registry did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    registry
}

/// The number of results of a SARIF file, which must be valid against the SARIF 2.1.0 JSON
/// schema (the copy the serde-sarif crate ships), checked with Python's jsonschema.
pub fn sarif_results(file: &Path) -> usize {
    let meta = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(root())
        .output()
        .unwrap();
    let meta: serde_json::Value = serde_json::from_slice(&meta.stdout).unwrap();
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .unwrap()["manifest_path"]
        .as_str()
        .unwrap()
        .to_string();
    let schema = Path::new(&manifest)
        .parent()
        .unwrap()
        .join("src/schema.json");
    let py = "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\ndoc = json.load(open(sys.argv[2]))\njsonschema.Draft7Validator(schema).validate(doc)\nprint(len(doc['runs'][0]['results']))\n";
    let o = Command::new("python3")
        .args(["-c", py])
        .arg(&schema)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "SARIF does not validate: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

/// Run a docker command that must succeed.
pub fn docker_ok(args: &[&str]) {
    let o = Command::new("docker").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The rootful Podman service the Podman tests talk to (`DOCKER_HOST` value), at a socket of the
/// tests' own, started on first use with the fixture images loaded from Docker
/// (fixtures/load-podman-images.sh). It stops itself after two idle minutes (`--time=120`), so
/// nothing is left running once the tests end; a later test that finds it gone starts it again.
/// Needs Debian's podman and catatonit (.ci/run installs them); `None` where Docker-backed tests
/// are skipped.
pub fn podman() -> Option<String> {
    if !docker() {
        return None;
    }
    static LOADED: OnceLock<()> = OnceLock::new();
    LOADED.get_or_init(|| load_into_podman(&BASES.map(|(_, i)| i)));
    static START: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = START.lock().unwrap_or_else(|e| e.into_inner());
    let sock = PODMAN_SOCKET;
    if !answers_ping(sock) {
        std::fs::create_dir_all(Path::new(sock).parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(sock);
        let mut service = Command::new("podman")
            .args(["system", "service", "--time=120", &format!("unix://{sock}")])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("podman (Debian packages podman and catatonit) must be installed");
        // Reaped when it stops itself.
        std::thread::spawn(move || service.wait());
        let t = std::time::Instant::now();
        while !answers_ping(sock) {
            assert!(
                t.elapsed() < std::time::Duration::from_secs(30),
                "the Podman service did not answer on {sock} within 30 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    Some(format!("unix://{sock}"))
}

/// Copy images of Docker's into Podman's storage, unless Podman has them already.
pub fn load_into_podman(images: &[&str]) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let st = Command::new(root().join("fixtures/load-podman-images.sh"))
        .args(images)
        .status()
        .expect("run fixtures/load-podman-images.sh");
    assert!(st.success(), "fixtures/load-podman-images.sh failed");
}

/// Where the tests' Podman service listens (a path of its own: a user's service is left alone).
pub const PODMAN_SOCKET: &str = "/run/libccheck-tests/podman/podman.sock";

fn answers_ping(sock: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(sock) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut answer = String::new();
    s.write_all(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n")
        .is_ok()
        && s.read_to_string(&mut answer).is_ok()
        && answer.split(' ').nth(1) == Some("200")
}

/// Ids of containers whose org.libccheck.run label equals `run_id` (or starts with `prefix-`), in
/// Podman's storage (as [`containers_of_run`] in Docker's).
pub fn podman_containers_of_run(run_id_or_pid_prefix: &str) -> Vec<String> {
    labelled_containers(
        "podman",
        "{{index .Labels \"org.libccheck.run\"}}",
        run_id_or_pid_prefix,
    )
}
