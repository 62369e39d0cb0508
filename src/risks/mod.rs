//! Run-time risks: what a binary will ask for at run time ([`RuntimeNeeds`], from its ELF) met with
//! what a base provides ([`BaseSide`], from its files). Pure: no I/O.
//!
//! A risk is not a verdict. The program loads; it may then crash (musl's 128 KiB thread stacks),
//! fail (no CA bundle, no tzdata, no `/bin/sh`) or behave differently (musl's resolver, collation,
//! iconv, NSS, `dlclose`, regex). Each difference and its source is listed in `docs/risks.md`.

mod libc;

use crate::elf::BinaryProfile;
use crate::elf::needs::{DlopenDep, GoBuild, RuntimeNeeds};
use crate::image::base::{BaseProfile, LibcKind};
use crate::image::runtime::RuntimeFacts;
use crate::loader::dlopen;
use crate::verdict::{Problem, Risk, RiskKind, Severity, Verdict};

pub use libc::InEffect;

/// musl's default thread stack size (since 1.1.21; 80 KiB before).
pub const MUSL_THREAD_STACK: u64 = 128 << 10;
/// The most musl raises its default thread stack to from `PT_GNU_STACK`.
pub const MUSL_THREAD_STACK_MAX: u64 = 8 << 20;
/// The link flag that gives musl's threads glibc's default stack size.
pub const STACK_FLAG: &str = "-Wl,-z,stack-size=8388608";

/// What a base offers at run time, as the risk rules need it.
pub struct BaseSide<'a> {
    pub libc: LibcKind,
    pub libc_version: Option<&'a str>,
    pub shell: bool,
    pub facts: &'a RuntimeFacts,
    /// The user the image runs as (its `Config.User`; empty: root).
    pub user: &'a str,
    /// The base's libraries, asked for a `dlopen`ed name.
    pub libraries: &'a dyn Libraries,
}

/// What a `dlopen` of a library finds on a base.
pub trait Libraries {
    /// Why none of the entry's alternatives can be opened ("no libssl.so.3 in the base"), or
    /// `None` when one can.
    fn cannot_open(&self, dep: &DlopenDep) -> Option<String>;
}

/// A base by itself: the names of its libraries.
impl Libraries for BaseProfile {
    fn cannot_open(&self, dep: &DlopenDep) -> Option<String> {
        let held = dep.soname.iter().any(|s| self.has_library_named(s));
        (!held).then(|| format!("no {} in the base", dep.soname.join(" or ")))
    }
}

/// The program's own `dlopen` search on the base, what the libraries need included.
impl Libraries for dlopen::Search<'_> {
    fn cannot_open(&self, dep: &DlopenDep) -> Option<String> {
        match self.entry_fails(dep)? {
            Problem::MissingLibrary {
                library, needed_by, ..
            } if needed_by.as_deref() != Some(self.program) => Some(format!(
                "no {library} in the base, which {} needs",
                needed_by.unwrap_or_default()
            )),
            _ => Some(format!("no {} in the base", dep.soname.join(" or "))),
        }
    }
}

impl<'a> BaseSide<'a> {
    pub fn of(base: &'a BaseProfile, user: &'a str) -> BaseSide<'a> {
        BaseSide {
            libc: base.libc,
            libc_version: base.libc_version.as_deref(),
            shell: base.shell,
            facts: &base.runtime,
            user,
            libraries: base,
        }
    }
}

/// One risk rule: the risk, if the binary's needs meet this base's facts and libc.
type Rule = fn(&Ask, &BaseSide, &InEffect) -> Option<Risk>;

/// The risks of running `binary` (whose run-time needs are `needs`) on `base`, in a fixed order.
pub fn assess(binary: &BinaryProfile, needs: &RuntimeNeeds, base: &BaseSide) -> Vec<Risk> {
    let libc = libc::in_effect(binary, needs, base);
    let rules: [Rule; 12] = [
        thread_stack,
        ca_bundle,
        tzdata,
        resolver,
        locale,
        iconv,
        users,
        dlclose,
        regex,
        shell,
        tmp,
        dlopen_libraries,
    ];
    let ask = Ask(needs);
    rules
        .iter()
        .filter_map(|rule| rule(&ask, base, &libc))
        .collect()
}

