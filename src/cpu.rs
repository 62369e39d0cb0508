//! x86-64 ISA levels: what a program's GNU property note (`GNU_PROPERTY_X86_ISA_1_NEEDED`) asks of
//! the CPU, what a CPU offers (its `/proc/cpuinfo` flags, mapped the way glibc's `get_isa_level`
//! does: each level needs the one below it), and which loader enforces the note. Pure.
//!
//! Measured on Debian 12 (glibc 2.36, binutils 2.40): glibc's loader refuses a dynamic program
//! whose note (or a loaded library's) names a level the CPU lacks — "<path>: CPU ISA level is
//! lower than required", exit 127 — before any of its code runs. Its trace mode (`ldd`, the load
//! probe) does not check; static and static-pie programs are never checked. glibc added the
//! check in 2.33. musl's loader reads no `PT_GNU_PROPERTY` (its `map_library` looks at
//! `PT_DYNAMIC`, `PT_TLS`, `PT_GNU_RELRO` and `PT_GNU_STACK` only), so where it or no loader
//! runs the program, a missing level shows as SIGILL at the first instruction the CPU lacks.
//! gcc 12's `-march=x86-64-v3` alone marks nothing; `-Wl,-z,x86-64-v3` writes the note.

use crate::elf::BinaryProfile;
use crate::image::base::{BaseProfile, LibcKind};
use crate::loader::Prediction;
use crate::verdict::{Problem, Risk, RiskKind, Severity, Verdict};

/// One x86-64 ISA level: its bit in the note, its name, the `/proc/cpuinfo` flags glibc requires
/// for it (on top of the level below), and which CPUs lack it.
pub struct Level {
    pub bit: u32,
    pub name: &'static str,
    flags: &'static [&'static str],
    lacking: &'static str,
}

/// glibc's `sysdeps/x86/get-isa-level.h`, in `/proc/cpuinfo`'s names: `pni` is SSE3, `abm` is
/// LZCNT, `lahf_lm` is LAHF/SAHF in 64-bit mode.
pub const LEVELS: [Level; 4] = [
    Level {
        bit: 1,
        name: "x86-64-baseline",
        flags: &["cmov", "cx8", "fpu", "fxsr", "mmx", "sse", "sse2"],
        lacking: "no x86-64 CPU",
    },
    Level {
        bit: 2,
        name: "x86-64-v2",
        flags: &[
            "cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2",
        ],
        lacking: "CPUs before Nehalem (2008) and some virtual CPUs (qemu64) lack it",
    },
    Level {
        bit: 4,
        name: "x86-64-v3",
        flags: &["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"],
        lacking: "CPUs before Haswell (2013), Atom-class Celeron/Pentium and some virtual CPUs lack it",
    },
    Level {
        bit: 8,
        name: "x86-64-v4",
        flags: &["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"],
        lacking: "most CPUs lack it (AVX-512: Intel Xeon since Skylake-SP, AMD since Zen 4; not Intel's desktop CPUs since Alder Lake)",
    },
];

/// The first version of glibc whose loader checks the note.
const GLIBC_CHECKS_SINCE: [u32; 2] = [2, 33];

/// The note's bits from the level names the ELF reader gives (`x86-64-v3`, `unknown:0x10`).
pub fn bits_of(names: &[String]) -> u32 {
    names
        .iter()
        .filter_map(|n| match LEVELS.iter().find(|l| l.name == n) {
            Some(l) => Some(l.bit),
            None => n
                .strip_prefix("unknown:0x")
                .and_then(|h| u32::from_str_radix(h, 16).ok()),
        })
        .fold(0, |a, b| a | b)
}

/// The levels a CPU has, from the first `flags` line of its `/proc/cpuinfo`; `None` without one
/// (not an x86 CPU, or an unreadable file).
pub fn cpu_bits(cpuinfo: &str) -> Option<u32> {
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == "flags").then_some(value)
        })?
        .split_whitespace()
        .collect();
    let mut bits = 0;
    for level in &LEVELS {
        if !level.flags.iter().all(|f| flags.contains(f)) {
            break;
        }
        bits |= level.bit;
    }
    Some(bits)
}

