//! A package as the subject of a check: a Python wheel, a jar (war, ear) or a directory (a
//! virtualenv's site-packages). Every ELF file inside is placed as an installer would place it —
//! a wheel's files in a site-packages directory, so that `$ORIGIN/../<name>.libs` RUNPATHs find
//! the bundled libraries; a jar's native libraries at their path inside the jar, beside the
//! libraries the JVM extracts with them — then predicted (and verified) on each base with the
//! audit's machinery. A wheel's platform tag is compared with what its files need and with each
//! base ([`tags`]). Reading a package is [`read`]; the rest is pure.

pub mod read;
pub mod tags;

use serde::Serialize;

use crate::audit::TargetResult;
use crate::image::base::BaseProfile;
use crate::verdict::{Problem, Verdict};

/// What kind of package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageKind {
    Wheel,
    /// A jar, war or ear: a Java archive with native libraries inside.
    Jar,
    Directory,
}

impl PackageKind {
    /// The package kind a path names by its extension (`.whl`, `.jar`/`.war`/`.ear`); directories
    /// are told by the file system.
    pub fn of_extension(path: &std::path::Path) -> Option<PackageKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "whl" => Some(PackageKind::Wheel),
            "jar" | "war" | "ear" => Some(PackageKind::Jar),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            PackageKind::Wheel => "wheel",
            PackageKind::Jar => "Java archive",
            PackageKind::Directory => "directory",
        }
    }

    /// Where the package's files are placed in a base (the same for the prediction and the
    /// verifying container): a wheel's in a site-packages directory, the others' under one root.
    pub fn install_dir(self) -> &'static str {
        match self {
            PackageKind::Wheel => "/libccheck/package/site-packages",
            PackageKind::Jar | PackageKind::Directory => "/libccheck/package",
        }
    }
}

/// Where pip installs a wheel's member, relative to site-packages: the contents of
/// `<name>.data/purelib/` and `…/platlib/` go into site-packages like the rest of the wheel; the
/// other `.data` schemes (scripts, headers, data) go elsewhere in the environment and stay at their
/// path in the wheel.
pub fn wheel_install_path(member: &str) -> &str {
    let mut parts = member.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(data), Some("purelib" | "platlib"), Some(rest))
            if data.ends_with(".data") && !rest.is_empty() =>
        {
            rest
        }
        _ => member,
    }
}

/// Is a member name one that stays inside the package when installed (no absolute path, no `..`,
/// no NUL)?
pub fn member_is_enclosed(name: &str) -> bool {
    !name.starts_with('/')
        && !name.contains('\0')
        && !name.split(['/', '\\']).any(|part| part == "..")
}

/// Is this member a wheel's `<name>.dist-info/WHEEL` file (at the top of the wheel)?
pub fn is_wheel_metadata(member: &str) -> bool {
    member
        .split_once('/')
        .is_some_and(|(dir, file)| dir.ends_with(".dist-info") && file == "WHEEL")
}

/// A wheel's tags and what is wrong with them.
#[derive(Debug, Clone, Serialize)]
pub struct Wheel {
    #[serde(flatten)]
    pub name: tags::WheelName,
    /// The platform tags of the file name (compressed sets expanded).
    pub platforms: Vec<String>,
    /// The platform tags of the `*.dist-info/WHEEL` file's `Tag:` lines.
    pub wheel_file_platforms: Vec<String>,
    pub tag_findings: Vec<tags::Finding>,
}

impl Wheel {
    /// A wheel's tags checked against its ELF files (`files`: path in the wheel, profile).
    pub fn new(
        name: tags::WheelName,
        wheel_file: Option<&str>,
        files: &[(&str, &crate::elf::BinaryProfile)],
    ) -> Wheel {
        let platforms = name.platforms();
        let mut declared = wheel_file
            .map(tags::wheel_file_platforms)
            .unwrap_or_default();
        declared.dedup();
        let tag_findings = tags::check_tags(&platforms, &declared, files);
        Wheel {
            name,
            platforms,
            wheel_file_platforms: declared,
            tag_findings,
        }
    }

    /// Would pip on this base install the wheel?
    pub fn pip_on(&self, base: &BaseProfile) -> tags::Install {
        // The bases libccheck reads are x86-64 (loader::BASE_MACHINE).
        let arch = tags::tag_arch(crate::loader::BASE_MACHINE, "elf64", "little");
        tags::pip_installs(
            &self.platforms,
            base.libc,
            base.libc_version.as_deref(),
            &arch,
        )
    }
}

/// The package's result on one base: the audit of its files there, and whether pip would install
/// it (wheels).
#[derive(Debug, Clone, Serialize)]
pub struct BaseResult {
    #[serde(flatten)]
    pub target: TargetResult,
    pub required: bool,
    /// `works`, `fails` or `error`.
    pub verdict: PackageVerdict,
    /// One line: why it fails, or that every file loads.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pip: Option<tags::Install>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageVerdict {
    Works,
    Fails,
    Error,
}

