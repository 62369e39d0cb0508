//! Which libc a program runs with on a base: its own when it is static, the base's otherwise.

use super::{BaseSide, MUSL_THREAD_STACK};
use crate::elf::needs::RuntimeNeeds;
use crate::elf::{BinaryProfile, Kind};
use crate::image::base::LibcKind;

/// The libc whose run-time behaviour a program gets on a base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InEffect {
    /// The base's glibc, or glibc linked into a static program.
    Glibc { own: bool },
    /// The base's musl (with its version when known), or musl linked into a static program.
    Musl { own: bool, version: Option<String> },
    /// No libc: a Go program without cgo, or a base without one.
    None,
}

/// A musl version, compared by its numbers.
pub struct Musl(Option<(u32, u32, u32)>);

impl Musl {
    /// Is it at least `a.b.c`? An unknown version is taken to be a current one.
    pub fn at_least(&self, a: u32, b: u32, c: u32) -> bool {
        self.0.is_none_or(|v| v >= (a, b, c))
    }
}

impl InEffect {
    pub fn musl(&self) -> Option<Musl> {
        match self {
            InEffect::Musl { version, .. } => Some(Musl(version.as_deref().and_then(numbers))),
            _ => None,
        }
    }

    pub fn glibc(&self) -> bool {
        matches!(self, InEffect::Glibc { .. })
    }

    /// musl's default thread stack size for this program, when musl is in effect (80 KiB before
    /// 1.1.21, which is also when `PT_GNU_STACK` started to raise it; treated alike here).
    pub fn musl_thread_stack(&self) -> Option<u64> {
        let musl = self.musl()?;
        Some(if musl.at_least(1, 1, 21) {
            MUSL_THREAD_STACK
        } else {
            80 << 10
        })
    }

    /// `musl 1.2.5`, `the program's own static musl`.
    pub fn describe(&self) -> String {
        match self {
            InEffect::Musl { own: true, .. } => "the program's own static musl".into(),
            InEffect::Musl { version, .. } => match version {
                Some(v) => format!("musl {v}"),
                None => "musl".into(),
            },
            InEffect::Glibc { own: true } => "the program's own static glibc".into(),
            InEffect::Glibc { own: false } => "glibc".into(),
            InEffect::None => "no libc".into(),
        }
    }
}

fn numbers(v: &str) -> Option<(u32, u32, u32)> {
    let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next().flatten().unwrap_or(0)))
}

/// A static program brings its own libc: glibc's start files leave an ABI tag note, musl's do
/// not; a Go program without cgo has none at all.
pub fn in_effect(binary: &BinaryProfile, needs: &RuntimeNeeds, base: &BaseSide) -> InEffect {
    if matches!(binary.kind, Kind::Static | Kind::StaticPie) {
        // Go without cgo has no libc; with cgo linked statically, the C library's start files
        // tell as for any static program.
        let cgo = needs
            .go
            .as_ref()
            .is_some_and(|g| g.has_package("runtime/cgo"));
        return match (needs.go.is_some() && !cgo, &binary.abi_tag) {
            (true, _) => InEffect::None,
            (false, Some(_)) => InEffect::Glibc { own: true },
            (false, None) => InEffect::Musl {
                own: true,
                version: None,
            },
        };
    }
    match base.libc {
        // (A dynamic program's libc is the one whose loader the prediction used: the caller sets
        // `base.libc` from it when the base has both.)
        LibcKind::Glibc => InEffect::Glibc { own: false },
        LibcKind::Musl => InEffect::Musl {
            own: false,
            version: base.libc_version.map(String::from),
        },
        LibcKind::None => InEffect::None,
    }
}
