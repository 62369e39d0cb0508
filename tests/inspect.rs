//! `libccheck inspect` on the fixture binaries: exact facts, formats and bad input.

use serde_json::Value;

use crate::util::*;

fn inspect_one(name: &str) -> Value {
    let p = fixture(name);
    let (code, v) = json(&["inspect", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["schema"], "libccheck/inspect/v1");
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
    v["files"][0].clone()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn highest<'a>(f: &'a Value, family: &str) -> &'a Value {
    f["highest_versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["family"] == family)
        .unwrap_or_else(|| panic!("no {family} in {f}"))
}

fn need<'a>(f: &'a Value, lib: &str, ver: &str) -> &'a Value {
    f["version_needs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["library"] == lib)
        .and_then(|l| {
            l["versions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["version"] == ver)
        })
        .unwrap_or_else(|| panic!("{lib} {ver} not needed: {f}"))
}

#[test]
fn glibc_dynamic() {
    let f = inspect_one("hello");
    assert_eq!(f["class"], "elf64");
    assert_eq!(f["machine"], "x86-64");
    assert_eq!(f["endian"], "little");
    assert_eq!(f["kind"], "pie");
    assert_eq!(f["interpreter"], "/lib64/ld-linux-x86-64.so.2");
    assert_eq!(strs(&f["needed"]), ["libc.so.6"]);
    assert_eq!(f["libc"]["flavour"], "glibc");
    assert_eq!(f["stripped"], false);
    let h = highest(&f, "GLIBC");
    assert_eq!(h["version"], "GLIBC_2.34");
    assert_eq!(strs(&h["symbols"]), ["__libc_start_main"]);
    assert_eq!(
        strs(&need(&f, "libc.so.6", "GLIBC_2.2.5")["symbols"]),
        ["__cxa_finalize", "puts"]
    );
    let weak: Vec<&Value> = f["unversioned_undefined"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["name"] == "__gmon_start__")
        .collect();
    assert_eq!(weak.len(), 1);
    assert_eq!(weak[0]["weak"], true);
    assert_eq!(f["abi_tag"], "Linux 3.2.0");
    assert_eq!(strs(&f["x86_isa_needed"]), ["x86-64-baseline"]);
}

#[test]
fn glibc_static_and_static_pie() {
    let f = inspect_one("hello-static");
    assert_eq!(f["kind"], "static");
    assert_eq!(f["libc"]["flavour"], "static");
    assert!(f["interpreter"].is_null());
    assert_eq!(strs(&f["needed"]), Vec::<String>::new());
    let f = inspect_one("hello-static-pie");
    assert_eq!(f["kind"], "static_pie");
    assert_eq!(f["libc"]["flavour"], "static");
}

/// `inspect`'s catalog verdicts read the file as a prediction does (relocations included): the
/// library's own call of its IFUNC `ifunc_add` fails under musl, not under glibc.
#[test]
fn catalog_verdicts_see_a_librarys_own_ifunc_use() {
    let f = inspect_one("libifunc.so.1");
    let fails = f["catalog"]["fails"].as_array().unwrap();
    let alpine = fails
        .iter()
        .find(|x| strs(&x["bases"]).contains(&"alpine-3.22".to_string()))
        .unwrap_or_else(|| panic!("alpine-3.22 should fail: {f}"));
    assert_eq!(alpine["verdict"], "missing_symbol");
    assert_eq!(alpine["reason"], "symbol ifunc_add not found");
    assert!(
        strs(&f["catalog"]["ok"]).contains(&"debian-12".to_string()),
        "{f}"
    );
}

#[test]
fn musl_dynamic_and_static() {
    let f = inspect_one("hello-musl");
    assert_eq!(f["interpreter"], "/lib/ld-musl-x86_64.so.1");
    assert_eq!(strs(&f["needed"]), ["libc.so"]);
    assert_eq!(f["libc"]["flavour"], "musl");
    assert!(f["highest_versions"].as_array().unwrap().is_empty());
    let names: Vec<&str> = f["unversioned_undefined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"puts") && names.contains(&"__libc_start_main"),
        "{names:?}"
    );
    let f = inspect_one("hello-musl-static");
    assert_eq!(f["kind"], "static");
    assert_eq!(f["libc"]["flavour"], "static");
}

#[test]
fn cxx_needs_libstdcxx_versions() {
    let f = inspect_one("hello-cxx");
    assert_eq!(
        strs(&f["needed"]),
        ["libstdc++.so.6", "libgcc_s.so.1", "libc.so.6"]
    );
    let h = highest(&f, "GLIBCXX");
    assert_eq!(h["version"], "GLIBCXX_3.4.21");
    assert_eq!(h["library"], "libstdc++.so.6");
    assert!(
        strs(&h["symbols"])
            .iter()
            .all(|s| s.starts_with("_ZNSt7__cxx1112basic_string")),
        "{h}"
    );
    assert_eq!(highest(&f, "CXXABI")["version"], "CXXABI_1.3.9");
    assert_eq!(highest(&f, "GCC")["version"], "GCC_3.0");
    let o = run(&["inspect", fixture("hello-cxx").to_str().unwrap()]);
    let first = o.stdout.lines().next().unwrap();
    assert!(
        first.ends_with("needs glibc ≥ 2.34 (because of __libc_start_main); interpreter /lib64/ld-linux-x86-64.so.2; needs libstdc++.so.6 (GLIBCXX_3.4.21, CXXABI_1.3.9), libgcc_s.so.1 (GCC_3.0)"),
        "{first}"
    );
}

#[test]
fn shared_object_with_soname_and_version_script() {
    let f = inspect_one("libgreet.so.1");
    assert_eq!(f["kind"], "shared_object");
    assert_eq!(f["soname"], "libgreet.so.1");
    assert_eq!(strs(&f["version_definitions"]), ["GREET_1.0", "GREET_2.0"]);
    assert!(f["interpreter"].is_null());
    assert_eq!(f["libc"]["flavour"], "glibc");
}

#[test]
fn runpath_and_rpath_with_origin() {
    let f = inspect_one("runpath/app-runpath");
    assert_eq!(strs(&f["runpath"]), ["$ORIGIN/lib"]);
    assert_eq!(strs(&f["rpath"]), Vec::<String>::new());
    let dir = fixtures().canonicalize().unwrap().join("runpath/lib");
    assert_eq!(strs(&f["runpath_expanded"]), [dir.to_str().unwrap()]);
    assert_eq!(
        strs(&need(&f, "libgreet.so.1", "GREET_1.0")["symbols"]),
        ["greet"]
    );
    assert_eq!(
        strs(&need(&f, "libgreet.so.1", "GREET_2.0")["symbols"]),
        ["greet_count"]
    );
    let f = inspect_one("app-rpath");
    assert_eq!(strs(&f["rpath"]), ["$ORIGIN/lib"]);
    assert_eq!(strs(&f["runpath"]), Vec::<String>::new());
}

#[test]
fn newer_glibc_is_forced_by_strlcpy() {
    let f = inspect_one("newer-glibc");
    let h = highest(&f, "GLIBC");
    assert_eq!(h["version"], "GLIBC_2.38");
    assert_eq!(strs(&h["symbols"]), ["strlcpy"]);
    assert_eq!(f["kind"], "executable");
    assert_eq!(f["bind_now"], true);
    let o = run(&["inspect", fixture("newer-glibc").to_str().unwrap()]);
    assert!(
        o.stdout
            .lines()
            .next()
            .unwrap()
            .contains("needs glibc ≥ 2.38 (because of strlcpy)"),
        "{}",
        o.stdout
    );
}

#[test]
fn glibc_only_symbols_are_listed_with_their_versions() {
    let f = inspect_one("glibc-only");
    assert_eq!(
        strs(&need(&f, "libc.so.6", "GLIBC_2.3.4")["symbols"]),
        ["__snprintf_chk"]
    );
    let v225 = strs(&need(&f, "libc.so.6", "GLIBC_2.2.5")["symbols"]);
    for s in ["backtrace", "backtrace_symbols_fd", "gnu_get_libc_version"] {
        assert!(v225.contains(&s.to_string()), "{v225:?}");
    }
}

#[test]
fn other_classes_and_architectures_are_reported_not_rejected() {
    let f = inspect_one("hello-i386");
    assert_eq!(f["class"], "elf32");
    assert_eq!(f["machine"], "i386");
    assert_eq!(f["interpreter"], "/lib/ld-linux.so.2");
    assert_eq!(highest(&f, "GLIBC")["version"], "GLIBC_2.0");
    let f = inspect_one("hello-aarch64");
    assert_eq!(f["machine"], "aarch64");
    assert_eq!(f["interpreter"], "/lib/ld-linux-aarch64.so.1");
    assert_eq!(f["libc"]["flavour"], "glibc");
}

#[test]
fn directory_walk_counts_non_elf_and_keeps_going() {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("hello"), d.path().join("hello")).unwrap();
    std::fs::create_dir(d.path().join("sub")).unwrap();
    std::fs::copy(fixture("libgreet.so.1"), d.path().join("sub/libgreet.so.1")).unwrap();
    std::fs::write(d.path().join("README"), "text").unwrap();
    std::fs::write(d.path().join("empty"), "").unwrap();
    std::os::unix::fs::symlink("hello", d.path().join("link-to-hello")).unwrap();
    let (code, v) = json(&["inspect", "--format", "json", d.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    let paths: Vec<String> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths.len(), 2);
    assert!(
        paths[0].ends_with("/hello") && paths[1].ends_with("/sub/libgreet.so.1"),
        "{paths:?}"
    );
    assert_eq!(v["skipped_non_elf"], 2);
    assert_eq!(v["skipped_symlinks"], 1);
}

/// Each bad input: a one-line message naming the file, exit 2, the other files still inspected.
fn assert_bad(path: &std::path::Path, expect: &str) {
    let good = fixture("hello");
    let o = run(&["inspect", path.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(o.code, 2, "{}: {}", path.display(), o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{:?}", o.stderr);
    assert!(
        lines[0].contains(&path.display().to_string()) && lines[0].contains(expect),
        "{}",
        lines[0]
    );
    assert!(!o.stderr.contains("panicked"));
    assert!(
        o.stdout.contains("hello: needs glibc"),
        "good file not reported: {}",
        o.stdout
    );
}

#[test]
fn bad_inputs_get_one_line_each() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    let hello = std::fs::read(fixture("hello")).unwrap();

    assert_bad(&p("missing"), "no such file or directory");

    std::fs::write(p("empty"), "").unwrap();
    assert_bad(&p("empty"), "empty file");

    std::fs::write(p("text"), "#!/bin/sh\necho hi\n").unwrap();
    assert_bad(&p("text"), "not an ELF file");

    std::fs::write(p("trunc-header"), &hello[..40]).unwrap();
    assert_bad(&p("trunc-header"), "truncated ELF");

    std::fs::write(p("trunc-body"), &hello[..3000]).unwrap();
    assert_bad(&p("trunc-body"), "truncated ELF");

    // Corrupt section table: the .dynsym entry claims a gigantic size.
    let mut bad = hello.clone();
    let shoff = u64::from_le_bytes(bad[0x28..0x30].try_into().unwrap()) as usize;
    let shnum = u16::from_le_bytes(bad[0x3c..0x3e].try_into().unwrap()) as usize;
    let dynsym = (0..shnum)
        .map(|i| shoff + i * 64)
        .find(|&o| u32::from_le_bytes(bad[o + 4..o + 8].try_into().unwrap()) == 11)
        .unwrap();
    bad[dynsym + 32..dynsym + 40].copy_from_slice(&(1u64 << 40).to_le_bytes());
    std::fs::write(p("corrupt-sections"), &bad).unwrap();
    assert_bad(&p("corrupt-sections"), "corrupt ELF: .dynsym");

    // Corrupt dynamic table: DT_NEEDED points far outside .dynstr.
    let mut bad = hello.clone();
    let phoff = u64::from_le_bytes(bad[0x20..0x28].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(bad[0x38..0x3a].try_into().unwrap()) as usize;
    let dynph = (0..phnum)
        .map(|i| phoff + i * 56)
        .find(|&o| u32::from_le_bytes(bad[o..o + 4].try_into().unwrap()) == 2)
        .unwrap();
    let dynoff = u64::from_le_bytes(bad[dynph + 8..dynph + 16].try_into().unwrap()) as usize;
    let needed = (0..)
        .map(|i| dynoff + i * 16)
        .find(|&o| u64::from_le_bytes(bad[o..o + 8].try_into().unwrap()) == 1)
        .unwrap();
    bad[needed + 8..needed + 16].copy_from_slice(&0x7fff_ffffu64.to_le_bytes());
    std::fs::write(p("corrupt-dynamic"), &bad).unwrap();
    assert_bad(&p("corrupt-dynamic"), "corrupt ELF: dynamic section");

    std::fs::create_dir(p("no-elf")).unwrap();
    std::fs::write(p("no-elf/notes.txt"), "nothing").unwrap();
    assert_bad(&p("no-elf"), "directory contains no ELF file");
}

#[test]
fn symlink_loop_in_walked_directory() {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("hello"), d.path().join("hello")).unwrap();
    std::os::unix::fs::symlink("b", d.path().join("a")).unwrap();
    std::os::unix::fs::symlink("a", d.path().join("b")).unwrap();
    std::os::unix::fs::symlink(".", d.path().join("self")).unwrap();
    let o = run(&["inspect", d.path().to_str().unwrap()]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines.iter().all(|l| l.contains("symbolic link loop")),
        "{lines:?}"
    );
    assert!(
        o.stdout.contains("/hello: needs glibc ≥ 2.34"),
        "{}",
        o.stdout
    );
}

#[test]
fn unreadable_file() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("secret");
    std::fs::copy(fixture("hello"), &f).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("libccheck");
    // Root reads anything: drop to nobody so that the permission check is real.
    let is_root = unsafe_geteuid() == 0;
    let mut cmd = if is_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    let o = cmd.args(["inspect", f.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!("libccheck: {}: permission denied", f.display())
    );
}

fn unsafe_geteuid() -> u32 {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(1)
}

#[test]
fn human_output_leads_with_the_requirement() {
    let o = run(&["inspect", fixture("hello").to_str().unwrap()]);
    assert_eq!(o.code, 0);
    let first = o.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "{}: needs glibc ≥ 2.34 (because of __libc_start_main); interpreter /lib64/ld-linux-x86-64.so.2",
            fixture("hello").display()
        )
    );
    assert!(
        o.stdout
            .contains("libc.so.6 GLIBC_2.34 ← __libc_start_main"),
        "{}",
        o.stdout
    );
}

#[test]
fn dt_relr_and_its_glibc_abi_version() {
    let f = inspect_one("hello-relr");
    assert_eq!(f["dt_relr"], true);
    assert_eq!(f["glibc_abi_dt_relr"], true);
    assert_eq!(
        need(&f, "libc.so.6", "GLIBC_ABI_DT_RELR")["symbols"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(inspect_one("hello")["dt_relr"], false);
    let o = run(&["inspect", fixture("hello-relr").to_str().unwrap()]);
    assert!(o.stdout.contains("needs GLIBC_ABI_DT_RELR"), "{}", o.stdout);
}

/// readelf is the oracle: every versioned undefined symbol (`name@VERSION`) it lists must be
/// exactly what libccheck reports, on the fixtures and on system libraries (including ones that
/// need GLIBC_PRIVATE).
#[test]
fn versioned_symbols_agree_with_readelf() {
    let mut files: Vec<std::path::PathBuf> = [
        "hello",
        "hello-cxx",
        "newer-glibc",
        "glibc-only",
        "runpath/app-runpath",
        "hello-i386",
        "hello-aarch64",
    ]
    .iter()
    .map(|n| fixture(n))
    .collect();
    for sys in [
        "/lib/x86_64-linux-gnu/libnsl.so.1",
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libm.so.6",
    ] {
        if std::path::Path::new(sys).exists() {
            files.push(sys.into());
        }
    }
    let mut private_seen = false;
    for f in files {
        let o = std::process::Command::new("readelf")
            .args(["--dyn-syms", "-W"])
            .arg(&f)
            .output()
            .expect("readelf (binutils)");
        let mut want: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                (cols.len() >= 8 && cols[6] == "UND" && cols[7].contains('@'))
                    .then(|| cols[7].replace("@@", "@"))
            })
            .collect();
        want.sort();
        want.dedup();
        let (code, v) = json(&["inspect", "--format", "json", f.to_str().unwrap()]);
        assert_eq!(code, 0);
        let mut got: Vec<String> = v["files"][0]["versioned_undefined"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{}@{}",
                    s["name"].as_str().unwrap(),
                    s["version"].as_str().unwrap()
                )
            })
            .collect();
        got.sort();
        got.dedup();
        assert_eq!(got, want, "{}", f.display());
        if got.iter().any(|s| s.ends_with("@GLIBC_PRIVATE")) {
            private_seen = true;
            assert!(
                !v["files"][0]["glibc_private"]
                    .as_array()
                    .unwrap()
                    .is_empty()
            );
        }
    }
    if std::path::Path::new("/lib/x86_64-linux-gnu/libnsl.so.1").exists() {
        assert!(private_seen, "libnsl.so.1 needs GLIBC_PRIVATE symbols");
    }
}

