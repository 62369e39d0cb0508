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

/// The subcommand a hint is for: each names only the flags it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// `libccheck BINARY`: the binary is uploaded, `--with` adds files beside it.
    Check,
    /// `libccheck audit`: files already in an image or a tree.
    Audit,
    /// `libccheck image`: a built image's own files.
    Image,
}

/// At most this many bases are suggested by name; the rest are counted.
const BASES_NAMED: usize = 3;

/// Catalog bases whose glibc is at least `v`, nearest first: `debian-12-slim (2.36), … and 4 more`.
fn glibc_bases_at_least(v: &str) -> Option<String> {
    let want = elf::version::dotted(v).unwrap_or_default();
    let _ = ALIASES;
    let mut found: Vec<(Vec<u32>, String)> = crate::catalog::entries()
        .iter()
        .filter(|e| e.libc == LibcKind::Glibc)
        .filter_map(|e| {
            let num = e.libc_version.as_deref()?;
            let have = elf::version::dotted(num)?;
            (have >= want).then(|| (have, format!("{} ({num})", e.name)))
        })
        .collect();
    // Stable: bases of one glibc keep the catalog's order.
    found.sort_by(|a, b| a.0.cmp(&b.0));
    if found.is_empty() {
        return None;
    }
    // "and 1 more" would take as much room as its name.
    let shown = if found.len() == BASES_NAMED + 1 {
        found.len()
    } else {
        BASES_NAMED
    };
    let named: Vec<String> = found.iter().take(shown).map(|(_, n)| n.clone()).collect();
    let more = found.len() - shown.min(found.len());
    Some(match more {
        0 => named.join(", "),
        n => format!("{}, and {n} more (`libccheck bases`)", named.join(", ")),
    })
}

/// The highest glibc version among the missing ones: the only one worth a hint, since a base
/// that has it has every lower one.
fn highest_missing_glibc(pred: &Prediction) -> Option<&str> {
    pred.problems
        .iter()
        .filter_map(|p| match p {
            Problem::MissingVersion { version, .. } => elf::version::glibc_number(version),
            _ => None,
        })
        .max_by_key(|num| elf::version::dotted(num).unwrap_or_default())
}

/// The binary's RUNPATH/RPATH entries below its own directory (`$ORIGIN/lib`).
fn origin_dirs(bin: &BinaryProfile) -> Vec<&str> {
    bin.runpath
        .iter()
        .chain(&bin.rpath)
        .flat_map(|p| p.split(':'))
        .filter(|d| d.starts_with("$ORIGIN") || d.starts_with("${ORIGIN}"))
        .collect()
}

/// A library no package is known for: ship it where the binary looks, when it looks beside
/// itself; else install it or relink so that it can be shipped.
fn unknown_library(bin: &BinaryProfile, library: &str, ctx: Context) -> String {
    let dirs = origin_dirs(bin);
    match (dirs.first(), ctx) {
        (Some(d), Context::Check) => {
            let rel = d
                .trim_start_matches("${ORIGIN}")
                .trim_start_matches("$ORIGIN")
                .trim_start_matches('/');
            let dest = if rel.is_empty() {
                library.to_string()
            } else {
                format!("{rel}/{library}")
            };
            format!(
                "{library}: ship it in {d}, where the binary's RUNPATH looks (--with PATH/{library}:{dest}), or install the package that provides it"
            )
        }
        (Some(d), _) => format!(
            "{library}: ship it in {d}, where the file's RUNPATH looks, or install the package that provides it"
        ),
        (None, _) => format!(
            "{library}: install the package that provides it, or relink with -Wl,-rpath,'$ORIGIN/lib' and ship it in lib/ beside the binary"
        ),
    }
}

