//! Wheel tags: what a wheel's platform tag promises (PEP 425 file names, PEP 600 `manylinux`,
//! PEP 656 `musllinux`), checked against what its ELF files need and against what a base has.
//! Pure: no I/O.

use serde::Serialize;

use crate::elf::{BinaryProfile, LibcFlavour};
use crate::image::base::LibcKind;

/// A libc version as a tag spells it: `manylinux_2_17` → (2, 17).
pub type LibcVersion = (u32, u32);

/// The parts of a wheel's file name: `name-version(-build)?-python-abi-platform.whl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WheelName {
    pub distribution: String,
    pub version: String,
    pub build: Option<String>,
    pub python: String,
    pub abi: String,
    /// As written: compressed tags are `.`-joined (`manylinux_2_17_x86_64.manylinux2014_x86_64`).
    pub platform: String,
}

impl WheelName {
    /// Parse a wheel's file name (the path's last component).
    pub fn parse(file_name: &str) -> Result<WheelName, String> {
        let stem = file_name
            .strip_suffix(".whl")
            .ok_or_else(|| format!("{file_name}: a wheel's name ends in .whl"))?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (build, rest) = match parts.len() {
            5 => (None, &parts[2..]),
            6 => (Some(parts[2].to_string()), &parts[3..]),
            _ => {
                return Err(format!(
                    "{file_name}: not a wheel name (name-version-python-abi-platform.whl)"
                ));
            }
        };
        if parts.iter().any(|p| p.is_empty()) {
            return Err(format!("{file_name}: a part of the wheel name is empty"));
        }
        Ok(WheelName {
            distribution: parts[0].to_string(),
            version: parts[1].to_string(),
            build,
            python: rest[0].to_string(),
            abi: rest[1].to_string(),
            platform: rest[2].to_string(),
        })
    }

    /// The platform tags, compressed sets expanded.
    pub fn platforms(&self) -> Vec<String> {
        self.platform.split('.').map(String::from).collect()
    }

    /// `python-abi-platform` as written in the name.
    pub fn tag(&self) -> String {
        format!("{}-{}-{}", self.python, self.abi, self.platform)
    }
}

/// The platform part of each `Tag:` line of a `*.dist-info/WHEEL` file (one tag per line).
pub fn wheel_file_platforms(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("Tag:"))
        .filter_map(|t| t.trim().rsplit('-').next().map(String::from))
        .filter(|p| !p.is_empty())
        .collect()
}

/// What one platform tag promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platform {
    /// glibc at least this version, on `arch`.
    Manylinux { glibc: LibcVersion, arch: String },
    /// musl at least this version, on `arch`.
    Musllinux { musl: LibcVersion, arch: String },
    /// Any Linux of `arch`: no libc promise (PyPI refuses these).
    Linux { arch: String },
    /// Pure Python.
    Any,
    /// Another operating system's tag (`macosx_…`, `win_amd64`).
    Other(String),
}

/// The legacy manylinux names and the glibc they stand for (PEP 600).
const LEGACY_MANYLINUX: [(&str, LibcVersion); 3] = [
    ("manylinux1_", (2, 5)),
    ("manylinux2010_", (2, 12)),
    ("manylinux2014_", (2, 17)),
];

/// Interpret a platform tag.
pub fn platform(tag: &str) -> Platform {
    if tag == "any" {
        return Platform::Any;
    }
    for (prefix, glibc) in LEGACY_MANYLINUX {
        if let Some(arch) = tag.strip_prefix(prefix) {
            return Platform::Manylinux {
                glibc,
                arch: arch.into(),
            };
        }
    }
    let versioned = |rest: &str| -> Option<(LibcVersion, String)> {
        let mut p = rest.splitn(3, '_');
        let major = p.next()?.parse().ok()?;
        let minor = p.next()?.parse().ok()?;
        let arch = p.next().filter(|a| !a.is_empty())?;
        Some(((major, minor), arch.to_string()))
    };
    if let Some((glibc, arch)) = tag.strip_prefix("manylinux_").and_then(versioned) {
        return Platform::Manylinux { glibc, arch };
    }
    if let Some((musl, arch)) = tag.strip_prefix("musllinux_").and_then(versioned) {
        return Platform::Musllinux { musl, arch };
    }
    match tag.strip_prefix("linux_") {
        Some(arch) if !arch.is_empty() => Platform::Linux { arch: arch.into() },
        _ => Platform::Other(tag.into()),
    }
}

