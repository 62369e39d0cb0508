//! Fix hints for predicted problems. Pure. Package names: Debian (bookworm/trixie) and Alpine
//! (3.2x) package indexes; glibc versions of the aliases: the alias table in `bases`.

use crate::elf::needs::toolchain::Toolchain;
use crate::elf::{self, BinaryProfile, LibcFlavour};
use crate::image::aliases::ALIASES;
use crate::image::base::{BaseProfile, LibcKind};
use crate::loader::Prediction;
use crate::verdict::{Problem, Verdict};

/// soname → (Debian package, Alpine package) for common libraries.
pub const PACKAGES: &[(&str, &str, &str)] = &[
    ("libstdc++.so.6", "libstdc++6", "libstdc++"),
    ("libgcc_s.so.1", "libgcc-s1", "libgcc"),
    ("libgomp.so.1", "libgomp1", "libgomp"),
    ("libssl.so.3", "libssl3 (libssl3t64 on trixie)", "libssl3"),
    (
        "libcrypto.so.3",
        "libssl3 (libssl3t64 on trixie)",
        "libcrypto3",
    ),
    ("libz.so.1", "zlib1g", "zlib"),
    ("libzstd.so.1", "libzstd1", "zstd-libs"),
    ("liblzma.so.5", "liblzma5", "xz-libs"),
    ("libbz2.so.1.0", "libbz2-1.0", "libbz2"),
    ("libffi.so.8", "libffi8", "libffi"),
    ("libsqlite3.so.0", "libsqlite3-0", "sqlite-libs"),
    (
        "libcurl.so.4",
        "libcurl4 (libcurl4t64 on trixie)",
        "libcurl",
    ),
    ("libpq.so.5", "libpq5", "libpq"),
    ("libxml2.so.2", "libxml2", "libxml2"),
    ("libpcre2-8.so.0", "libpcre2-8-0", "pcre2"),
    ("libuuid.so.1", "libuuid1", "libuuid"),
    ("libgmp.so.10", "libgmp10", "gmp"),
    ("libexpat.so.1", "libexpat1", "libexpat"),
    ("libyaml-0.so.2", "libyaml-0-2", "yaml"),
    ("libreadline.so.8", "libreadline8", "readline"),
    ("libncursesw.so.6", "libncursesw6", "ncurses-libs"),
    ("libatomic.so.1", "libatomic1", "libatomic"),
    ("libcap.so.2", "libcap2", "libcap2"),
    ("libseccomp.so.2", "libseccomp2", "libseccomp"),
    (
        "libsystemd.so.0",
        "libsystemd0",
        "(none: Alpine has no systemd)",
    ),
];

/// Catalog bases (distroless-static aside) whose glibc is at least `v`.
fn glibc_bases_at_least(v: &str) -> Vec<String> {
    let want = elf::version::dotted(v).unwrap_or_default();
    let _ = ALIASES;
    crate::catalog::entries()
        .iter()
        .filter(|e| e.libc == LibcKind::Glibc)
        .filter_map(|e| {
            let num = e.libc_version.as_deref()?;
            (elf::version::dotted(num)? >= want).then(|| format!("{} ({num})", e.name))
        })
        .collect()
}

/// `pred` with its fix hints: what a check or an audit shows. `tool` built the binary: hints
/// name its own flags and builder images.
pub fn with_hints(
    bin: &BinaryProfile,
    tool: &Toolchain,
    base: &BaseProfile,
    mut pred: Prediction,
) -> Prediction {
    pred.hints = for_prediction(bin, tool, base, &pred);
    pred
}

/// How to build `bin` for musl, in its toolchain's terms.
fn musl_build(tool: &Toolchain) -> String {
    match tool {
        Toolchain::Go { .. } => format!(
            "a Go program built with cgo: build it with CGO_ENABLED=0 (static, runs on every base), with -tags netgo,osusergo if cgo only came in through net and os/user, or in {}",
            tool.go_alpine_builder()
                .unwrap_or_else(|| "a golang:*-alpine builder".into())
        ),
        Toolchain::Rust { .. } => "build for musl: rustup target add x86_64-unknown-linux-musl, then cargo build --release --target x86_64-unknown-linux-musl; or use a glibc base (debian-slim, distroless-base/cc)".into(),
        // One text for C and C++ (an audit groups both under one hint).
        _ => "build it in an Alpine builder (build-base) or link statically (-static; C++ at least -static-libstdc++ -static-libgcc), or use a glibc base (debian-slim, distroless-base/cc); gcompat covers only part of glibc".into(),
    }
}

/// How to build `bin` for a base with no dynamic loader at all (distroless-static).
fn static_build(tool: &Toolchain) -> String {
    match tool {
        Toolchain::Go { .. } => "this base has no dynamic loader: build with CGO_ENABLED=0 (a static Go binary), or use distroless-base / distroless-cc".into(),
        Toolchain::Rust { .. } => "this base has no dynamic loader: build with RUSTFLAGS=\"-C target-feature=+crt-static\" or --target x86_64-unknown-linux-musl, or use distroless-base / distroless-cc".into(),
        _ => "this base has no dynamic loader: link statically (gcc -static, or a musl toolchain), or use distroless-base / distroless-cc".into(),
    }
}

