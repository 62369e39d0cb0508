use super::*;
use crate::elf::needs::GoBuild;
use crate::elf::{BinaryProfile, Kind};
use crate::image::runtime::Accounts;

fn dynamic() -> BinaryProfile {
    let mut p = BinaryProfile::empty(Kind::Pie);
    p.interpreter = Some("/lib/ld-musl-x86_64.so.1".into());
    p
}

fn needs(imports: &[&str]) -> RuntimeNeeds {
    RuntimeNeeds {
        imports: imports.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// A base that has everything a program may ask for.
fn full() -> RuntimeFacts {
    RuntimeFacts {
        ca_bundle: Some("/etc/ssl/certs/ca-certificates.crt".into()),
        zoneinfo: 600,
        localtime: true,
        locale_archive: true,
        locales: vec!["C.utf8".into()],
        gconv: true,
        nsswitch: true,
        passwd: Accounts {
            present: true,
            entries: vec![("root".into(), 0), ("nonroot".into(), 65532)],
            ..Default::default()
        },
        group: Accounts::default(),
        tmp_mode: Some(0o1777),
        tmp_owner: Some(0),
        unknown: vec![],
    }
}

fn side(libc: LibcKind, facts: &RuntimeFacts) -> BaseSide<'_> {
    BaseSide {
        libc,
        libc_version: Some(if libc == LibcKind::Musl {
            "1.2.5"
        } else {
            "2.36"
        }),
        shell: true,
        facts,
        user: "",
        libraries: &OnlyZlib,
    }
}

/// A base whose only library is zlib.
struct OnlyZlib;

impl Libraries for OnlyZlib {
    fn cannot_open(&self, dep: &DlopenDep) -> Option<String> {
        let held = dep.soname.iter().any(|s| s == "libz.so.1");
        (!held).then(|| format!("no {} in the base", dep.soname.join(" or ")))
    }
}

fn kinds(r: &[Risk]) -> Vec<&'static str> {
    r.iter().map(|r| r.kind.as_str()).collect()
}

#[test]
fn threads_without_a_stack_size_are_a_risk_on_musl_only() {
    let facts = full();
    let n = needs(&["pthread_create"]);
    let musl = assess(&dynamic(), &n, &side(LibcKind::Musl, &facts));
    assert_eq!(kinds(&musl), ["thread_stack"]);
    assert!(
        musl[0]
            .base_fact
            .contains("musl 1.2.5: threads get 128 KiB"),
        "{musl:?}"
    );
    assert!(musl[0].fix.contains(STACK_FLAG));
    assert!(assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts)).is_empty());
}

#[test]
fn a_stack_size_set_per_thread_or_by_pt_gnu_stack_removes_the_thread_risk() {
    let facts = full();
    let base = side(LibcKind::Musl, &facts);
    let sized = needs(&["pthread_attr_setstacksize", "pthread_create"]);
    assert!(assess(&dynamic(), &sized, &base).is_empty());
    let mut linked = needs(&["pthread_create"]);
    linked.stack_size = Some(1 << 20);
    assert!(assess(&dynamic(), &linked, &base).is_empty());
    // A PT_GNU_STACK no larger than musl's default changes nothing.
    linked.stack_size = Some(MUSL_THREAD_STACK);
    assert_eq!(kinds(&assess(&dynamic(), &linked, &base)), ["thread_stack"]);
}

#[test]
fn a_static_program_brings_its_own_libc_whatever_the_base() {
    let facts = full();
    let glibc_base = side(LibcKind::Glibc, &facts);
    let n = needs(&["pthread_create"]);
    let musl_static = BinaryProfile::empty(Kind::Static);
    let r = assess(&musl_static, &n, &glibc_base);
    assert_eq!(kinds(&r), ["thread_stack"]);
    assert!(r[0].base_fact.starts_with("the program's own static musl"));
    let mut glibc_static = BinaryProfile::empty(Kind::Static);
    glibc_static.abi_tag = Some("Linux 3.2.0".into());
    assert!(assess(&glibc_static, &n, &side(LibcKind::Musl, &facts)).is_empty());
}