/// The architecture a wheel tag uses for an ELF machine (`x86-64` → `x86_64`).
pub fn tag_arch(machine: &str, class: &str, endian: &str) -> String {
    match machine {
        "x86-64" => "x86_64".into(),
        "i386" => "i686".into(),
        "arm" => "armv7l".into(),
        "ppc64" if endian == "little" => "ppc64le".into(),
        "s390" if class == "elf64" => "s390x".into(),
        "riscv" if class == "elf64" => "riscv64".into(),
        other => other.into(),
    }
}

fn arch_of(p: &BinaryProfile) -> String {
    tag_arch(&p.machine, &p.class, &p.endian)
}

fn dotted((major, minor): LibcVersion) -> String {
    format!("{major}.{minor}")
}

fn underscored((major, minor): LibcVersion) -> String {
    format!("{major}_{minor}")
}

/// `2.34` → (2, 34); `2.2.5` → (2, 2) (a tag has two numbers).
fn parse_version(v: &str) -> Option<LibcVersion> {
    let mut p = v.split('.');
    Some((p.next()?.parse().ok()?, p.next()?.parse().ok()?))
}

/// How wrong a tag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The tag promises what the files do not keep: pip installs it where it cannot load.
    Wrong,
    /// Worth knowing, not a breakage (a stricter tag than needed, a name and WHEEL that differ).
    Note,
}

/// One finding about a wheel's tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
    /// The platform tag the files call for, when there is one to suggest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested: Option<String>,
}

impl Finding {
    fn wrong(message: String, suggested: Option<String>) -> Finding {
        Finding {
            severity: Severity::Wrong,
            message,
            suggested,
        }
    }
    fn note(message: String, suggested: Option<String>) -> Finding {
        Finding {
            severity: Severity::Note,
            message,
            suggested,
        }
    }
}

