//! Builds the static probe program (probes/probe.c) that libccheck injects into containers: one
//! for the machine libccheck is built for (musl-gcc, a ~30 KB binary; else `cc -static` against
//! glibc) and, on x86-64, one for aarch64 images (zig cc from PyPI's ziglang, or Debian's
//! gcc-aarch64-linux-gnu with its static libc). Without a cross compiler the aarch64 probe is left
//! empty and libccheck says at run time that arm64 verification needs it; everything else works.
//! Also records, for `--version`, the git commit (when built from a checkout) and the probes'
//! versions: a hash of the source and the compiler that built each.

use std::path::{Path, PathBuf};
use std::process::Command;

const SRC: &str = "probes/probe.c";

fn main() {
    println!("cargo:rerun-if-changed={SRC}");
    println!("cargo:rerun-if-env-changed=LIBCCHECK_NO_CROSS_PROBE");
    println!("cargo:rustc-env=LIBCCHECK_COMMIT={}", git_commit());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let native: [(&str, &[&str]); 3] = [
        ("musl-gcc", &["-static", "-Os", "-s"]),
        ("cc", &["-static", "-O2", "-s"]),
        ("gcc", &["-static", "-O2", "-s"]),
    ];
    let built = match build(&native, &out_dir.join("libccheck-probe")) {
        Ok(compiler) => compiler,
        Err(errors) => panic!(
            "cannot build the static probe ({SRC}); install musl-tools or a C compiler with static libc (libc6-dev):\n{}",
            errors.join("\n")
        ),
    };
    let fingerprint = fnv1a(&std::fs::read(SRC).unwrap_or_default());
    let mut version = format!("{fingerprint:016x} ({SRC}, built with {built})");
    let aarch64 = out_dir.join("libccheck-probe-aarch64");
    let target_arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let cross = match (
        target_arch.as_str(),
        std::env::var_os("LIBCCHECK_NO_CROSS_PROBE"),
    ) {
        ("x86_64", None) => build(&aarch64_compilers(), &aarch64),
        ("x86_64", Some(_)) => Err(vec!["LIBCCHECK_NO_CROSS_PROBE is set".into()]),
        _ => Err(vec![format!("not built on {target_arch}")]),
    };
    match cross {
        Ok(compiler) => version.push_str(&format!("; aarch64 probe built with {compiler}")),
        Err(errors) => {
            std::fs::write(&aarch64, b"").unwrap();
            if target_arch == "x86_64" {
                println!(
                    "cargo:warning=no aarch64 probe (arm64 images are predicted, not verified): {}",
                    errors
                        .iter()
                        .map(|e| e.lines().next().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                version.push_str("; no aarch64 probe");
            }
        }
    }
    println!("cargo:rustc-env=LIBCCHECK_PROBE_VERSION={version}");
}

/// The cross compilers tried for the aarch64 probe, best first: zig's bundled musl makes a small
/// static binary with nothing else installed.
fn aarch64_compilers() -> [(&'static str, &'static [&'static str]); 4] {
    [
        (
            "python3 -m ziglang cc -target aarch64-linux-musl",
            &["-static", "-Os", "-s"],
        ),
        (
            "zig cc -target aarch64-linux-musl",
            &["-static", "-Os", "-s"],
        ),
        ("aarch64-linux-musl-gcc", &["-static", "-Os", "-s"]),
        ("aarch64-linux-gnu-gcc", &["-static", "-O2", "-s"]),
    ]
}

/// Build the probe at `out` with the first compiler that works (a compiler is a command line);
/// the one that did, or every compiler's complaint.
fn build(compilers: &[(&str, &[&str])], out: &Path) -> Result<String, Vec<String>> {
    let mut errors = Vec::new();
    for (compiler, flags) in compilers {
        let mut words = compiler.split_whitespace();
        let program = words.next().unwrap();
        match Command::new(program)
            .args(words)
            .args(*flags)
            .arg("-o")
            .arg(out)
            .arg(SRC)
            .output()
        {
            Ok(o) if o.status.success() => return Ok(compiler.to_string()),
            Ok(o) => errors.push(format!(
                "{compiler}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => errors.push(format!("{compiler}: {e}")),
        }
    }
    Err(errors)
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
