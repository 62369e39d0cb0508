//! Builds the static probe program (probes/probe.c) that libccheck injects into containers.
//! Prefers musl-gcc (a ~30 KB binary); falls back to `cc -static` against glibc.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=probes/probe.c");
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
            Ok(o) if o.status.success() => return,
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