impl std::fmt::Display for PackageVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PackageVerdict::Works => "works",
            PackageVerdict::Fails => "fails",
            PackageVerdict::Error => "error",
        })
    }
}

impl BaseResult {
    /// Judge a base: it works when every file loads and pip would install the package. Files are
    /// named by their path in the package from here on (`pkgdemo/_core.so`).
    pub fn new(mut target: TargetResult, required: bool, pip: Option<tags::Install>) -> BaseResult {
        relative_paths(&mut target);
        let refused = pip.as_ref().filter(|p| !p.installs);
        let verdict = if target.error.is_some() {
            PackageVerdict::Error
        } else if target.broken > 0 || refused.is_some() {
            PackageVerdict::Fails
        } else {
            PackageVerdict::Works
        };
        let summary = summarize(&target, refused);
        BaseResult {
            target,
            required,
            verdict,
            summary,
            pip,
        }
    }
}

/// At most this many causes are named in a base's one-line summary.
const CAUSES_SHOWN: usize = 2;

/// `1 of 50 files: pkg/_x.so: libfoo.so.1 not found`, `2 of 50 files: symbols not found (2
/// files)`, `pip refuses it (…); all 3 files load`.
fn summarize(t: &TargetResult, refused: Option<&tags::Install>) -> String {
    if let Some(e) = &t.error {
        return e.clone();
    }
    let files = match t.broken {
        0 if t.audited == 1 => "its file loads".to_string(),
        0 => format!("all {} files load", t.audited),
        1 => {
            let f = t.files.iter().find(|f| f.verdict != Verdict::Ok);
            let why = f.map(|f| format!("{}: {}", f.path, f.reason));
            format!("1 of {} files: {}", t.audited, why.unwrap_or_default())
        }
        n => format!("{n} of {} files: {}", t.audited, causes(&t.groups)),
    };
    match refused {
        Some(p) => format!("pip refuses it ({}); {files}", p.reason),
        None => files,
    }
}

/// `symbols not found (2 files); libz.so.1 missing (1 file); 3 more causes`
fn causes(groups: &[crate::audit::Group]) -> String {
    let mut causes: Vec<String> = groups
        .iter()
        .take(CAUSES_SHOWN)
        .map(|g| match g.files.len() {
            1 => format!("{} (1 file)", g.cause),
            n => format!("{} ({n} files)", g.cause),
        })
        .collect();
    match groups.len().saturating_sub(CAUSES_SHOWN) {
        0 => {}
        1 => causes.push("1 more cause".into()),
        more => causes.push(format!("{more} more causes")),
    }
    causes.join("; ")
}

/// A package file's path as the user knows it: relative to the package (`pkgdemo/_core.so`).
pub fn shown(path: &str) -> &str {
    path.trim_start_matches('/')
}

/// Name the files of a result by their paths in the package, the objects that need a missing
/// library, version or symbol too (the loader says `/pkg/../pkg.libs/libx.so`: `pkg.libs/libx.so`).
fn relative_paths(t: &mut TargetResult) {
    let relative = |p: &mut String| *p = shown(p).to_string();
    for f in &mut t.files {
        relative(&mut f.path);
        f.problems.iter_mut().for_each(relative_needed_by);
        if !f.problems.is_empty() {
            f.reason = crate::verdict::summarize(&f.problems);
        }
    }
    let grouped = t.groups.iter_mut().flat_map(|g| g.files.iter_mut());
    let at_risk = t.risks.iter_mut().flat_map(|g| g.files.iter_mut());
    grouped.chain(at_risk).for_each(relative);
}

fn relative_needed_by(p: &mut Problem) {
    let (Problem::MissingLibrary { needed_by, .. }
    | Problem::MissingVersion { needed_by, .. }
    | Problem::MissingSymbol { needed_by, .. }
    | Problem::Unsupported { needed_by, .. }
    | Problem::LoaderCrash { needed_by, .. }) = p
    else {
        return;
    };
    if let Some(n) = needed_by.as_mut().filter(|n| n.starts_with('/')) {
        *n = shown(&crate::image::base::normalize(n)).to_string();
    }
}

/// Does a base carry a run-time risk of severity warning (for `--fail-on-risk`)?
pub fn at_risk(b: &BaseResult) -> bool {
    b.target
        .risks
        .iter()
        .any(|g| g.severity == crate::verdict::Severity::Warning)
}

/// How the exit code is decided beyond the bases' verdicts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gate {
    pub allow_mismatch: bool,
    /// A required base with a run-time risk of severity warning fails.
    pub fail_on_risk: bool,
}