/// What the wheel's ELF files need of a platform, from their profiles.
struct Needs<'a> {
    /// The file needing the highest glibc, its version and the symbols that force it.
    glibc: Option<(&'a str, LibcVersion, String)>,
    /// The first file linked against musl, with the evidence.
    musl: Option<(&'a str, String)>,
    /// The first file linked against glibc (a glibc loader or GLIBC_ versions).
    glibc_linked: Option<&'a str>,
    /// The architecture the files are for (the first file's).
    arch: Option<String>,
}

fn needs<'a>(files: &[(&'a str, &'a BinaryProfile)]) -> Needs<'a> {
    let mut n = Needs {
        glibc: None,
        musl: None,
        glibc_linked: None,
        arch: files.first().map(|(_, p)| arch_of(p)),
    };
    for &(path, p) in files {
        if let Some((v, h)) = p
            .glibc_min()
            .and_then(parse_version)
            .zip(p.highest("GLIBC"))
            && n.glibc.as_ref().is_none_or(|(_, best, _)| v > *best)
        {
            let why = crate::text::short_list(&h.symbols, 2);
            n.glibc = Some((path, v, why));
        }
        match p.libc.flavour {
            LibcFlavour::Musl if n.musl.is_none() => {
                n.musl = Some((path, p.libc.evidence.join(", ")));
            }
            LibcFlavour::Glibc
                if n.glibc_linked.is_none()
                    && (p.highest("GLIBC").is_some()
                        || p.interpreter
                            .as_deref()
                            .is_some_and(crate::elf::is_glibc_loader)) =>
            {
                n.glibc_linked = Some(path);
            }
            _ => {}
        }
    }
    n
}

/// The tag the files call for: manylinux at the glibc they need (at least manylinux1's 2.5),
/// musllinux_1_2 for musl-linked files, none when nothing says which libc.
fn suggested_tag(n: &Needs, arch: &str) -> Option<String> {
    if n.musl.is_some() {
        return Some(format!("musllinux_1_2_{arch}"));
    }
    let glibc = n.glibc.as_ref().map(|(_, v, _)| *v)?.max((2, 5));
    Some(format!("manylinux_{}_{arch}", underscored(glibc)))
}

/// Compare the platform tags of a wheel (from its file name; `declared` from its WHEEL file)
/// with what its ELF files need: say where the tag is wrong and what it should be.
pub fn check_tags(
    platforms: &[String],
    declared: &[String],
    files: &[(&str, &BinaryProfile)],
) -> Vec<Finding> {
    let mut out = Vec::new();
    if !declared.is_empty() && sorted(declared) != sorted(platforms) {
        out.push(Finding::note(
            format!(
                "the WHEEL file says {} but the file name says {}; pip goes by the file name",
                declared.join("."),
                platforms.join(".")
            ),
            None,
        ));
    }
    if files.is_empty() {
        return out;
    }
    let n = needs(files);
    let parsed: Vec<Platform> = platforms.iter().map(|t| platform(t)).collect();
    let tagged_arch = parsed.iter().find_map(|p| match p {
        Platform::Manylinux { arch, .. }
        | Platform::Musllinux { arch, .. }
        | Platform::Linux { arch } => Some(arch.clone()),
        _ => None,
    });
    let arch = tagged_arch
        .clone()
        .or(n.arch.clone())
        .unwrap_or_else(|| "x86_64".into());
    let suggested = suggested_tag(&n, n.arch.as_deref().unwrap_or(&arch));
    if parsed.iter().all(|p| *p == Platform::Any) {
        out.push(Finding::wrong(
            format!(
                "tagged any (pure Python) but it holds {} ELF file{} ({}): pip installs it on every platform",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                files[0].0
            ),
            suggested.clone(),
        ));
        return out;
    }
    if let Some(t) = &tagged_arch
        && let Some((path, p)) = files.iter().find(|(_, p)| arch_of(p) != *t)
    {
        out.push(Finding::wrong(
            format!("tagged {t} but {path} is {}", p.machine),
            None,
        ));
    }
    let manylinux = parsed
        .iter()
        .filter_map(|p| match p {
            Platform::Manylinux { glibc, .. } => Some(*glibc),
            _ => None,
        })
        // pip takes the wheel where any of its tags fits: the lowest glibc is what it promises.
        .min();
    let musllinux = parsed
        .iter()
        .any(|p| matches!(p, Platform::Musllinux { .. }));
    let linux_only = parsed.iter().any(|p| matches!(p, Platform::Linux { .. }))
        && manylinux.is_none()
        && !musllinux;
    if let Some(promised) = manylinux {
        out.extend(manylinux_findings(promised, &n, &arch, suggested.clone()));
    }
    if musllinux && let Some(path) = n.glibc_linked {
        let needed = n
            .glibc
            .as_ref()
            .map(|(_, v, _)| format!(" (GLIBC_{})", dotted(*v)))
            .unwrap_or_default();
        out.push(Finding::wrong(
            format!("tagged musllinux but {path} is linked against glibc{needed}"),
            suggested.clone(),
        ));
    }
    if linux_only {
        let libc = match (&n.musl, &n.glibc) {
            (Some(_), _) => " the files are linked against musl;".to_string(),
            (None, Some((_, v, _))) => format!(" the files need glibc ≥ {};", dotted(*v)),
            (None, None) => String::new(),
        };
        out.push(Finding::note(
            format!(
                "tagged {} (no libc promise): pip installs it on any Linux and PyPI refuses it;{libc} a manylinux or musllinux tag says what it needs",
                platforms.join(".")
            ),
            suggested,
        ));
    }
    out
}

/// A manylinux tag promising glibc ≥ `promised`, against the files.
fn manylinux_findings(
    promised: LibcVersion,
    n: &Needs,
    arch: &str,
    suggested: Option<String>,
) -> Vec<Finding> {
    let tag = format!("manylinux_{}", underscored(promised));
    if let Some((path, evidence)) = &n.musl {
        return vec![Finding::wrong(
            format!("tagged manylinux but {path} is linked against musl ({evidence})"),
            suggested,
        )];
    }
    let Some((path, needed, why)) = &n.glibc else {
        return vec![];
    };
    let should = format!("manylinux_{}_{arch}", underscored(*needed));
    if *needed > promised {
        return vec![Finding::wrong(
            format!(
                "tagged {tag} but {path} needs GLIBC_{} (because of {why}) → the tag should be {should}",
                dotted(*needed)
            ),
            Some(should),
        )];
    }
    // manylinux2014 (glibc 2.17) is the oldest tag builders still use: asking for less is no news.
    let oldest_in_use = (2, 17);
    if promised > (*needed).max(oldest_in_use) {
        return vec![Finding::note(
            format!(
                "tagged {tag} but the files need at most GLIBC_{}: {should} would install on more systems",
                dotted(*needed)
            ),
            Some(should),
        )];
    }
    vec![]
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut s: Vec<&str> = v.iter().map(String::as_str).collect();
    s.sort_unstable();
    s.dedup();
    s
}

/// Whether pip on a base would install the wheel at all, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Install {
    pub installs: bool,
    pub reason: String,
}