fn go(functions: &[&str], packages: &[&str]) -> RuntimeNeeds {
    RuntimeNeeds {
        go: Some(GoBuild {
            functions: functions.iter().map(|s| s.to_string()).collect(),
            packages: packages.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn go_system_roots_need_a_ca_bundle_unless_roots_are_embedded() {
    let mut bare = full();
    bare.ca_bundle = None;
    let base = side(LibcKind::Glibc, &bare);
    let gostatic = BinaryProfile::empty(Kind::Static);
    let n = go(&["crypto/x509.loadSystemRoots"], &["crypto/x509"]);
    let r = assess(&gostatic, &n, &base);
    assert_eq!(kinds(&r), ["ca_bundle"]);
    assert!(r[0].fix.contains("ca-certificates"));
    assert!(assess(&gostatic, &n, &side(LibcKind::Glibc, &full())).is_empty());
    let mut embedded = n.clone();
    embedded.go.as_mut().unwrap().deps =
        vec!["golang.org/x/crypto/x509roots/fallback@v0.1.0".into()];
    assert!(assess(&gostatic, &embedded, &base).is_empty());
}

#[test]
fn go_time_zones_need_tzdata_unless_it_is_embedded() {
    let mut bare = full();
    bare.zoneinfo = 0;
    let base = side(LibcKind::Musl, &bare);
    let gostatic = BinaryProfile::empty(Kind::Static);
    let n = go(&["time.LoadLocation"], &[]);
    assert_eq!(kinds(&assess(&gostatic, &n, &base)), ["tzdata"]);
    let embedded = go(&["time.LoadLocation"], &["time/tzdata"]);
    assert!(assess(&gostatic, &embedded, &base).is_empty());
    let mut tagged = n.clone();
    tagged.go.as_mut().unwrap().tags = vec!["timetzdata".into()];
    assert!(assess(&gostatic, &tagged, &base).is_empty());
}

#[test]
fn a_c_program_naming_a_ca_path_or_calling_openssl_defaults_needs_a_bundle() {
    let mut bare = full();
    bare.ca_bundle = None;
    let base = side(LibcKind::Glibc, &bare);
    let mut named = needs(&[]);
    named.paths = vec!["/etc/ssl/certs/ca-certificates.crt".into()];
    let r = assess(&dynamic(), &named, &base);
    assert_eq!(kinds(&r), ["ca_bundle"]);
    assert!(r[0].evidence.contains("/etc/ssl/certs/ca-certificates.crt"));
    let openssl = needs(&["SSL_CTX_set_default_verify_paths"]);
    assert_eq!(kinds(&assess(&dynamic(), &openssl, &base)), ["ca_bundle"]);
}

#[test]
fn musl_behaviour_differences_are_notes_naming_the_version() {
    let facts = full();
    let n = needs(&["dlclose", "getaddrinfo", "iconv_open", "regcomp", "strcoll"]);
    let r = assess(&dynamic(), &n, &side(LibcKind::Musl, &facts));
    assert_eq!(
        kinds(&r),
        ["resolver", "locale", "iconv", "dlclose", "regex"]
    );
    assert!(r.iter().all(|r| r.severity == Severity::Note));
    assert!(r[0].base_fact.contains("since 1.2.4"));
    let mut old = side(LibcKind::Musl, &facts);
    old.libc_version = Some("1.2.3");
    let r = assess(&dynamic(), &needs(&["getaddrinfo"]), &old);
    assert!(r[0].base_fact.contains("never falls back to TCP"), "{r:?}");
    assert!(assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts)).is_empty());
}

#[test]
fn glibc_without_locales_or_gconv_is_a_risk_only_for_programs_that_use_them() {
    let mut slim = full();
    (slim.locale_archive, slim.locales, slim.gconv) = (false, vec![], false);
    let base = side(LibcKind::Glibc, &slim);
    let r = assess(&dynamic(), &needs(&["iconv_open", "setlocale"]), &base);
    assert_eq!(kinds(&r), ["locale", "iconv"]);
    assert!(r[1].fix.contains("distroless does not"), "{r:?}");
    assert!(assess(&dynamic(), &needs(&["puts"]), &base).is_empty());
}

#[test]
fn user_lookups_need_the_image_user_in_passwd() {
    let mut facts = full();
    let n = needs(&["getpwuid"]);
    // Listed: nothing on glibc, a note on musl (no NSS).
    assert!(assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts)).is_empty());
    let r = assess(&dynamic(), &n, &side(LibcKind::Musl, &facts));
    assert_eq!((kinds(&r), r[0].severity), (vec!["users"], Severity::Note));
    // A numeric user the file does not list, then no file at all.
    let mut base = side(LibcKind::Glibc, &facts);
    base.user = "1000:1000";
    let r = assess(&dynamic(), &n, &base);
    assert_eq!(r[0].severity, Severity::Warning);
    assert!(r[0].base_fact.contains("(1000:1000)"), "{r:?}");
    base.user = "nonroot";
    assert!(assess(&dynamic(), &n, &base).is_empty());
    // A file too large to read is not evidence of a missing user.
    facts.passwd = Accounts {
        present: true,
        unread: true,
        ..Default::default()
    };
    assert!(assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts)).is_empty());
    facts.passwd = Accounts::default();
    let r = assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts));
    assert_eq!(r[0].base_fact, "no /etc/passwd");
}