/// How to build `bin` for a base whose glibc is only `have`.
fn older_glibc_build(tool: &Toolchain, have: &str) -> String {
    let builder = crate::elf::needs::toolchain::builder_for_glibc(have)
        .map(|(name, image)| format!("{name} ({image})"))
        .unwrap_or_else(|| format!("one with glibc ≤ {have}"));
    let built_on = match tool {
        Toolchain::Gcc {
            distribution: Some(b),
            ..
        } => format!("it was built on {} (glibc {}); ", b.name, b.glibc),
        _ => String::new(),
    };
    match tool {
        Toolchain::Go { .. } => format!(
            "build with CGO_ENABLED=0 (static: no glibc needed), or build on an older builder image: {builder}"
        ),
        Toolchain::Rust { .. } => format!(
            "`cargo zigbuild --target x86_64-unknown-linux-gnu.{have}`, or build on an older builder image: {builder}"
        ),
        _ => format!(
            "{built_on}build on an older builder image: {builder}, or with `zig cc -target x86_64-linux-gnu.{have}`"
        ),
    }
}

pub fn for_prediction(
    bin: &BinaryProfile,
    tool: &Toolchain,
    base: &BaseProfile,
    pred: &Prediction,
) -> Vec<String> {
    let mut h: Vec<String> = Vec::new();
    let mut add = |s: String| {
        if !h.contains(&s) {
            h.push(s)
        }
    };
    let musl_base = base.libc == LibcKind::Musl;
    for p in &pred.problems {
        match p {
            Problem::NoInterpreter { interpreter }
                if elf::is_glibc_loader(interpreter) && musl_base =>
            {
                if let Some(c) = &pred.musl_compat {
                    add(c.summary.clone());
                }
                add(musl_build(tool));
            }
            Problem::NoInterpreter { interpreter }
                if elf::is_glibc_loader(interpreter) && base.libc == LibcKind::None =>
            {
                add(static_build(tool));
            }
            Problem::NoInterpreter { interpreter } if elf::is_musl_loader(interpreter) => {
                add("a musl binary: run it on a musl base (alpine), link it statically, or rebuild it against glibc".into());
            }
            Problem::NoInterpreter { interpreter } => {
                add(format!(
                    "the image has no {interpreter}: use a base with that loader or link statically"
                ));
            }
            Problem::WrongArch { base, .. } => {
                add(format!("build it for {base}, the base's architecture"));
            }
            Problem::MissingVersion {
                version, library, ..
            } => {
                if let Some(num) = elf::version::glibc_number(version) {
                    let have = base.libc_version.clone().unwrap_or_else(|| "?".into());
                    let syms = bin
                        .highest("GLIBC")
                        .filter(|x| &x.version == version)
                        .map(|x| crate::text::short_list(&x.symbols, 3));
                    let because = syms
                        .map(|s| format!(" (because of {s})"))
                        .unwrap_or_default();
                    add(format!(
                        "needs glibc ≥ {num}{because}, the base has {have}: {}",
                        older_glibc_build(tool, &have)
                    ));
                    let better = glibc_bases_at_least(num);
                    if !better.is_empty() {
                        add(format!(
                            "or pick a base with glibc ≥ {num}: {}",
                            better.join(", ")
                        ));
                    }
                } else if version == "GLIBC_ABI_DT_RELR" {
                    add("linked with DT_RELR (-z pack-relative-relocs): needs glibc ≥ 2.36; relink without it for older bases".into());
                } else if version.starts_with("GLIBCXX_") || version.starts_with("CXXABI_") {
                    add(format!(
                        "{library} here is older than the one it was built with ({version}): build with an older GCC, link libstdc++ statically (-static-libstdc++), or use a newer base"
                    ));
                } else {
                    add(format!(
                        "{library} here does not define {version}: ship the library version it was built against"
                    ));
                }
            }
            Problem::MissingLibrary { library, .. } => {
                // A glibc image without a shell and without libstdc++: distroless-base.
                let distroless_base = base.libc == LibcKind::Glibc && !base.shell;
                if (library == "libstdc++.so.6"
                    || library == "libgcc_s.so.1"
                    || library == "libgomp.so.1")
                    && distroless_base
                {
                    add("use distroless-cc, which adds libstdc++, libgcc_s and libgomp to distroless-base".into());
                }
                match PACKAGES.iter().find(|(s, _, _)| s == library) {
                    Some((_, deb, apk)) => add(format!(
                        "{library}: install Debian package {deb} / Alpine package {apk}"
                    )),
                    None => add(format!(
                        "{library}: ship it beside the binary (RUNPATH $ORIGIN/lib, or --with) or install the package that provides it"
                    )),
                }
            }
            Problem::Unsupported { what, .. } if what.starts_with("relocation type") => {
                add("musl's loader does not support IFUNC (IRELATIVE) relocations: this is a glibc library; build it against musl".into());
            }
            Problem::LoaderCrash { .. } => {
                add("musl's loader crashes mapping this file: its program headers are malformed (relink it with a standard linker script)".into());
            }
            Problem::Unsupported { .. } => {
                add("the loader cannot map this file (a debug-info-only file from `objcopy --only-keep-debug`, or damaged program headers): it is not a loadable object".into());
            }
            Problem::MissingSymbol { .. }
                if musl_base && bin.libc.flavour == LibcFlavour::Glibc =>
            {
                add(format!("glibc-only symbols: {}", musl_build(tool)));
            }
            Problem::MissingSymbol { .. } => {
                add("symbols no library here defines: a library is another version than the one it was linked against (ship that version beside it, or pick a base that has it)".into());
            }
        }
    }
    if pred.verdict == Verdict::Ok {
        h.clear();
    }
    h
}