/// `pred` with its fix hints: what a check or an audit shows. `tool` built the binary: hints
/// name its own flags and builder images.
pub fn with_hints(
    bin: &BinaryProfile,
    tool: &Toolchain,
    base: &BaseProfile,
    mut pred: Prediction,
    ctx: Context,
) -> Prediction {
    pred.hints = for_prediction(bin, tool, base, &pred, ctx);
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
/// A 32-bit x86 program whose loader (`interpreter`) the base lacks.
fn i386_hint(interpreter: &str) -> String {
    let libs = if elf::is_musl_loader(interpreter) {
        "which an x86_64 Alpine lacks (Alpine's x86 images have them)"
    } else {
        "on Debian/Ubuntu `dpkg --add-architecture i386 && apt-get update && apt-get install libc6:i386` and the i386 packages of its libraries"
    };
    format!(
        "a 32-bit x86 program: the base needs {interpreter} and i386 libraries, {libs}; or build it for x86-64, or link it statically: a static i386 program runs on any amd64 base"
    )
}

fn static_build(tool: &Toolchain) -> String {
    match tool {
        Toolchain::Go { .. } => "this base has no dynamic loader: build with CGO_ENABLED=0 (a static Go binary), or use distroless-base / distroless-cc".into(),
        Toolchain::Rust { .. } => "this base has no dynamic loader: build with RUSTFLAGS=\"-C target-feature=+crt-static\" or --target x86_64-unknown-linux-musl, or use distroless-base / distroless-cc".into(),
        _ => "this base has no dynamic loader: link statically (gcc -static, or a musl toolchain), or use distroless-base / distroless-cc".into(),
    }
}

/// How to build `bin` for a base whose glibc is only `have`.
fn older_glibc_build(tool: &Toolchain, have: &str, machine: &str) -> String {
    // zig's and Rust's names of the machine (`x86_64`, `aarch64`, `x86`/`i686`).
    let (zig, rust) = match machine {
        "aarch64" => ("aarch64", "aarch64"),
        "i386" => ("x86", "i686"),
        _ => ("x86_64", "x86_64"),
    };
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
            "`cargo zigbuild --target {rust}-unknown-linux-gnu.{have}`, or build on an older builder image: {builder}"
        ),
        _ => format!(
            "{built_on}build on an older builder image: {builder}, or with `zig cc -target {zig}-linux-gnu.{have}`"
        ),
    }
}

/// One hint for a glibc too old: build for it, or a base that has the version (nearest first).
/// An audit groups files by the version, so its hint names no file's own symbols.
fn older_glibc(
    bin: &BinaryProfile,
    tool: &Toolchain,
    base: &BaseProfile,
    version: &str,
    num: &str,
    ctx: Context,
) -> String {
    let have = base.libc_version.clone().unwrap_or_else(|| "?".into());
    let because = bin
        .highest("GLIBC")
        .filter(|x| x.version == version && ctx != Context::Audit)
        .map(|x| format!(" (because of {})", crate::text::short_list(&x.symbols, 3)))
        .unwrap_or_default();
    let mut hint = format!(
        "needs glibc ≥ {num}{because}, the base has {have}: {}",
        older_glibc_build(tool, &have, &bin.machine)
    );
    if let Some(better) = glibc_bases_at_least(num) {
        hint.push_str(&format!("; or pick a base with glibc ≥ {num}: {better}"));
    }
    hint
}