#[test]
fn no_shell_or_no_writable_tmp_fails_the_functions_that_need_them() {
    let mut facts = full();
    let n = needs(&["mkstemp", "system"]);
    let mut base = side(LibcKind::Glibc, &facts);
    base.shell = false;
    let r = assess(&dynamic(), &n, &base);
    assert_eq!(kinds(&r), ["shell"]);
    assert_eq!(
        r[0].base_fact,
        "no /bin/sh: system() and popen() fail (the command exits 127)"
    );
    let as_user = |facts: &RuntimeFacts, user: &'static str| {
        let mut b = side(LibcKind::Glibc, facts);
        b.user = user;
        kinds(&assess(&dynamic(), &n, &b))
    };
    (facts.tmp_mode, facts.tmp_owner) = (Some(0o755), Some(1));
    let mut b = side(LibcKind::Glibc, &facts);
    b.user = "65532";
    let r = assess(&dynamic(), &n, &b);
    assert_eq!(kinds(&r), ["tmp"]);
    assert!(r[0].base_fact.contains("/tmp is 755"), "{r:?}");
    // Root writes anywhere; a 0700 /tmp serves its owner.
    assert!(as_user(&facts, "").is_empty());
    (facts.tmp_mode, facts.tmp_owner) = (Some(0o700), Some(65532));
    assert!(as_user(&facts, "65532").is_empty());
    assert_eq!(as_user(&facts, "1000"), ["tmp"]);
    // No /tmp at all fails root too.
    facts.tmp_mode = None;
    let r = assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts));
    assert_eq!(r[0].base_fact, "no /tmp");
}

#[test]
fn a_go_program_without_cgo_has_no_libc_risks() {
    let facts = full();
    let mut n = go(&[], &["net"]);
    n.imports = vec!["pthread_create".into(), "getaddrinfo".into()];
    let gostatic = BinaryProfile::empty(Kind::Static);
    assert!(assess(&gostatic, &n, &side(LibcKind::Musl, &facts)).is_empty());
}

#[test]
fn the_likely_cause_matches_the_failure_and_is_not_ruled_out() {
    let stack = Risk {
        kind: RiskKind::ThreadStack,
        severity: Severity::Warning,
        evidence: String::new(),
        base_fact: String::new(),
        fix: String::new(),
    };
    let ca = Risk {
        kind: RiskKind::CaBundle,
        ..stack.clone()
    };
    let here = [stack.clone(), ca.clone()];
    let segv = Some("SIGSEGV");
    assert_eq!(
        likely_cause(Verdict::Crash, segv, &here, &[]),
        Some(RiskKind::ThreadStack)
    );
    // abort() is no stack overflow.
    assert_eq!(
        likely_cause(Verdict::Crash, Some("SIGABRT"), &here, &[]),
        None
    );
    assert_eq!(
        likely_cause(Verdict::ExitNonzero, None, &here, &[]),
        Some(RiskKind::CaBundle)
    );
    assert_eq!(
        likely_cause(Verdict::Crash, segv, &here, &[RiskKind::ThreadStack]),
        None
    );
    assert_eq!(likely_cause(Verdict::Ok, None, &here, &[]), None);
    assert_eq!(likely_cause(Verdict::Timeout, None, &here, &[]), None);
    let note = Risk {
        severity: Severity::Note,
        ..stack.clone()
    };
    assert_eq!(likely_cause(Verdict::Crash, segv, &[note], &[]), None);
    // Users and /tmp depend on the user that ran: never named.
    let users = Risk {
        kind: RiskKind::Users,
        ..stack
    };
    assert_eq!(
        likely_cause(Verdict::ExitNonzero, None, &[users], &[]),
        None
    );
}