/// The name of the highest level in `bits` (a CPU's: each level includes those below).
pub fn highest(bits: u32) -> &'static str {
    LEVELS
        .iter()
        .rev()
        .find(|l| bits & l.bit != 0)
        .map_or("less than x86-64-baseline", |l| l.name)
}

/// A CPU's bits from the name of its highest level.
pub fn bits_upto(name: &str) -> u32 {
    let mut bits = 0;
    for l in &LEVELS {
        bits |= l.bit;
        if l.name == name {
            return bits;
        }
    }
    0
}

/// The level a note's `bits` ask for, named: the highest known level, else the unknown bit.
pub fn level_name(bits: u32) -> String {
    let known = LEVELS.iter().fold(0, |a, l| a | l.bit);
    match bits & !known {
        0 => highest(bits).to_string(),
        unknown => format!("x86-64 ISA bit {unknown:#x}"),
    }
}

/// Who CPUs lacking `bits` are.
fn lacking(bits: u32) -> &'static str {
    let known = LEVELS.iter().fold(0, |a, l| a | l.bit);
    if bits & !known != 0 {
        return "a level no CPU has yet";
    }
    LEVELS
        .iter()
        .rev()
        .find(|l| bits & l.bit != 0)
        .map_or("", |l| l.lacking)
}

/// What a program and the libraries it loads ask of the CPU on one base, and whether the
/// loader there enforces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The note's bits, OR-ed over the program and the libraries it loads.
    pub bits: u32,
    /// The object asking the most: the program's name, or a library's path.
    pub by: String,
    /// `Ok` when the loader refuses to start the program on a CPU without the level; else why
    /// nothing stops it.
    pub enforced: Result<(), String>,
}

/// What the CPU decides for a program on one base: the level it asks for, and the
/// glibc-hwcaps copies of the libraries it loads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub need: Option<Need>,
    /// (level, the copy, the library it stands in for), glibc only.
    pub hwcaps: Vec<(&'static str, String, String)>,
}

/// The CPU-dependent facts of the program `name` (`profile`), predicted as `p` on `base`.
pub fn facts(profile: &BinaryProfile, name: &str, p: &Prediction, base: &BaseProfile) -> Facts {
    let hwcaps = match p.loader.as_deref() {
        Some("glibc") => hwcaps_copies(&p.loaded, |q| base.library_at(q).is_some()),
        _ => vec![],
    };
    Facts {
        need: need_of(profile, name, p, base),
        hwcaps,
    }
}

/// The risks of `facts` while the CPU is unknown.
pub fn risks(facts: &Facts) -> Vec<Risk> {
    facts
        .need
        .iter()
        .map(risk)
        .chain(hwcaps_risk(&facts.hwcaps, None))
        .collect()
}

/// What the program `name` (`profile`), loaded as `p` says on `base`, asks beyond the x86-64
/// baseline; `None` when nothing does.
pub fn need_of(
    profile: &BinaryProfile,
    name: &str,
    p: &Prediction,
    base: &BaseProfile,
) -> Option<Need> {
    let mut bits = bits_of(&profile.x86_isa_needed);
    let mut by = name.to_string();
    let mut most = bits;
    for (_, path) in &p.loaded {
        if let Some((_, lib)) = base.library_at(path) {
            let b = bits_of(&lib.profile.x86_isa_needed);
            bits |= b;
            if b > most {
                (most, by) = (b, path.clone());
            }
        }
    }
    if bits & !1 == 0 {
        return None;
    }
    let version = (base.libc == LibcKind::Glibc)
        .then_some(base.libc_version.as_deref())
        .flatten();
    let enforced = enforcement(p.loader.as_deref(), version);
    Some(Need { bits, by, enforced })
}

/// Does the loader that runs the program (`loader`: the prediction's `glibc`, `musl`, or none)
/// refuse it on a CPU without its level? `glibc`: the base's glibc release.
fn enforcement(loader: Option<&str>, glibc: Option<&str>) -> Result<(), String> {
    match loader {
        None => Err("a static program: no loader checks the note".into()),
        Some("musl") => Err("musl's loader ignores the note".into()),
        Some(_) => match glibc.and_then(crate::elf::version::dotted) {
            Some(v) if v.as_slice() < &GLIBC_CHECKS_SINCE[..] => Err(format!(
                "glibc {}'s loader predates the check (glibc 2.33) and ignores the note",
                glibc.unwrap_or_default()
            )),
            _ => Ok(()),
        },
    }
}