/// The risk most likely behind a run that ended in `verdict` (killed by `signal`, if it was) on
/// a base with the risks `here`, leaving out the kinds in `ruled_out` (present where the run
/// passed, or absent where it failed the same way). Only a stack overflow's signals point at the
/// thread stack; a failing exit at a missing file. Users and `/tmp` are left out: whether they
/// fail depends on the user that ran, and libccheck's run is not the image's user.
pub fn likely_cause(
    verdict: Verdict,
    signal: Option<&str>,
    here: &[Risk],
    ruled_out: &[RiskKind],
) -> Option<RiskKind> {
    let suspects: &[RiskKind] = match (verdict, signal) {
        (Verdict::Crash, Some("SIGSEGV" | "SIGBUS")) => &[RiskKind::ThreadStack],
        (Verdict::ExitNonzero, _) => &[
            RiskKind::CaBundle,
            RiskKind::Tzdata,
            RiskKind::Shell,
            RiskKind::Iconv,
            RiskKind::Dlopen,
        ],
        _ => &[],
    };
    suspects.iter().copied().find(|k| {
        !ruled_out.contains(k)
            && here
                .iter()
                .any(|r| r.kind == *k && r.severity == Severity::Warning)
    })
}

/// Questions about a binary's needs.
struct Ask<'a>(&'a RuntimeNeeds);

impl Ask<'_> {
    /// The first of `names` the program imports.
    fn import<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        names
            .iter()
            .find(|n| self.0.imports.iter().any(|i| i == *n))
            .copied()
    }

    /// The first path in read-only data that starts with one of `prefixes`.
    fn path(&self, prefixes: &[&str]) -> Option<&str> {
        self.0
            .paths
            .iter()
            .find(|p| prefixes.iter().any(|pre| p.starts_with(pre)))
            .map(String::as_str)
    }

    /// A question about the Go build, `false` for other programs.
    fn go(&self, question: impl Fn(&GoBuild) -> bool) -> bool {
        self.0.go.as_ref().is_some_and(question)
    }

    fn go_function(&self, name: &str) -> bool {
        self.go(|g| g.links(name))
    }

    fn go_package(&self, name: &str) -> bool {
        self.go(|g| g.has_package(name))
    }

    fn go_tag(&self, tag: &str) -> bool {
        self.go(|g| g.tags.iter().any(|t| t == tag))
    }

    fn go_dep(&self, module: &str) -> bool {
        self.go(|g| g.deps.iter().any(|d| d.split('@').next() == Some(module)))
    }
}

fn risk(
    kind: RiskKind,
    severity: Severity,
    evidence: String,
    base_fact: String,
    fix: &str,
) -> Risk {
    Risk {
        kind,
        severity,
        evidence,
        base_fact,
        fix: fix.to_string(),
    }
}

/// musl gives each thread 128 KiB of stack unless the program sets a size or its `PT_GNU_STACK`
/// asks for more; glibc gives the stack rlimit (8 MiB by default).
fn thread_stack(ask: &Ask, _: &BaseSide, libc: &InEffect) -> Option<Risk> {
    let default = libc.musl_thread_stack()?;
    ask.import(&["pthread_create"])?;
    if ask
        .import(&["pthread_attr_setstacksize", "pthread_attr_setstack"])
        .is_some()
    {
        return None;
    }
    let declared = ask.0.stack_size.unwrap_or(0);
    if declared > default {
        return None;
    }
    // Go code runs on goroutine stacks; only C code called through cgo runs on the threads
    // runtime/cgo creates with the default size.
    let (severity, evidence) = if ask.0.go.is_some() {
        (
            Severity::Note,
            format!(
                "Go with cgo: runtime/cgo's threads (C code called through cgo runs on them); PT_GNU_STACK size {declared}"
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "pthread_create without pthread_attr_setstacksize; PT_GNU_STACK size {declared}"
            ),
        )
    };
    Some(risk(
        RiskKind::ThreadStack,
        severity,
        evidence,
        format!(
            "{}: threads get {} KiB of stack by default (glibc: 8 MiB)",
            libc.describe(),
            default >> 10
        ),
        &format!(
            "link with {STACK_FLAG} or set the stack size per thread (pthread_attr_setstacksize)"
        ),
    ))
}