#[test]
fn a_fact_a_catalog_entry_could_not_establish_raises_no_risk() {
    let mut facts = full();
    (facts.ca_bundle, facts.tmp_mode, facts.passwd) = (None, None, Accounts::default());
    let n = needs(&["SSL_CTX_set_default_verify_paths", "getpwuid", "mkstemp"]);
    assert_eq!(
        kinds(&assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts))),
        ["ca_bundle", "users", "tmp"]
    );
    facts.unknown = vec!["ca_bundle".into(), "passwd".into(), "tmp".into()];
    let r = assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts));
    assert!(r.is_empty(), "{r:?}");
}

#[test]
fn a_go_programs_strings_are_no_evidence_its_functions_are() {
    let mut bare = full();
    (bare.ca_bundle, bare.zoneinfo) = (None, 0);
    let base = side(LibcKind::Musl, &bare);
    let gostatic = BinaryProfile::empty(Kind::Static);
    // The time package names zoneinfo directories whether or not the program loads a zone.
    let mut n = go(&[], &["crypto/x509"]);
    n.paths = vec!["/usr/share/zoneinfo/".into(), "/etc/ssl/certs".into()];
    assert!(assess(&gostatic, &n, &base).is_empty());
}

#[test]
fn only_a_zone_is_evidence_of_tzdata_not_the_zoneinfo_directory() {
    let mut bare = full();
    bare.zoneinfo = 0;
    let base = side(LibcKind::Musl, &bare);
    let mut n = needs(&[]);
    // What every static libc carries for localtime().
    n.paths = vec!["/usr/share/zoneinfo/".into()];
    assert!(assess(&BinaryProfile::empty(Kind::Static), &n, &base).is_empty());
    n.paths.push("/usr/share/zoneinfo/Europe/Paris".into());
    assert_eq!(kinds(&assess(&dynamic(), &n, &base)), ["tzdata"]);
}

#[test]
fn a_go_program_with_cgo_linked_statically_gets_its_c_librarys_rules() {
    let facts = full();
    let base = side(LibcKind::Glibc, &facts);
    let mut n = go(&[], &["runtime/cgo"]);
    n.imports = vec!["pthread_create".into()];
    let r = assess(&BinaryProfile::empty(Kind::Static), &n, &base);
    // musl's start files (no ABI tag): cgo's threads get 128 KiB, a note for Go.
    assert_eq!(
        (kinds(&r), r[0].severity),
        (vec!["thread_stack"], Severity::Note)
    );
}

#[test]
fn a_dlopened_library_the_base_lacks_is_a_risk_by_its_priority() {
    let facts = full();
    let dep = |name: &str, priority: &str| DlopenDep {
        soname: vec![name.into()],
        priority: priority.into(),
        feature: None,
        source: "note".into(),
    };
    let mut n = needs(&[]);
    n.dlopen = vec![
        dep("libz.so.1", "required"),
        dep("libnowhere.so.1", "suggested"),
    ];
    let r = assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts));
    assert_eq!((kinds(&r), r[0].severity), (vec!["dlopen"], Severity::Note));
    assert_eq!(r[0].base_fact, "no libnowhere.so.1 in the base");
    n.dlopen.push(dep("libssl.so.3", "recommended"));
    let r = assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts));
    assert_eq!(r[0].severity, Severity::Warning);
    assert!(r[0].fix.contains("libssl3"), "{r:?}");
    // A required one the base lacks is the prediction's problem, not a risk.
    n.dlopen = vec![dep("libgone.so.1", "required")];
    assert!(assess(&dynamic(), &n, &side(LibcKind::Glibc, &facts)).is_empty());
}