/// Would pip on a base with this libc (and version) on `arch` (a tag's architecture) take a wheel
/// with these platform tags? The first tag that fits decides; when none does, the first tag's
/// reason is given. (pip also checks the Python and ABI tags; the bases here may have no Python.)
pub fn pip_installs(
    platforms: &[String],
    libc: LibcKind,
    version: Option<&str>,
    arch: &str,
) -> Install {
    let answers: Vec<Install> = platforms
        .iter()
        .map(|t| pip_takes(t, libc, version.and_then(parse_version), arch))
        .collect();
    answers
        .iter()
        .find(|a| a.installs)
        .or(answers.first())
        .cloned()
        .unwrap_or(Install {
            installs: false,
            reason: "no platform tag".into(),
        })
}

fn pip_takes(tag: &str, libc: LibcKind, version: Option<LibcVersion>, arch: &str) -> Install {
    let yes = |reason: String| Install {
        installs: true,
        reason,
    };
    let no = |reason: String| Install {
        installs: false,
        reason,
    };
    let base_version = |v: Option<LibcVersion>| v.map(dotted).unwrap_or_else(|| "?".into());
    match platform(tag) {
        Platform::Any => yes("pure Python (any)".into()),
        Platform::Other(t) => no(format!("{t} is not a Linux tag")),
        Platform::Manylinux { arch: a, .. }
        | Platform::Musllinux { arch: a, .. }
        | Platform::Linux { arch: a }
            if a != arch =>
        {
            no(format!("tagged {a}, the base is {arch}"))
        }
        Platform::Linux { .. } => yes(format!("{tag}: any Linux on {arch}")),
        Platform::Manylinux { glibc, .. } => match libc {
            LibcKind::Glibc if version.is_none_or(|v| v >= glibc) => yes(format!(
                "{tag}: glibc {} ≥ {}",
                base_version(version),
                dotted(glibc)
            )),
            LibcKind::Glibc => no(format!(
                "{tag} needs glibc ≥ {}, the base has {}",
                dotted(glibc),
                base_version(version)
            )),
            LibcKind::Musl => no(format!("{tag} needs glibc, the base has musl")),
            LibcKind::None => no(format!("{tag} needs glibc, the base has no libc")),
        },
        Platform::Musllinux { musl, .. } => match libc {
            LibcKind::Musl if version.is_none_or(|v| v >= musl) => yes(format!(
                "{tag}: musl {} ≥ {}",
                base_version(version),
                dotted(musl)
            )),
            LibcKind::Musl => no(format!(
                "{tag} needs musl ≥ {}, the base has {}",
                dotted(musl),
                base_version(version)
            )),
            LibcKind::Glibc => no(format!("{tag} needs musl, the base has glibc")),
            LibcKind::None => no(format!("{tag} needs musl, the base has no libc")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::{HighestVersion, Kind, Libc};

    fn tags(s: &str) -> Vec<String> {
        s.split('.').map(String::from).collect()
    }

    fn glibc_module(glibc: &str, symbol: &str) -> BinaryProfile {
        let mut p = BinaryProfile::empty(Kind::SharedObject);
        p.needed = vec!["libc.so.6".into()];
        p.libc = Libc {
            flavour: LibcFlavour::Glibc,
            evidence: vec!["needs libc.so.6".into()],
        };
        p.highest_versions = vec![HighestVersion {
            family: "GLIBC".into(),
            version: format!("GLIBC_{glibc}"),
            library: "libc.so.6".into(),
            symbols: vec![symbol.into()],
        }];
        p
    }

    fn musl_module() -> BinaryProfile {
        let mut p = BinaryProfile::empty(Kind::SharedObject);
        p.needed = vec!["libc.musl-x86_64.so.1".into()];
        p.libc = Libc {
            flavour: LibcFlavour::Musl,
            evidence: vec!["needs libc.musl-x86_64.so.1 (no version suffix)".into()],
        };
        p
    }

    #[test]
    fn wheel_names_with_and_without_a_build_tag() {
        let w = WheelName::parse("pkgdemo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl").unwrap();
        assert_eq!(
            (
                w.distribution.as_str(),
                w.version.as_str(),
                w.build.as_deref()
            ),
            ("pkgdemo", "1.0", None)
        );
        assert_eq!(w.tag(), "cp311-cp311-manylinux_2_17_x86_64");
        let w = WheelName::parse(
            "numpy-2.0.0-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.build.as_deref(), Some("1"));
        assert_eq!(
            w.platforms(),
            ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
        );
        for bad in ["pkg-1.0.whl", "pkg-1.0-py3-none-any.zip", "a--b-c-d-e.whl"] {
            assert!(WheelName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn platform_tags_and_their_legacy_aliases() {
        let m = |g, a: &str| Platform::Manylinux {
            glibc: g,
            arch: a.into(),
        };
        assert_eq!(platform("manylinux_2_28_x86_64"), m((2, 28), "x86_64"));
        assert_eq!(platform("manylinux1_x86_64"), m((2, 5), "x86_64"));
        assert_eq!(platform("manylinux2010_i686"), m((2, 12), "i686"));
        assert_eq!(platform("manylinux2014_aarch64"), m((2, 17), "aarch64"));
        assert_eq!(
            platform("musllinux_1_2_x86_64"),
            Platform::Musllinux {
                musl: (1, 2),
                arch: "x86_64".into()
            }
        );
        assert_eq!(
            platform("linux_x86_64"),
            Platform::Linux {
                arch: "x86_64".into()
            }
        );
        assert_eq!(platform("any"), Platform::Any);
        assert_eq!(platform("win_amd64"), Platform::Other("win_amd64".into()));
        assert_eq!(
            platform("manylinux_2_x86_64"),
            Platform::Other("manylinux_2_x86_64".into())
        );
    }

    #[test]
    fn the_wheel_files_tag_lines() {
        let text = "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n";
        assert_eq!(
            wheel_file_platforms(text),
            ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
        );
    }

    #[test]
    fn a_glibc_need_above_the_tag_is_wrong_and_names_the_right_tag() {
        let lib = glibc_module("2.32", "strerrorname_np");
        let core = glibc_module("2.2.5", "__cxa_finalize");
        let files = [
            ("pkgdemo/_core.so", &core),
            ("pkgdemo.libs/libdep.so.1", &lib),
        ];
        let f = check_tags(&tags("manylinux_2_17_x86_64"), &[], &files);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Wrong);
        assert_eq!(
            f[0].message,
            "tagged manylinux_2_17 but pkgdemo.libs/libdep.so.1 needs GLIBC_2.32 (because of strerrorname_np) → the tag should be manylinux_2_32_x86_64"
        );
        assert_eq!(f[0].suggested.as_deref(), Some("manylinux_2_32_x86_64"));
        // The legacy alias means the same glibc.
        let f = check_tags(&tags("manylinux2014_x86_64"), &[], &files);
        assert!(
            f[0].message.starts_with("tagged manylinux_2_17 but"),
            "{f:?}"
        );
        // Tagged right: nothing to say.
        assert!(check_tags(&tags("manylinux_2_32_x86_64"), &[], &files).is_empty());
        // A compressed set promises its lowest glibc.
        let f = check_tags(
            &tags("manylinux_2_34_x86_64.manylinux_2_17_x86_64"),
            &[],
            &files,
        );
        assert_eq!(f[0].severity, Severity::Wrong);
    }

    #[test]
    fn a_tag_much_stricter_than_needed_is_a_note() {
        let lib = glibc_module("2.28", "statx");
        let files = [("m.so", &lib)];
        let f = check_tags(&tags("manylinux_2_34_x86_64"), &[], &files);
        assert_eq!(f[0].severity, Severity::Note);
        assert!(
            f[0].message
                .contains("manylinux_2_28_x86_64 would install on more systems")
        );
        // Below manylinux2014 nobody asks for less: no note.
        let old = glibc_module("2.14", "memcpy");
        assert!(check_tags(&tags("manylinux2014_x86_64"), &[], &[("m.so", &old)]).is_empty());
    }

    #[test]
    fn the_libc_family_and_the_architecture_must_match() {
        let musl = musl_module();
        let f = check_tags(&tags("manylinux_2_17_x86_64"), &[], &[("m.so", &musl)]);
        assert_eq!(f[0].severity, Severity::Wrong);
        assert!(
            f[0].message
                .starts_with("tagged manylinux but m.so is linked against musl"),
            "{f:?}"
        );
        assert_eq!(f[0].suggested.as_deref(), Some("musllinux_1_2_x86_64"));
        let glibc = glibc_module("2.17", "memcpy");
        let f = check_tags(&tags("musllinux_1_2_x86_64"), &[], &[("m.so", &glibc)]);
        assert_eq!(
            f[0].message,
            "tagged musllinux but m.so is linked against glibc (GLIBC_2.17)"
        );
        assert!(check_tags(&tags("musllinux_1_2_x86_64"), &[], &[("m.so", &musl)]).is_empty());
        let mut arm = glibc_module("2.17", "memcpy");
        arm.machine = "aarch64".into();
        let f = check_tags(&tags("manylinux_2_17_x86_64"), &[], &[("m.so", &arm)]);
        assert_eq!(f[0].message, "tagged x86_64 but m.so is aarch64");
    }

    #[test]
    fn pure_and_plain_linux_tags_on_native_code() {
        let lib = glibc_module("2.28", "statx");
        let f = check_tags(&tags("any"), &[], &[("m.so", &lib)]);
        assert_eq!(f[0].severity, Severity::Wrong);
        assert_eq!(f[0].suggested.as_deref(), Some("manylinux_2_28_x86_64"));
        let f = check_tags(&tags("linux_x86_64"), &[], &[("m.so", &lib)]);
        assert_eq!(f[0].severity, Severity::Note);
        assert!(f[0].message.contains("need glibc ≥ 2.28"), "{f:?}");
    }

    #[test]
    fn a_wheel_file_that_disagrees_with_the_name_is_a_note() {
        let lib = glibc_module("2.17", "memcpy");
        let f = check_tags(
            &tags("manylinux_2_17_x86_64"),
            &tags("manylinux_2_28_x86_64"),
            &[("m.so", &lib)],
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("pip goes by the file name"));
    }

    #[test]
    fn pip_installs_by_libc_family_version_and_architecture() {
        let on = |t: &str, libc, v: Option<&str>| pip_installs(&tags(t), libc, v, "x86_64");
        assert!(on("manylinux_2_17_x86_64", LibcKind::Glibc, Some("2.31")).installs);
        let r = on("manylinux_2_32_x86_64", LibcKind::Glibc, Some("2.31"));
        assert_eq!(
            r,
            Install {
                installs: false,
                reason: "manylinux_2_32_x86_64 needs glibc ≥ 2.32, the base has 2.31".into()
            }
        );
        assert!(!on("manylinux_2_17_x86_64", LibcKind::Musl, Some("1.2.5")).installs);
        assert!(!on("manylinux_2_17_x86_64", LibcKind::None, None).installs);
        assert!(on("musllinux_1_2_x86_64", LibcKind::Musl, Some("1.2.5")).installs);
        assert!(!on("musllinux_1_2_x86_64", LibcKind::Musl, Some("1.1.24")).installs);
        assert!(!on("musllinux_1_2_x86_64", LibcKind::Glibc, Some("2.36")).installs);
        assert!(!on("manylinux_2_17_aarch64", LibcKind::Glibc, Some("2.36")).installs);
        assert!(on("linux_x86_64", LibcKind::Musl, None).installs);
        assert!(on("any", LibcKind::None, None).installs);
        // Any tag of a compressed set that fits is enough.
        assert!(
            on(
                "musllinux_1_2_x86_64.manylinux_2_17_x86_64",
                LibcKind::Glibc,
                Some("2.36")
            )
            .installs
        );
    }
}