/// Where the program shows it reads the system's CA certificates.
fn ca_evidence(ask: &Ask) -> Option<String> {
    if ask.go_function("crypto/x509.loadSystemRoots") {
        if ask.go_dep("golang.org/x/crypto/x509roots/fallback") {
            return None;
        }
        return Some("Go: crypto/x509.loadSystemRoots is linked (the system CA pool)".into());
    }
    // A Go program's read-only data holds the paths of every linked package, used or not: its
    // function names are the evidence.
    if ask.0.go.is_some() {
        return None;
    }
    if let Some(f) = ask.import(&[
        "SSL_CTX_set_default_verify_paths",
        "X509_STORE_set_default_paths",
    ]) {
        return Some(format!("imports {f}"));
    }
    ask.path(&["/etc/ssl/cert", "/etc/pki/"])
        .map(|p| format!("names {p} in its read-only data"))
}

fn ca_bundle(ask: &Ask, base: &BaseSide, _: &InEffect) -> Option<Risk> {
    if base.facts.ca_bundle.is_some() || !base.facts.knows("ca_bundle") {
        return None;
    }
    let evidence = ca_evidence(ask)?;
    let go = ask.0.go.is_some();
    Some(risk(
        RiskKind::CaBundle,
        Severity::Warning,
        evidence,
        "no CA bundle at any path OpenSSL, Go or rustls reads (/etc/ssl/certs/ca-certificates.crt, ...)"
            .into(),
        if go {
            "install ca-certificates, use a base that has it (distroless-static/base/cc), or embed roots (import golang.org/x/crypto/x509roots/fallback)"
        } else {
            "install ca-certificates, or use a base that has it (distroless-static/base/cc)"
        },
    ))
}

/// Where the program shows it loads time zones from the system.
fn tz_evidence(ask: &Ask) -> Option<String> {
    if ask.go_function("time.LoadLocation") {
        if ask.go_package("time/tzdata") || ask.go_tag("timetzdata") {
            return None;
        }
        return Some("Go: time.LoadLocation linked, time/tzdata not embedded".into());
    }
    if ask.0.go.is_some() {
        return None;
    }
    // Every libc's time code names the zoneinfo directory itself (a static program carries it
    // whether it loads a zone or not): only a zone under it is evidence.
    ask.0
        .paths
        .iter()
        .find(|p| {
            p.strip_prefix("/usr/share/zoneinfo/")
                .is_some_and(|zone| !zone.is_empty())
        })
        .map(|p| format!("names {p} in its read-only data"))
}

fn tzdata(ask: &Ask, base: &BaseSide, _: &InEffect) -> Option<Risk> {
    if base.facts.zoneinfo > 0 || !base.facts.knows("zoneinfo") {
        return None;
    }
    let evidence = tz_evidence(ask)?;
    let go = ask.0.go.is_some();
    Some(risk(
        RiskKind::Tzdata,
        Severity::Warning,
        evidence,
        "no tzdata: /usr/share/zoneinfo is empty or absent".into(),
        if go {
            "import time/tzdata (or build with -tags timetzdata), or install tzdata"
        } else {
            "install tzdata, or use a base that has it (distroless)"
        },
    ))
}

fn resolver(ask: &Ask, _: &BaseSide, libc: &InEffect) -> Option<Risk> {
    let musl = libc.musl()?;
    let f = ask.import(&[
        "getaddrinfo",
        "gethostbyname",
        "gethostbyname2",
        "gethostbyname_r",
        "gethostbyaddr",
        "res_query",
        "res_search",
        "res_init",
        "res_nquery",
        "res_nsearch",
        "res_send",
    ])?;
    let tcp = if musl.at_least(1, 2, 4) {
        "falls back to TCP for long answers (since 1.2.4)"
    } else {
        "never falls back to TCP, so answers over 512 bytes are lost (before 1.2.4)"
    };
    Some(risk(
        RiskKind::Resolver,
        Severity::Note,
        format!("imports {f}"),
        format!(
            "{}: a name with at least ndots dots never tries the search list, all nameservers are asked at once, it {tcp}",
            libc.describe()
        ),
        "use fully qualified names (with a trailing dot) and test name resolution on this base",
    ))
}

