//! Smaller bases: the bases a program was checked on, ranked by image size, and the smallest one
//! where it works. Pure: the caller says how big each image is, where that figure comes from and
//! how the program fared there.
//!
//! Sizes are uncompressed bytes, as Docker reports a local image (`docker image inspect`'s
//! `Size`); the offline catalog records its figures the same way.

use serde::{Deserialize, Serialize};

use crate::verdict::Verdict;

/// Where an image's size comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeFrom {
    /// The local image, as the Docker daemon reports it (or computed the same way from the
    /// layers of an image read without it: regular files and symbolic links of every layer).
    Local,
    /// The offline catalog (each entry's `size_source` says where its figure comes from).
    Catalog,
}

/// An image's size in uncompressed bytes, and where the figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub bytes: u64,
    pub from: SizeFrom,
}

/// A base the program was checked on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The base's name as the user gave it (an alias or an image reference).
    pub base: String,
    pub image: String,
    /// `None` when no figure is known.
    pub size: Option<Size>,
    /// The program's verdict there (the run's, or the prediction's without a run).
    pub verdict: Verdict,
    /// A run-time risk of severity warning stands there.
    pub at_risk: bool,
}

impl Candidate {
    /// The program works there: it loads (or ran) and no warning-level risk stands. A base where
    /// it loads but may then fail (no CA bundle, musl's small thread stacks) is no base to
    /// recommend.
    pub fn works(&self) -> bool {
        self.verdict == Verdict::Ok && !self.at_risk
    }
}

/// A candidate in the ranking, with the answer to "does it work there".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranked {
    pub base: String,
    pub image: String,
    pub size: Option<Size>,
    pub verdict: Verdict,
    pub at_risk: bool,
    pub works: bool,
}

impl From<&Candidate> for Ranked {
    fn from(c: &Candidate) -> Ranked {
        Ranked {
            base: c.base.clone(),
            image: c.image.clone(),
            size: c.size,
            verdict: c.verdict,
            at_risk: c.at_risk,
            works: c.works(),
        }
    }
}

/// Every candidate, smallest image first; those of unknown size last. Equal sizes keep the
/// order given, a base that works first.
pub fn rank(candidates: &[Candidate]) -> Vec<Ranked> {
    let mut ranked: Vec<Ranked> = candidates.iter().map(Ranked::from).collect();
    ranked.sort_by_key(|r| (r.size.is_none(), r.size.map_or(0, |s| s.bytes), !r.works));
    ranked
}

/// The smallest base that works, when one does and every base that works has a known size (an
/// unknown one could be smaller).
pub fn smallest(ranked: &[Ranked]) -> Option<&Ranked> {
    let mut working = ranked.iter().filter(|r| r.works);
    let first = working.clone().next()?;
    working.all(|r| r.size.is_some()).then_some(first)
}

/// The bases that work and are smaller than `current_size` bytes, smallest first.
pub fn smaller_than(current_size: u64, ranked: &[Ranked]) -> Vec<&Ranked> {
    ranked
        .iter()
        .filter(|r| r.works && r.size.is_some_and(|s| s.bytes < current_size))
        .collect()
}

/// A size as Docker prints one (decimal units): `820 kB`, `2.0 MB`, `157 MB`, `1.2 GB`.
pub fn size_text(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.0} kB", b / 1e3),
        1_000_000..10_000_000 => format!("{:.1} MB", b / 1e6),
        10_000_000..1_000_000_000 => format!("{:.0} MB", b / 1e6),
        _ => format!("{:.1} GB", b / 1e9),
    }
}

/// `2.0 MB`, or `2.0 MB per the catalog` for a figure the catalog records.
fn size_phrase(size: Size) -> String {
    match size.from {
        SizeFrom::Local => size_text(size.bytes),
        SizeFrom::Catalog => format!("{} per the catalog", size_text(size.bytes)),
    }
}

impl Ranked {
    /// `distroless-static (2.0 MB)`; `alpine (7.6 MB per the catalog)`; the name alone when the
    /// size is unknown.
    pub fn with_size(&self) -> String {
        match self.size {
            Some(s) => format!("{} ({})", self.base, size_phrase(s)),
            None => self.base.clone(),
        }
    }

    /// `distroless-cc (23 MB instead of 157 MB)`: this base beside the one it would replace.
    pub fn instead_of(&self, current: Size) -> String {
        let Some(size) = self.size else {
            return self.base.clone();
        };
        let both_catalog = size.from == SizeFrom::Catalog && current.from == SizeFrom::Catalog;
        let sizes = match both_catalog {
            true => format!(
                "{} instead of {}, per the catalog",
                size_text(size.bytes),
                size_text(current.bytes)
            ),
            false => format!("{} instead of {}", size_phrase(size), size_phrase(current)),
        };
        format!("{} ({sizes})", self.base)
    }