pub fn for_prediction(
    bin: &BinaryProfile,
    tool: &Toolchain,
    base: &BaseProfile,
    pred: &Prediction,
    ctx: Context,
) -> Vec<String> {
    let mut h: Vec<String> = Vec::new();
    let mut add = |s: String| {
        if !h.contains(&s) {
            h.push(s)
        }
    };
    let musl_base = base.libc == LibcKind::Musl;
    let highest_glibc = highest_missing_glibc(pred);
    for p in &pred.problems {
        match p {
            // A 32-bit x86 program runs on an amd64 base only with that base's i386 loader and
            // libraries: no other base of the same architecture helps.
            Problem::NoInterpreter { interpreter } if bin.machine == "i386" => {
                add(i386_hint(interpreter));
            }
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
            Problem::WrongArch { machine, base } => {
                for h in crate::loader::wrong_arch_hints(machine, base) {
                    add(h);
                }
            }
            Problem::CpuUnsupported { level, .. } => add(crate::cpu::fix(level.as_deref())),
            Problem::MissingVersion {
                version, library, ..
            } => {
                if let Some(num) = elf::version::glibc_number(version) {
                    if Some(num) == highest_glibc {
                        add(older_glibc(bin, tool, base, version, num, ctx));
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
                    None => add(unknown_library(bin, library, ctx)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::Kind;

    fn base(name: &str) -> BaseProfile {
        crate::catalog::find(name).expect(name).to_profile()
    }

    fn pred(verdict: Verdict, problems: Vec<Problem>) -> Prediction {
        Prediction {
            problems,
            ..Prediction::new(verdict, "")
        }
    }

    fn missing_glibc(versions: &[&str]) -> Prediction {
        let problems = versions
            .iter()
            .map(|v| Problem::MissingVersion {
                library: "libc.so.6".into(),
                version: format!("GLIBC_{v}"),
                needed_by: Some("app".into()),
            })
            .collect();
        pred(Verdict::MissingVersion, problems)
    }

    fn missing_library(lib: &str) -> Prediction {
        pred(
            Verdict::MissingLibrary,
            vec![Problem::MissingLibrary {
                library: lib.into(),
                needed_by: Some("app".into()),
                via: None,
            }],
        )
    }

    fn rust() -> Toolchain {
        Toolchain::Rust { version: None }
    }

    /// A Rust binary on bullseye (glibc 2.31) lacking 2.32, 2.33 and 2.34: one hint, for 2.34.
    #[test]
    fn several_missing_glibc_versions_get_one_hint_for_the_highest() {
        let bin = BinaryProfile::empty(Kind::Pie);
        let hints = for_prediction(
            &bin,
            &rust(),
            &base("debian-11"),
            &missing_glibc(&["2.32", "2.34", "2.33"]),
            Context::Check,
        );
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert!(
            hints[0].starts_with("needs glibc ≥ 2.34, the base has 2.31: `cargo zigbuild"),
            "{hints:?}"
        );
    }

    /// The bases suggested are the nearest few, and the hint never starts with "or".
    #[test]
    fn a_long_base_list_is_cut_to_the_nearest() {
        let bin = BinaryProfile::empty(Kind::Pie);
        let hints = for_prediction(
            &bin,
            &Toolchain::default(),
            &base("debian-11"),
            &missing_glibc(&["2.32"]),
            Context::Check,
        );
        let bases = hints[0]
            .split("; or pick a base with glibc ≥ 2.32: ")
            .nth(1)
            .unwrap();
        let named = bases.split(", and ").next().unwrap();
        assert_eq!(named.matches('(').count(), BASES_NAMED, "{bases}");
        assert!(bases.contains(" more (`libccheck bases`)"), "{bases}");
        // Nearest first: nothing named has a higher glibc than one left out.
        assert!(!named.contains("2.41"), "{bases}");
        assert!(hints.iter().all(|h| !h.starts_with("or ")), "{hints:?}");
    }

    #[test]
    fn with_is_suggested_only_where_the_binary_looks_beside_itself() {
        let plain = BinaryProfile::empty(Kind::Pie);
        let mut origin = BinaryProfile::empty(Kind::Pie);
        origin.runpath = vec!["$ORIGIN/lib".into()];
        let p = missing_library("libfoo.so.1");
        let b = base("debian-12");
        let hint =
            |bin: &BinaryProfile, ctx| for_prediction(bin, &Toolchain::default(), &b, &p, ctx);
        let h = hint(&plain, Context::Check);
        assert_eq!(
            h,
            [
                "libfoo.so.1: install the package that provides it, or relink with -Wl,-rpath,'$ORIGIN/lib' and ship it in lib/ beside the binary"
            ]
        );
        let h = hint(&origin, Context::Check);
        assert_eq!(
            h,
            [
                "libfoo.so.1: ship it in $ORIGIN/lib, where the binary's RUNPATH looks (--with PATH/libfoo.so.1:lib/libfoo.so.1), or install the package that provides it"
            ]
        );
        origin.runpath = vec!["$ORIGIN".into()];
        assert!(hint(&origin, Context::Check)[0].contains("(--with PATH/libfoo.so.1:libfoo.so.1)"));
    }

    /// `audit` has neither `--with` nor `--offline`; its group hints name no file's symbols.
    #[test]
    fn audit_hints_name_no_flag_audit_lacks() {
        let mut origin = BinaryProfile::empty(Kind::SharedObject);
        origin.runpath = vec!["$ORIGIN/lib".into()];
        let b = base("debian-11");
        for p in [missing_library("libfoo.so.1"), missing_glibc(&["2.34"])] {
            for h in for_prediction(&origin, &Toolchain::default(), &b, &p, Context::Audit) {
                assert!(!h.contains("--with") && !h.contains("--offline"), "{h}");
                assert!(!h.contains("because of"), "{h}");
            }
        }
    }

    #[test]
    fn a_known_package_is_named_for_both_distributions() {
        let hints = for_prediction(
            &BinaryProfile::empty(Kind::Pie),
            &Toolchain::default(),
            &base("debian-12"),
            &missing_library("libz.so.1"),
            Context::Audit,
        );
        assert_eq!(
            hints,
            ["libz.so.1: install Debian package zlib1g / Alpine package zlib"]
        );
    }
}
