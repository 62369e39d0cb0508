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
        let st = Command::new(root().join("fixtures/build-binaries.sh")).arg(&out).status().expect("run build-binaries.sh");
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

pub fn run(args: &[&str]) -> Output {
    let o = libccheck().args(args).output().unwrap();
    Output {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let o = run(args);
    let v = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}\nstderr: {}", o.stdout, o.stderr));
    (o.code, v)
}