    /// The program's fate there in a word or two: `works`, `ok, at risk`, or the verdict.
    pub fn result(&self) -> String {
        match (self.works, self.verdict) {
            (true, _) => "works".into(),
            (false, Verdict::Ok) => "ok, at risk".into(),
            (false, v) => v.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(base: &str, bytes: Option<u64>, verdict: Verdict, at_risk: bool) -> Candidate {
        Candidate {
            base: base.into(),
            image: format!("{base}:latest"),
            size: bytes.map(|bytes| Size {
                bytes,
                from: SizeFrom::Local,
            }),
            verdict,
            at_risk,
        }
    }

    fn names(ranked: &[Ranked]) -> Vec<&str> {
        ranked.iter().map(|r| r.base.as_str()).collect()
    }

    /// A C++ program: it works on slim and distroless-cc, not on distroless-base or static.
    fn cxx_matrix() -> Vec<Candidate> {
        vec![
            candidate("debian-slim", Some(157_000_000), Verdict::Ok, false),
            candidate(
                "distroless-base",
                Some(20_000_000),
                Verdict::MissingLibrary,
                false,
            ),
            candidate("distroless-cc", Some(23_000_000), Verdict::Ok, false),
            candidate(
                "distroless-static",
                Some(2_000_000),
                Verdict::NoInterpreter,
                false,
            ),
        ]
    }

    #[test]
    fn bases_are_ranked_by_size_and_the_smallest_that_works_is_named() {
        let ranked = rank(&cxx_matrix());
        assert_eq!(
            names(&ranked),
            [
                "distroless-static",
                "distroless-base",
                "distroless-cc",
                "debian-slim"
            ]
        );
        assert_eq!(
            ranked.iter().map(|r| r.works).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        let best = smallest(&ranked).unwrap();
        assert_eq!(best.base, "distroless-cc");
        assert_eq!(best.with_size(), "distroless-cc (23 MB)");
    }

    #[test]
    fn smaller_bases_than_the_current_one_are_those_that_work() {
        let ranked = rank(&cxx_matrix());
        let current = Size {
            bytes: 157_000_000,
            from: SizeFrom::Local,
        };
        let smaller = smaller_than(current.bytes, &ranked);
        assert_eq!(
            smaller.iter().map(|r| r.base.as_str()).collect::<Vec<_>>(),
            ["distroless-cc"]
        );
        assert_eq!(
            smaller[0].instead_of(current),
            "distroless-cc (23 MB instead of 157 MB)"
        );
        // Nothing that works is smaller than the smallest working base itself.
        assert!(smaller_than(23_000_000, &ranked).is_empty());
    }

    #[test]
    fn a_base_where_a_warning_stands_is_not_recommended() {
        let ranked = rank(&[
            candidate("alpine", Some(8_000_000), Verdict::Ok, true),
            candidate("distroless-static", Some(2_000_000), Verdict::Ok, true),
            candidate("debian-slim", Some(75_000_000), Verdict::Ok, false),
        ]);
        assert_eq!(smallest(&ranked).unwrap().base, "debian-slim");
        assert_eq!(ranked[0].result(), "ok, at risk");
        assert_eq!(ranked[2].result(), "works");
    }

    #[test]
    fn no_smallest_when_nothing_works_or_a_working_size_is_unknown() {
        let nothing = rank(&[candidate(
            "distroless-static",
            Some(2_000_000),
            Verdict::NoInterpreter,
            false,
        )]);
        assert_eq!(smallest(&nothing), None);
        assert_eq!(nothing[0].result(), "no_interpreter");
        // The base of unknown size could be the smallest: no claim is made.
        let unknown = rank(&[
            candidate("mine", None, Verdict::Ok, false),
            candidate("debian-slim", Some(75_000_000), Verdict::Ok, false),
        ]);
        assert_eq!(names(&unknown), ["debian-slim", "mine"]);
        assert_eq!(smallest(&unknown), None);
        assert_eq!(unknown[1].with_size(), "mine");
        // A failing base of unknown size does not matter.
        let failing_unknown = rank(&[
            candidate("mine", None, Verdict::Error, false),
            candidate("debian-slim", Some(75_000_000), Verdict::Ok, false),
        ]);
        assert_eq!(smallest(&failing_unknown).unwrap().base, "debian-slim");
    }

    #[test]
    fn equal_sizes_keep_their_order_with_a_working_base_first() {
        let ranked = rank(&[
            candidate("a", Some(5), Verdict::MissingLibrary, false),
            candidate("b", Some(5), Verdict::Ok, false),
            candidate("c", Some(5), Verdict::Ok, false),
        ]);
        assert_eq!(names(&ranked), ["b", "c", "a"]);
    }

    #[test]
    fn catalog_figures_say_so() {
        let catalog = |bytes| Size {
            bytes,
            from: SizeFrom::Catalog,
        };
        let mut c = candidate("distroless-static", None, Verdict::Ok, false);
        c.size = Some(catalog(1_990_000));
        let r = Ranked::from(&c);
        assert_eq!(r.with_size(), "distroless-static (2.0 MB per the catalog)");
        assert_eq!(
            r.instead_of(catalog(75_000_000)),
            "distroless-static (2.0 MB instead of 75 MB, per the catalog)"
        );
        let local = Size {
            bytes: 157_000_000,
            from: SizeFrom::Local,
        };
        assert_eq!(
            r.instead_of(local),
            "distroless-static (2.0 MB per the catalog instead of 157 MB)"
        );
    }

    #[test]
    fn sizes_read_like_dockers() {
        assert_eq!(size_text(29), "29 B");
        assert_eq!(size_text(820_400), "820 kB");
        assert_eq!(size_text(2_020_000), "2.0 MB");
        assert_eq!(size_text(14_803_499), "15 MB");
        assert_eq!(size_text(156_600_000), "157 MB");
        assert_eq!(size_text(1_234_000_000), "1.2 GB");
    }
}