/// The fix for a program needing `level` on a CPU without it.
pub fn fix(level: Option<&str>) -> String {
    if let Some(unknown) = level.filter(|l| !LEVELS.iter().any(|k| k.name == *l)) {
        return format!(
            "rebuild without the {unknown} its GNU property note asks for: no CPU has that level"
        );
    }
    format!(
        "build for the level every target CPU has (drop -Wl,-z,{0} / -march={0}, or use -march=x86-64-v2 or the baseline), or deploy only to CPUs with {0}",
        level.unwrap_or("that ISA level")
    )
}

/// The risk of a program whose need is `need`, on CPUs the prediction cannot know.
pub fn risk(need: &Need) -> Risk {
    let level = level_name(need.bits);
    let consequence = match &need.enforced {
        Ok(()) => {
            "the loader refuses to start it there (\"CPU ISA level is lower than required\")".into()
        }
        Err(why) => format!(
            "{why}: the program starts and dies of SIGILL at the first instruction the CPU lacks"
        ),
    };
    Risk {
        kind: RiskKind::CpuLevel,
        severity: Severity::Warning,
        evidence: format!(
            "GNU property note of {}: x86 ISA needed {}",
            need.by,
            names(need.bits).join(", ")
        ),
        base_fact: format!("needs {level}: {}; {consequence}", lacking(need.bits)),
        fix: fix(Some(&level)),
    }
}

/// The note's bits, named as readelf does.
fn names(bits: u32) -> Vec<String> {
    let known: Vec<String> = LEVELS
        .iter()
        .filter(|l| bits & l.bit != 0)
        .map(|l| l.name.to_string())
        .collect();
    let unknown = bits & !LEVELS.iter().fold(0, |a, l| a | l.bit);
    let mut all = known;
    if unknown != 0 {
        all.push(format!("unknown:{unknown:#x}"));
    }
    all
}

/// The prediction once the CPU that runs it is known (`cpu`: its highest level, from the
/// probe's read of `/proc/cpuinfo`): `cpu_unsupported` where the CPU lacks the level and the
/// loader enforces it; else the risk says what this CPU does.
pub fn against_cpu(p: &mut Prediction, facts: &Facts, cpu: &str) {
    if let Some(r) = hwcaps_risk(&facts.hwcaps, Some(cpu))
        && let Some(old) = p
            .risks
            .iter_mut()
            .find(|o| o.kind == RiskKind::CpuLevel && o.severity == Severity::Note)
    {
        *old = r;
    }
    if let Some(need) = &facts.need {
        need_against_cpu(p, need, cpu);
    }
}

/// [`against_cpu`] for the level the program asks for.
fn need_against_cpu(p: &mut Prediction, need: &Need, cpu: &str) {
    let missing = need.bits & !bits_upto(cpu);
    let level = level_name(need.bits);
    let said = match (&need.enforced, missing) {
        (_, 0) => format!("; this CPU ({cpu}) has it"),
        (Ok(()), _) if p.verdict == Verdict::Ok => {
            let problem = Problem::CpuUnsupported {
                level: Some(level.clone()),
                cpu: Some(cpu.to_string()),
                needed_by: Some(need.by.clone()),
            };
            p.verdict = Verdict::CpuUnsupported;
            p.reason = crate::verdict::describe(&problem);
            p.problems.push(problem);
            p.hints.push(fix(Some(&level)));
            p.risks
                .retain(|r| !(r.kind == RiskKind::CpuLevel && r.severity == Severity::Warning));
            return;
        }
        (Ok(()), _) => return,
        (Err(_), _) => format!(
            "; this CPU ({cpu}) lacks it: the program starts here, and fails if it runs such an instruction"
        ),
    };
    if let Some(r) = p
        .risks
        .iter_mut()
        .find(|r| r.kind == RiskKind::CpuLevel && r.severity == Severity::Warning)
    {
        r.base_fact.push_str(&said);
    }
}