fn locale(ask: &Ask, base: &BaseSide, libc: &InEffect) -> Option<Risk> {
    if libc.musl().is_some() {
        let f = ask.import(&["strcoll", "strxfrm", "strcoll_l", "strxfrm_l"])?;
        return Some(risk(
            RiskKind::Locale,
            Severity::Note,
            format!("imports {f}"),
            format!(
                "{}: no collation; {f} orders by code point in every locale",
                libc.describe()
            ),
            "do not rely on locale order, or use a glibc base with the locale installed",
        ));
    }
    let facts = base.facts;
    if !libc.glibc() || facts.locale_archive || !facts.locales.is_empty() || !facts.knows("locales")
    {
        return None;
    }
    let f = ask.import(&["newlocale", "setlocale", "strcoll", "strxfrm"])?;
    Some(risk(
        RiskKind::Locale,
        Severity::Note,
        format!("imports {f}"),
        "no compiled locales (/usr/lib/locale is empty): only the C/POSIX locale".into(),
        "install the locale the program needs (locales / locales-all), or run it in the C locale",
    ))
}

fn iconv(ask: &Ask, base: &BaseSide, libc: &InEffect) -> Option<Risk> {
    ask.import(&["iconv_open"])?;
    if libc.musl().is_some() {
        return Some(risk(
            RiskKind::Iconv,
            Severity::Note,
            "imports iconv_open".into(),
            format!(
                "{}: a //TRANSLIT or //IGNORE suffix fails with EINVAL; unconvertible characters become '*' instead of EILSEQ; fewer charsets",
                libc.describe()
            ),
            "convert without // suffixes and check the charsets the program needs, or use a glibc base",
        ));
    }
    if !libc.glibc() || base.facts.gconv || !base.facts.knows("gconv") {
        return None;
    }
    Some(risk(
        RiskKind::Iconv,
        Severity::Note,
        "imports iconv_open".into(),
        "no gconv modules: iconv_open fails with EINVAL for charsets beyond glibc's built-in UTF-8, UCS and ASCII family".into(),
        "convert only between built-in charsets, or use a base with glibc's gconv modules (debian-slim has them; distroless does not)",
    ))
}

/// The numeric uid of a `Config.User` value (`""` and `root` are 0), when it names one.
fn image_uid(user: &str, facts: &RuntimeFacts) -> Option<u32> {
    let name = user.split(':').next().unwrap_or("");
    match name {
        "" | "root" => Some(0),
        n => n.parse().ok().or_else(|| {
            facts
                .passwd
                .entries
                .iter()
                .find(|(e, _)| e == n)
                .map(|(_, id)| *id)
        }),
    }
}

fn users(ask: &Ask, base: &BaseSide, libc: &InEffect) -> Option<Risk> {
    let evidence = ask
        .import(&[
            "getpwnam",
            "getpwuid",
            "getpwnam_r",
            "getpwuid_r",
            "getpwent",
            "getgrnam",
            "getgrgid",
            "getgrnam_r",
            "getgrgid_r",
            "getgrouplist",
            "initgroups",
        ])
        .map(|f| format!("imports {f}"))
        .or_else(|| {
            ask.go_package("os/user")
                .then(|| "Go: os/user linked".to_string())
        })?;
    let passwd = &base.facts.passwd;
    let uid = image_uid(base.user, base.facts);
    let listed = passwd.unread
        || !base.facts.knows("passwd")
        || uid.is_some_and(|u| passwd.name_of(u).is_some());
    if !listed {
        let who = if base.user.is_empty() {
            "root"
        } else {
            base.user
        };
        let fact = if passwd.present {
            format!("/etc/passwd does not list the user the image runs as ({who})")
        } else {
            "no /etc/passwd".to_string()
        };
        return Some(risk(
            RiskKind::Users,
            Severity::Warning,
            evidence,
            fact,
            "add the user to /etc/passwd (or run as a user the base lists, such as distroless's nonroot, 65532)",
        ));
    }
    libc.musl()?;
    Some(risk(
        RiskKind::Users,
        Severity::Note,
        evidence,
        format!(
            "{}: no NSS; users and groups come from /etc/passwd and /etc/group only (no LDAP, sssd or systemd users)",
            libc.describe()
        ),
        "keep the users the program looks up in /etc/passwd and /etc/group",
    ))
}

/// A behaviour of musl's that differs from glibc's, for a program that imports `function`.
fn musl_note(
    libc: &InEffect,
    ask: &Ask,
    function: &str,
    kind: RiskKind,
    how: &str,
    fix: &str,
) -> Option<Risk> {
    libc.musl()?;
    ask.import(&[function])?;
    Some(risk(
        kind,
        Severity::Note,
        format!("imports {function}"),
        format!("{}: {how}", libc.describe()),
        fix,
    ))
}

