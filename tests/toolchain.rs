//! Fix hints in the terms of the toolchain that built the binary (offline: no Docker).

use crate::util::*;

/// The hints of an offline check of `binary` on `bases`.
fn hints(binary: &str, bases: &str) -> Vec<String> {
    let (_, v) = json(&[
        "--offline",
        "--format",
        "json",
        "-b",
        bases,
        fixture(binary).to_str().unwrap(),
    ]);
    v["bases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| {
            b["prediction"]["hints"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|h| h.as_str().unwrap().to_string())
        .collect()
}

fn any(hints: &[String], text: &str) -> bool {
    hints.iter().any(|h| h.contains(text))
}

#[test]
fn a_go_program_with_cgo_is_told_cgo_enabled_0() {
    let h = hints("go-certs-cgo-pie", "alpine,distroless-static");
    assert!(any(&h, "CGO_ENABLED=0"), "{h:?}");
    assert!(any(&h, "golang:1.19-alpine"), "{h:?}");
    assert!(
        !any(&h, "x86_64-unknown-linux-musl"),
        "a Rust flag for a Go program: {h:?}"
    );
}

#[test]
fn rust_and_cxx_programs_get_their_own_fixes() {
    let rust = hints("hello-rust", "alpine");
    assert!(any(&rust, "--target x86_64-unknown-linux-musl"), "{rust:?}");
    let cxx = hints("hello-cxx", "alpine,debian-11");
    assert!(any(&cxx, "-static-libstdc++"), "{cxx:?}");
    assert!(!any(&cxx, "x86_64-unknown-linux-musl"), "{cxx:?}");
    // Built on Debian 12 (its GCC line says so): the older builder for glibc 2.31 is Debian 11.
    assert!(
        any(&cxx, "it was built on Debian 12 (glibc 2.36)"),
        "{cxx:?}"
    );
    assert!(any(&cxx, "Debian 11 (debian:11)"), "{cxx:?}");
}

#[test]
fn inspect_names_the_toolchain() {
    let o = run(&["inspect", fixture("hello-cxx").to_str().unwrap()]);
    assert!(
        o.stdout
            .contains("built by:  GCC 12.2.0 on Debian 12 (glibc 2.36)"),
        "{}",
        o.stdout
    );
    let o = run(&["inspect", fixture("hello-rust").to_str().unwrap()]);
    assert!(o.stdout.contains("built by:  Rust "), "{}", o.stdout);
}
