//! Builds the static probe program (probes/probe.c) that libccheck injects into containers.
//! Prefers musl-gcc (a ~30 KB binary); falls back to `cc -static` against glibc.
//! Also records, for `--version`, the git commit (when built from a checkout) and the probe's
//! version: a hash of its source and the compiler that built it.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=probes/probe.c");
    println!("cargo:rustc-env=LIBCCHECK_COMMIT={}", git_commit());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("libccheck-probe");
    let src = "probes/probe.c";
    let attempts: [(&str, &[&str]); 3] = [
        ("musl-gcc", &["-static", "-Os", "-s"]),
        ("cc", &["-static", "-O2", "-s"]),
        ("gcc", &["-static", "-O2", "-s"]),
    ];
    let mut errors = Vec::new();
    for (compiler, flags) in attempts {
        match Command::new(compiler)
            .args(flags)
            .arg("-o")
            .arg(&out)
            .arg(src)
            .output()
        {
            Ok(o) if o.status.success() => {
                let source = std::fs::read(src).unwrap_or_default();
                println!(
                    "cargo:rustc-env=LIBCCHECK_PROBE_VERSION={:016x} (probes/probe.c, built with {compiler})",
                    fnv1a(&source)
                );
                return;
            }
            Ok(o) => errors.push(format!(
                "{compiler}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => errors.push(format!("{compiler}: {e}")),
        }
    }
    panic!(
        "cannot build the static probe (probes/probe.c); install musl-tools or a C compiler with static libc (libc6-dev):\n{}",
        errors.join("\n")
    );
}

/// The short commit of HEAD, or "unknown" outside a git checkout (a crate tarball) or without git.
fn git_commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    // Rebuild when HEAD moves (a commit, a checkout); `.git` is a file in a worktree.
    if let Some(p) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={p}");
    }
    if let Some(p) = git(&["rev-parse", "--symbolic-full-name", "HEAD"])
        .and_then(|r| git(&["rev-parse", "--git-path", &r]))
    {
        println!("cargo:rerun-if-changed={p}");
    }
    git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into())
}

/// FNV-1a: a stable fingerprint of the probe's source with no extra build dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