/// Run-time needs of the fixtures: the zig-built ones ask for 16 MiB thread stacks (zig's
/// default `PT_GNU_STACK` size); what glibc links into every static program is not shown; a file
/// that asks for nothing has no `runtime_needs` at all.
#[test]
fn runtime_needs_of_the_fixtures() {
    let f = inspect_one("newer-glibc");
    assert_eq!(
        f["runtime_needs"],
        serde_json::json!({"stack_size": 16 << 20})
    );
    for name in [
        "hello",
        "hello-static",
        "hello-static-pie",
        "hello-musl",
        "hello-musl-static",
        "libgreet.so.1",
    ] {
        let f = inspect_one(name);
        assert!(f.get("runtime_needs").is_none(), "{name}: {f}");
    }
    let o = run(&["inspect", fixture("newer-glibc").to_str().unwrap()]);
    assert!(
        o.stdout
            .contains("\n  run-time:  thread stack PT_GNU_STACK 16 MiB\n"),
        "{}",
        o.stdout
    );
}

const THREADS_C: &str = r#"
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
static void *work(void *a) { return a; }
int main(int argc, char **argv) {
    pthread_t t;
    struct addrinfo *ai;
    if (argc > 2) getaddrinfo(argv[1], 0, 0, &ai);
    pthread_create(&t, 0, work, 0);
    pthread_join(t, 0);
    return fopen("/etc/ssl/certs/ca-certificates.crt", "r") == 0;
}
"#;