fn dlclose(ask: &Ask, _: &BaseSide, libc: &InEffect) -> Option<Risk> {
    musl_note(
        libc,
        ask,
        "dlclose",
        RiskKind::Dlclose,
        "dlclose never unloads; a library's destructors run at exit, and reopening it finds its old state",
        "do not rely on unloading a plugin to reset it",
    )
}

fn regex(ask: &Ask, _: &BaseSide, libc: &InEffect) -> Option<Risk> {
    musl_note(
        libc,
        ask,
        "regcomp",
        RiskKind::Regex,
        "POSIX regular expressions only; GNU extensions (\\w, \\s, \\b, \\<, \\>, back-references in ERE) are not recognised",
        "write patterns in plain POSIX syntax (e.g. [[:alnum:]_] for \\w)",
    )
}

fn shell(ask: &Ask, base: &BaseSide, _: &InEffect) -> Option<Risk> {
    if base.shell {
        return None;
    }
    let f = ask.import(&["system", "popen"])?;
    Some(risk(
        RiskKind::Shell,
        Severity::Warning,
        format!("imports {f}"),
        "no /bin/sh: system() and popen() fail (the command exits 127)".into(),
        "start the command directly (posix_spawn, execve) or use a base with a shell",
    ))
}

fn tmp(ask: &Ask, base: &BaseSide, _: &InEffect) -> Option<Risk> {
    if !base.facts.knows("tmp") {
        return None;
    }
    let uid = image_uid(base.user, base.facts);
    // Root writes to any directory; the owner to its own.
    let owner_runs =
        uid == Some(0) || (base.facts.tmp_owner.is_some() && base.facts.tmp_owner == uid);
    let fact = match base.facts.tmp_mode {
        None => "no /tmp".to_string(),
        Some(mode) if mode & 0o002 == 0 && !(owner_runs && mode & 0o200 != 0) => {
            format!(
                "/tmp is {:o}: only its owner can create files there",
                mode & 0o7777
            )
        }
        Some(_) => return None,
    };
    let f = ask.import(&[
        "mkstemp", "mkstemps", "mkdtemp", "tmpfile", "tmpnam", "tempnam",
    ])?;
    Some(risk(
        RiskKind::Tmp,
        Severity::Warning,
        format!("imports {f}"),
        fact,
        "create /tmp with mode 1777 in the image (or mount a tmpfs there), or set TMPDIR",
    ))
}

/// Libraries the program loads with `dlopen` that the base does not hold: a warning when the
/// program recommends them (or names them beside `dlopen`), a note when only suggested. (A
/// missing `required` one is a problem of the prediction, `missing_library` via `dlopen`.)
fn dlopen_libraries(ask: &Ask, base: &BaseSide, _: &InEffect) -> Option<Risk> {
    let missing: Vec<(&DlopenDep, String)> = ask
        .0
        .dlopen
        .iter()
        .filter(|d| !dlopen::is_required(d))
        .filter_map(|d| Some((d, base.libraries.cannot_open(d)?)))
        .collect();
    missing.first()?;
    let severity = if missing.iter().all(|(d, _)| d.priority == "suggested") {
        Severity::Note
    } else {
        Severity::Warning
    };
    let evidence: Vec<String> = missing
        .iter()
        .map(|(d, _)| format!("{} ({}, {})", d.soname.join(" | "), d.priority, d.source))
        .collect();
    let facts: Vec<&str> = missing.iter().map(|(_, why)| why.as_str()).collect();
    // The package of what is missing: a library the entry names, or one such a library needs.
    let absent = |s: &str| facts.iter().any(|f| f.starts_with(&format!("no {s} ")));
    let package = crate::advice::PACKAGES
        .iter()
        .find(|(s, ..)| absent(s))
        .map(|(_, deb, apk)| format!(" (Debian {deb} / Alpine {apk})"))
        .unwrap_or_default();
    Some(risk(
        RiskKind::Dlopen,
        severity,
        format!("dlopen: {}", evidence.join(", ")),
        facts.join("; "),
        &format!(
            "install the package that provides it{package}, or ship it in a directory the program searches (its RUNPATH, LD_LIBRARY_PATH)"
        ),
    ))
}

#[cfg(test)]
mod tests;
