//! Formats for `libccheck inspect`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::elf::needs::{GoBuild, GoBuildInfo, RuntimeNeeds, Topic};
use crate::elf::{BinaryProfile, LibcFlavour};
use crate::inspect::{FileError, FileReport, InspectRun};
use crate::text::short_list;

pub const SCHEMA: &str = "libccheck/inspect/v1";

#[derive(Serialize)]
struct JsonDoc<'a> {
    schema: &'static str,
    tool: crate::text::Tool,
    files: &'a [FileReport],
    errors: &'a [FileError],
    skipped_non_elf: usize,
    skipped_symlinks: usize,
}

pub fn json(run: &InspectRun) -> String {
    let doc = JsonDoc {
        schema: SCHEMA,
        tool: crate::text::Tool::current(),
        files: &run.files,
        errors: &run.errors,
        skipped_non_elf: run.skipped_non_elf,
        skipped_symlinks: run.skipped_symlinks,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("inspect report serialises");
    s.push('\n');
    s
}

/// The one line that matters most: what this file needs from a base image.
pub fn headline(p: &BinaryProfile) -> String {
    let mut parts: Vec<String> = Vec::new();
    match p.libc.flavour {
        LibcFlavour::Glibc => match p.highest("GLIBC") {
            Some(h) => {
                let num = h.version.trim_start_matches("GLIBC_");
                if h.symbols.is_empty() {
                    parts.push(format!("needs glibc ≥ {num}"));
                } else {
                    parts.push(format!(
                        "needs glibc ≥ {num} (because of {})",
                        short_list(&h.symbols, 3)
                    ));
                }
            }
            None => parts.push("needs glibc".into()),
        },
        LibcFlavour::Musl => parts.push("needs musl".into()),
        LibcFlavour::Static => {
            parts.push(format!("{}: needs no libc at run time", p.kind.describe()))
        }
        LibcFlavour::Unknown => parts.push(format!("{} with no known libc", p.kind.describe())),
    }
    if let Some(i) = &p.interpreter {
        parts.push(format!("interpreter {i}"));
    }
    let isa = crate::cpu::bits_of(&p.x86_isa_needed);
    if isa & !1 != 0 {
        parts.push(format!("needs a CPU with {}", crate::cpu::level_name(isa)));
    }
    // Other libraries, each with the highest versions it must provide.
    let others: Vec<String> = p
        .needed
        .iter()
        .filter(|n| !is_libc_family(n))
        .map(|n| {
            let vs: Vec<&str> = p
                .highest_versions
                .iter()
                .filter(|h| h.family != "GLIBC" && &h.library == n)
                .map(|h| h.version.as_str())
                .collect();
            if vs.is_empty() {
                n.clone()
            } else {
                format!("{n} ({})", vs.join(", "))
            }
        })
        .collect();
    if !others.is_empty() {
        parts.push(format!("needs {}", short_list(&others, 4)));
    }
    parts.join("; ")
}

fn is_libc_family(n: &str) -> bool {
    [
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libc.so",
    ]
    .contains(&n)
        || crate::elf::is_musl_libc_name(n)
        || n.starts_with("ld-linux")
}

pub fn human_file(f: &FileReport, out: &mut String) {
    let p = &f.profile;
    let _ = writeln!(out, "{}: {}", f.path, headline(p));
    let _ = writeln!(
        out,
        "  {} {} {}-endian, {}, {}; libc {} ({})",
        p.class.to_uppercase(),
        p.machine,
        p.endian,
        p.kind.describe(),
        if p.stripped {
            "stripped"
        } else {
            "not stripped"
        },
        p.libc.flavour,
        p.libc.evidence.join("; ")
    );
    if !p.needed.is_empty() {
        let _ = writeln!(out, "  needed:    {}", p.needed.join(", "));
    }
    if let Some(s) = &p.soname {
        let _ = writeln!(out, "  soname:    {s}");
    }
    if !p.version_definitions.is_empty() {
        let _ = writeln!(
            out,
            "  defines:   {}",
            short_list(&p.version_definitions, 8)
        );
    }
    for (label, raw, exp) in [
        ("rpath", &p.rpath, &f.rpath_expanded),
        ("runpath", &p.runpath, &f.runpath_expanded),
    ] {
        for (r, e) in raw.iter().zip(exp) {
            if r == e {
                let _ = writeln!(out, "  {label:<9}  {r}");
            } else {
                let _ = writeln!(out, "  {label:<9}  {r} → {e}");
            }
        }
    }
    let mut first = true;
    for l in &p.version_needs {
        for v in &l.versions {
            let label = if first { "versions:" } else { "" };
            first = false;
            let syms = if v.symbols.is_empty() {
                "(no symbol; required as a whole)".to_string()
            } else {
                short_list(&v.symbols, 6)
            };
            let weak = if v.weak { " (weak)" } else { "" };
            let _ = writeln!(
                out,
                "  {label:<10} {} {}{weak} ← {syms}",
                l.library, v.version
            );
        }
    }
    if !p.glibc_private.is_empty() {
        let _ = writeln!(
            out,
            "  GLIBC_PRIVATE: {} (only the exact glibc build it was linked against has these)",
            short_list(&p.glibc_private, 6)
        );
    }
    if p.glibc_abi_dt_relr {
        let _ = writeln!(
            out,
            "  needs GLIBC_ABI_DT_RELR: the loader must support DT_RELR (glibc ≥ 2.36)"
        );
    }
    if !p.unversioned_undefined.is_empty() {
        let names: Vec<String> = p
            .unversioned_undefined
            .iter()
            .map(|u| {
                if u.weak {
                    format!("{} (weak)", u.name)
                } else {
                    u.name.to_string()
                }
            })
            .collect();
        let _ = writeln!(out, "  unversioned undefined: {}", short_list(&names, 8));
    }
    let mut flags = Vec::new();
    if p.bind_now {
        flags.push("BIND_NOW".to_string());
    }
    if p.dt_relr {
        flags.push("DT_RELR".to_string());
    }
    if let Some(t) = &p.abi_tag {
        flags.push(format!("ABI tag {t}"));
    }
    if !p.x86_isa_needed.is_empty() {
        flags.push(format!("ISA {}", p.x86_isa_needed.join("+")));
    }
    if !flags.is_empty() {
        let _ = writeln!(out, "  flags:     {}", flags.join(", "));
    }
    if let Some(line) = runtime_line(&f.runtime_needs) {
        let _ = writeln!(out, "  run-time:  {line}");
    }
    if !f.runtime_needs.dlopen.is_empty() {
        let _ = writeln!(out, "  dlopen:    {}", dlopen_line(&f.runtime_needs.dlopen));
    }
    if let Some(g) = &f.runtime_needs.go {
        let _ = writeln!(out, "  go:        {}", go_line(g));
    } else if let Some(t) = f.runtime_needs.toolchain.describe() {
        let _ = writeln!(out, "  built by:  {t}");
    }
    if let Some(m) = &f.module {
        let _ = writeln!(
            out,
            "  module:    {} module ({}): loaded by a {}, which provides its host symbols",
            m.host.name(),
            m.evidence,
            m.host.program()
        );
    }
    if let Some(c) = &f.catalog {
        let _ = writeln!(out, "  catalog:   {}", c.line());
    }
}

/// What the file will ask for at run time, by topic: `threads (pthread_create, no stack size
/// set; PT_GNU_STACK 0), resolver (getaddrinfo), paths /etc/ssl/certs/ca-certificates.crt`.
fn runtime_line(n: &RuntimeNeeds) -> Option<String> {
    let mut parts = Vec::new();
    let mut topics: Vec<(Topic, Vec<&str>)> = Vec::new();
    for f in &n.imports {
        let Some(d) = crate::elf::needs::difference(f) else {
            continue;
        };
        match topics.iter_mut().find(|(t, _)| *t == d.topic) {
            Some((_, names)) => names.push(f),
            None => topics.push((d.topic, vec![f])),
        }
    }
    topics.sort_by_key(|(t, _)| *t);
    for (topic, names) in &topics {
        if *topic == Topic::Threads {
            parts.push(threads_part(names, n.stack_size));
        } else {
            parts.push(format!("{} ({})", topic.label(), short_list(names, 4)));
        }
    }
    if let (Some(size), false) = (
        n.stack_size,
        topics.iter().any(|(t, _)| *t == Topic::Threads),
    ) {
        parts.push(format!("thread stack PT_GNU_STACK {}", size_text(size)));
    }
    if !n.paths.is_empty() {
        parts.push(format!("paths {}", short_list(&n.paths, 4)));
    }
    if n.scan_truncated {
        parts.push("(scan cut short at its bound)".into());
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `threads (pthread_create, no stack size set; PT_GNU_STACK 0)`: whether the program sizes its
/// thread stacks at all, which decides whether musl's 128 KiB default applies.
fn threads_part(names: &[&str], stack_size: Option<u64>) -> String {
    let sized_per_thread = names.iter().any(|n| n.starts_with("pthread_attr_setstack"));
    let stack = stack_size.map_or("0".to_string(), size_text);
    let no_size = if names.contains(&"pthread_create") && !sized_per_thread && stack_size.is_none()
    {
        ", no stack size set"
    } else {
        ""
    };
    format!(
        "threads ({}{no_size}; PT_GNU_STACK {stack})",
        names.join(", ")
    )
}

/// `8 MiB`, `512 KiB`, `1000 bytes`.
fn size_text(size: u64) -> String {
    match size {
        s if s >= 1 << 20 && s.is_multiple_of(1 << 20) => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 && s.is_multiple_of(1 << 10) => format!("{} KiB", s >> 10),
        s => format!("{s} bytes"),
    }
}

/// `go1.19.8, CGO_ENABLED=0, tags netgo; links crypto/x509 (system roots), time.LoadLocation,
/// no time/tzdata; 3 module dependencies`.
fn go_line(g: &GoBuild) -> String {
    let mut build = vec![match (g.build_info, &g.version) {
        (GoBuildInfo::Read, Some(v)) => v.clone(),
        (GoBuildInfo::Read, None) => "version not recorded".into(),
        (GoBuildInfo::OlderFormat, _) => "built before Go 1.18 (version not read)".into(),
        (GoBuildInfo::Missing, _) => "no build info".into(),
        (GoBuildInfo::Damaged, _) => "damaged build info".into(),
    }];
    if let Some(cgo) = g.cgo {
        build.push(format!("CGO_ENABLED={}", u8::from(cgo)));
    }
    if !g.tags.is_empty() {
        build.push(format!("tags {}", g.tags.join(",")));
    }
    let mut line = build.join(", ");
    let links = go_links(g);
    if !links.is_empty() {
        line.push_str(&format!("; links {}", links.join(", ")));
    }
    if !g.deps.is_empty() {
        line.push_str(&format!("; {} module dependencies", g.deps.len()));
    }
    line
}

/// The packages and functions a reader acts on, with what they mean.
fn go_links(g: &GoBuild) -> Vec<String> {
    let mut links = Vec::new();
    for p in &g.packages {
        links.push(match p.as_str() {
            "crypto/x509" if g.links("crypto/x509.loadSystemRoots") => {
                "crypto/x509 (system roots)".into()
            }
            "net" if g.links("net.(*Resolver).lookupIPAddr") => "net (resolves names)".into(),
            "time/tzdata" => "time/tzdata (embedded)".into(),
            other => other.to_string(),
        });
    }
    if g.links("time.LoadLocation") {
        links.push("time.LoadLocation".into());
        if !g.has_package("time/tzdata") {
            links.push("no time/tzdata".into());
        }
    }
    links
}

pub fn human(run: &InspectRun) -> String {
    let mut out = String::new();
    for (i, f) in run.files.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        human_file(f, &mut out);
    }
    if run.files.len() > 1 || run.skipped_non_elf > 0 || run.skipped_symlinks > 0 {
        let _ = writeln!(
            out,
            "\n{} ELF file(s) inspected, {} non-ELF file(s) and {} symlink(s) skipped, {} error(s)",
            run.files.len(),
            run.skipped_non_elf,
            run.skipped_symlinks,
            run.errors.len()
        );
    } else if run.files.is_empty() && run.errors.is_empty() {
        let _ = writeln!(out, "no ELF files found");
    }
    out
}

/// `libssl.so.3 | libssl.so.1.1 (required, note: tls), libz.so.1 (recommended, string)`.
fn dlopen_line(deps: &[crate::elf::needs::DlopenDep]) -> String {
    let one = |d: &crate::elf::needs::DlopenDep| {
        let feature = d
            .feature
            .as_deref()
            .map(|f| format!(": {f}"))
            .unwrap_or_default();
        format!(
            "{} ({}, {}{feature})",
            d.soname.join(" | "),
            d.priority,
            d.source
        )
    };
    deps.iter().map(one).collect::<Vec<_>>().join(", ")
}