/// The exit code of a package check: 2 when a member could not be read, a required base gave no
/// answer, or a verification refuted a prediction (unless allowed); 1 when a required base fails
/// (or, with `fail_on_risk`, carries a warning); else 0.
pub fn exit_code(bases: &[BaseResult], unreadable: usize, gate: Gate) -> u8 {
    let required = || bases.iter().filter(|b| b.required);
    if unreadable > 0
        || required().any(|b| b.verdict == PackageVerdict::Error)
        || (!gate.allow_mismatch && bases.iter().any(|b| b.target.mismatches > 0))
    {
        2
    } else if required().any(|b| b.verdict == PackageVerdict::Fails)
        || (gate.fail_on_risk && required().any(at_risk))
    {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_members_are_placed_like_pip_places_them() {
        assert_eq!(
            wheel_install_path("pkg-1.0.data/platlib/pkg/_x.so"),
            "pkg/_x.so"
        );
        assert_eq!(
            wheel_install_path("pkg-1.0.data/purelib/pkg/a.py"),
            "pkg/a.py"
        );
        assert_eq!(
            wheel_install_path("pkg-1.0.data/scripts/tool"),
            "pkg-1.0.data/scripts/tool"
        );
        assert_eq!(wheel_install_path("pkg/_x.so"), "pkg/_x.so");
        assert_eq!(
            wheel_install_path("pkg.libs/libz-1a2b.so.1"),
            "pkg.libs/libz-1a2b.so.1"
        );
    }

    #[test]
    fn members_that_leave_the_package_are_refused() {
        assert!(member_is_enclosed("pkg/_x.so"));
        assert!(member_is_enclosed("pkg/..x/y"));
        for bad in ["../x.so", "pkg/../../x", "/etc/passwd", "a\\..\\b", "a\0b"] {
            assert!(!member_is_enclosed(bad), "{bad}");
        }
    }

    #[test]
    fn the_wheel_metadata_file() {
        assert!(is_wheel_metadata("pkg-1.0.dist-info/WHEEL"));
        assert!(!is_wheel_metadata("pkg-1.0.dist-info/RECORD"));
        assert!(!is_wheel_metadata("x/pkg-1.0.dist-info/WHEEL"));
    }

    fn target(broken: usize, audited: usize, error: Option<&str>) -> TargetResult {
        TargetResult {
            base: "b".into(),
            image: "i".into(),
            libc: None,
            audited,
            broken,
            mismatches: 0,
            groups: (0..broken)
                .map(|i| crate::audit::Group {
                    cause: format!("cause {i}"),
                    verdict: Verdict::MissingSymbol,
                    hint: None,
                    files: vec![format!("/f{i}.so")],
                })
                .collect(),
            risks: vec![],
            files: vec![],
            error: error.map(String::from),
            unverified: None,
        }
    }

    #[test]
    fn a_base_works_when_every_file_loads_and_pip_installs_it() {
        let refused = tags::Install {
            installs: false,
            reason: "manylinux_2_32_x86_64 needs glibc ≥ 2.32, the base has 2.31".into(),
        };
        let ok = BaseResult::new(target(0, 2, None), true, None);
        assert_eq!(
            (ok.verdict, ok.summary.as_str()),
            (PackageVerdict::Works, "all 2 files load")
        );
        let pip = BaseResult::new(target(0, 2, None), true, Some(refused.clone()));
        assert_eq!(pip.verdict, PackageVerdict::Fails);
        assert!(
            pip.summary.starts_with("pip refuses it (manylinux_2_32"),
            "{}",
            pip.summary
        );
        let broken = BaseResult::new(target(3, 50, None), false, None);
        assert_eq!(
            broken.summary,
            "3 of 50 files: cause 0 (1 file); cause 1 (1 file); 1 more cause"
        );
        let err = BaseResult::new(target(0, 2, Some("no such image")), true, None);
        assert_eq!(err.verdict, PackageVerdict::Error);
        let gate = Gate::default();
        assert_eq!(exit_code(std::slice::from_ref(&ok), 0, gate), 0);
        assert_eq!(
            exit_code(&[ok.clone(), broken.clone()], 0, gate),
            0,
            "not required"
        );
        assert_eq!(exit_code(&[ok.clone(), pip], 0, gate), 1);
        assert_eq!(exit_code(&[ok.clone(), err], 0, gate), 2);
        assert_eq!(exit_code(std::slice::from_ref(&ok), 1, gate), 2);
        let mut risky = ok;
        risky.target.risks.push(crate::audit::RiskGroup {
            kind: crate::verdict::RiskKind::ThreadStack,
            severity: crate::verdict::Severity::Warning,
            base_fact: "128 KiB".into(),
            fix: "-z stack-size".into(),
            files: vec!["m.so".into()],
        });
        assert_eq!(exit_code(std::slice::from_ref(&risky), 0, gate), 0);
        let fail_on_risk = Gate {
            fail_on_risk: true,
            ..gate
        };
        assert_eq!(exit_code(&[risky], 0, fail_on_risk), 1);
    }
}
