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

/// Ids of containers whose org.libccheck.run label equals `run_id` (or starts with `prefix-`).
pub fn containers_of_run(run_id_or_pid_prefix: &str) -> Vec<String> {
    let o = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=org.libccheck.run",
            "--format",
            "{{.ID}} {{.Label \"org.libccheck.run\"}}",
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
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("socat")
            .args([
                &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
                "UNIX-CONNECT:/var/run/docker.sock",
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