/// The glibc-hwcaps copies of the libraries a prediction loads: (level, the copy, the library
/// it stands in for). glibc ≥ 2.33 looks in `<dir>/glibc-hwcaps/x86-64-v4`, `-v3`, `-v2` (those
/// the CPU has, highest first) before `<dir>` itself, so on such CPUs the copy is what loads.
/// `has` says whether the base holds a library at a path.
pub fn hwcaps_copies(
    loaded: &[(String, String)],
    has: impl Fn(&str) -> bool,
) -> Vec<(&'static str, String, String)> {
    let mut found = Vec::new();
    for (_, path) in loaded {
        let Some((dir, file)) = path.rsplit_once('/') else {
            continue;
        };
        for level in LEVELS.iter().skip(1).rev() {
            let copy = format!("{dir}/glibc-hwcaps/{}/{file}", level.name);
            if has(&copy) {
                found.push((level.name, copy, path.clone()));
            }
        }
    }
    found
}

/// The note on a base whose glibc-hwcaps directories hold copies of libraries the program loads:
/// which copy loads depends on the CPU. `cpu`: the run's CPU level, when known.
pub fn hwcaps_risk(copies: &[(&'static str, String, String)], cpu: Option<&str>) -> Option<Risk> {
    let (level, copy, plain) = copies.first()?;
    let here = cpu.map(|c| {
        let upto = bits_upto(c);
        let chosen = copies
            .iter()
            .filter(|(l, _, p)| p == plain && upto & bits_upto(l) == bits_upto(l))
            .map(|(_, copy, _)| copy.as_str())
            .next()
            .unwrap_or(plain);
        format!("; this CPU ({c}) loads {chosen}")
    });
    Some(Risk {
        kind: RiskKind::CpuLevel,
        severity: Severity::Note,
        evidence: format!("loads {plain}"),
        base_fact: format!(
            "the base has a glibc-hwcaps copy: on CPUs with {level} glibc loads {copy} instead{}{}",
            if copies.len() > 1 {
                format!(" (and {} more such copies)", copies.len() - 1)
            } else {
                String::new()
            },
            here.unwrap_or_default()
        ),
        fix: "check the program on a CPU of each level it will meet, or remove the glibc-hwcaps copies from the base".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZEN4: &str = "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt xsave avx f16c lahf_lm abm bmi1 avx2 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl\n";
    const IVY_BRIDGE: &str = "flags\t\t: fpu cx8 cmov mmx fxsr sse sse2 pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm avx f16c\n";

    #[test]
    fn cpu_levels_from_cpuinfo_flags() {
        assert_eq!(cpu_bits(ZEN4), Some(0b1111));
        assert_eq!(highest(cpu_bits(ZEN4).unwrap()), "x86-64-v4");
        assert_eq!(highest(cpu_bits(IVY_BRIDGE).unwrap()), "x86-64-v2");
        // glibc's rule: v3's flags without v2's (no lahf_lm) are no v3.
        let odd = ZEN4.replace("lahf_lm ", "");
        assert_eq!(highest(cpu_bits(&odd).unwrap()), "x86-64-baseline");
        assert_eq!(cpu_bits("processor: 0\nFeatures: fp asimd\n"), None);
    }

    #[test]
    fn note_names_round_trip() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(bits_of(&n(&["x86-64-baseline", "x86-64-v3"])), 0b101);
        assert_eq!(bits_of(&n(&["x86-64-v4", "unknown:0x10"])), 0x18);
        assert_eq!(
            names(0x19),
            ["x86-64-baseline", "x86-64-v4", "unknown:0x10"]
        );
        assert_eq!(bits_upto("x86-64-v3"), 0b111);
        assert_eq!(level_name(0b101), "x86-64-v3");
        assert!(level_name(0x11).contains("0x10"));
    }

    fn prediction(loader: Option<&str>) -> Prediction {
        Prediction {
            loader: loader.map(str::to_string),
            ..Prediction::new(Verdict::Ok, "ok")
        }
    }

    fn need(bits: u32, enforced: Result<(), String>) -> Need {
        Need {
            bits,
            by: "prog".into(),
            enforced,
        }
    }

    #[test]
    fn a_risk_names_the_level_and_who_lacks_it() {
        let r = risk(&need(0b101, Ok(())));
        assert_eq!(r.kind, RiskKind::CpuLevel);
        assert!(
            r.base_fact
                .starts_with("needs x86-64-v3: CPUs before Haswell (2013)"),
            "{r:?}"
        );
        assert!(r.base_fact.contains("CPU ISA level is lower than required"));
        let r = risk(&need(0b101, Err("musl's loader ignores the note".into())));
        assert!(
            r.base_fact
                .contains("musl's loader ignores the note: the program starts and dies of SIGILL"),
            "{r:?}"
        );
    }

    #[test]
    fn the_cpu_decides_where_the_loader_enforces() {
        let enforced = need(0b1001, Ok(()));
        let mut p = prediction(Some("glibc"));
        p.risks.push(risk(&enforced));
        need_against_cpu(&mut p, &enforced, "x86-64-v3");
        assert_eq!(p.verdict, Verdict::CpuUnsupported);
        assert_eq!(
            p.reason,
            "prog needs x86-64-v4, which this CPU lacks (it has x86-64-v3)"
        );
        assert!(p.risks.is_empty());

        let mut p = prediction(Some("glibc"));
        p.risks.push(risk(&enforced));
        need_against_cpu(&mut p, &enforced, "x86-64-v4");
        assert_eq!(p.verdict, Verdict::Ok);
        assert!(
            p.risks[0]
                .base_fact
                .ends_with("this CPU (x86-64-v4) has it")
        );

        let ignored = need(0b1001, Err("musl's loader ignores the note".into()));
        let mut p = prediction(Some("musl"));
        p.risks.push(risk(&ignored));
        need_against_cpu(&mut p, &ignored, "x86-64-v2");
        assert_eq!(p.verdict, Verdict::Ok);
        assert!(
            p.risks[0]
                .base_fact
                .contains("this CPU (x86-64-v2) lacks it")
        );
    }

    #[test]
    fn glibc_hwcaps_copies_of_loaded_libraries() {
        let loaded = vec![
            (
                "libz.so.1".to_string(),
                "/usr/lib/x86_64-linux-gnu/libz.so.1".to_string(),
            ),
            (
                "libc.so.6".to_string(),
                "/usr/lib/x86_64-linux-gnu/libc.so.6".to_string(),
            ),
        ];
        let has = |p: &str| p == "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1";
        let copies = hwcaps_copies(&loaded, has);
        assert_eq!(
            copies,
            vec![(
                "x86-64-v3",
                "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1".to_string(),
                "/usr/lib/x86_64-linux-gnu/libz.so.1".to_string()
            )]
        );
        let r = hwcaps_risk(&copies, None).unwrap();
        assert_eq!(r.severity, Severity::Note);
        assert!(r.base_fact.contains("on CPUs with x86-64-v3 glibc loads /usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1 instead"), "{r:?}");
        let r = hwcaps_risk(&copies, Some("x86-64-v2")).unwrap();
        assert!(
            r.base_fact
                .ends_with("this CPU (x86-64-v2) loads /usr/lib/x86_64-linux-gnu/libz.so.1"),
            "{r:?}"
        );
        let r = hwcaps_risk(&copies, Some("x86-64-v4")).unwrap();
        assert!(
            r.base_fact
                .ends_with("loads /usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1"),
            "{r:?}"
        );
        assert!(hwcaps_copies(&loaded, |_| false).is_empty());
    }

    #[test]
    fn glibc_before_2_33_does_not_check() {
        assert!(
            enforcement(Some("glibc"), Some("2.31"))
                .unwrap_err()
                .contains("2.31")
        );
        assert_eq!(enforcement(Some("glibc"), Some("2.36")), Ok(()));
        assert!(enforcement(None, Some("2.36")).is_err());
        assert!(enforcement(Some("musl"), None).is_err());
    }
}