/// A program built here: imports, stack size and the paths in its strings when it is named; a
/// walk leaves out the scans of the data (the paths).
#[test]
fn runtime_needs_named_and_walked() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("threads.c");
    std::fs::write(&src, THREADS_C).unwrap();
    let bin = d.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let exe = bin.join("threads");
    let st = std::process::Command::new("gcc")
        .args(["-O1", "-pthread", "-Wl,-z,stack-size=1048576", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success());
    let (code, v) = json(&["inspect", "--format", "json", exe.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(
        v["files"][0]["runtime_needs"],
        serde_json::json!({
            "imports": ["getaddrinfo", "pthread_create"],
            "stack_size": 1048576,
            "paths": ["/etc/ssl/certs/ca-certificates.crt"],
        })
    );
    let (_, walked) = json(&["inspect", "--format", "json", bin.to_str().unwrap()]);
    assert_eq!(
        walked["files"][0]["runtime_needs"],
        serde_json::json!({"imports": ["getaddrinfo", "pthread_create"], "stack_size": 1048576})
    );
    let o = run(&["inspect", exe.to_str().unwrap()]);
    assert!(
        o.stdout.contains(
            "\n  run-time:  threads (pthread_create; PT_GNU_STACK 1 MiB), resolver (getaddrinfo), paths /etc/ssl/certs/ca-certificates.crt\n"
        ),
        "{}",
        o.stdout
    );
}

/// Libraries loaded with dlopen: declared in `.note.dlopen` (alternatives, priority, feature),
/// or named beside an imported `dlopen`.
#[test]
fn dlopen_dependencies_from_the_note_and_the_strings() {
    let f = inspect_one("dlopen-note");
    assert_eq!(
        f["runtime_needs"]["dlopen"],
        serde_json::json!([
            {"soname": ["libz.so.1"], "priority": "required", "feature": "compression", "source": "note"},
            {"soname": ["libnowhere.so.1", "libnowhere.so.0"], "priority": "suggested", "source": "note"},
        ])
    );
    let o = run(&["inspect", fixture("dlopen-note").to_str().unwrap()]);
    assert!(
        o.stdout.contains("  dlopen:    libz.so.1 (required, note: compression), libnowhere.so.1 | libnowhere.so.0 (suggested, note)\n"),
        "{}",
        o.stdout
    );
}

/// Modules are named by their entry point (or their host's symbols), with the host that loads
/// them; programs and plain libraries are no module.
#[test]
fn modules_and_their_host_programs() {
    for (file, host, evidence) in [
        ("pyext.so", "python", "PyInit_pyext"),
        ("addon.node", "node", "napi_register_module_v1"),
        ("xsmod.so", "perl", "boot_xsmod"),
    ] {
        let f = inspect_one(file);
        assert_eq!(f["module"]["host"], host, "{file}: {f}");
        assert_eq!(f["module"]["evidence"], evidence, "{file}: {f}");
    }
    assert!(inspect_one("hello").get("module").is_none());
    let o = run(&["inspect", fixture("pyext.so").to_str().unwrap()]);
    assert!(
        o.stdout.contains(
            "  module:    Python module (PyInit_pyext): loaded by a Python interpreter, which provides its host symbols\n"
        ),
        "{}",
        o.stdout
    );
}
