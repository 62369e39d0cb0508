//! Libraries a program loads with `dlopen`: where its loader would find each on a base, and the
//! declared-required ones that are missing as problems (`missing_library` via `dlopen`). Pure.

use crate::elf::needs::DlopenDep;
use crate::image::base::{BaseProfile, Library};
use crate::verdict::{self, Problem, Verdict};

use super::{Obj, Prediction, Rules, Subject, World, glibc_find, musl_find, musl_reserved};

/// What the program's `dlopen` calls find on a base, after its prediction there.
pub struct Search<'a> {
    pub subject: &'a Subject<'a>,
    pub base: &'a BaseProfile,
    pub prediction: &'a Prediction,
    /// The program's name, for the problems.
    pub program: &'a str,
}

impl Search<'_> {
    /// Whether `dlopen(name)` called by the program succeeds, or the problem that stops it:
    /// with the rules of the loader its prediction used, `name` is looked for among the
    /// libraries loaded already, in the program's own RPATH/RUNPATH (with `$ORIGIN`), then by
    /// the system search, and what it needs must load too; a static program's libc searches the
    /// system directories (the base's libraries by name).
    pub fn opens(&self, name: &str) -> Result<(), Problem> {
        let missing = || Problem::MissingLibrary {
            library: name.to_string(),
            needed_by: Some(self.program.to_string()),
            via: Some(DLOPEN.into()),
        };
        let Some(rules) = self.prediction.loader.as_deref() else {
            return match self.base.has_library_named(name) {
                true => Ok(()),
                false => Err(missing()),
            };
        };
        match find(
            self.subject,
            self.base,
            rules,
            &self.prediction.loaded,
            name,
        ) {
            None => Err(missing()),
            Some(Found::Loaded) => Ok(()),
            Some(Found::New(path, lib)) => self.loads(path, lib),
        }
    }

    /// Whether a library found for `dlopen` loads: every library it needs must be there. Its
    /// symbols may come from the program (plug-ins use their host's), so only what it needs by
    /// name counts.
    fn loads(&self, path: String, lib: &Library) -> Result<(), Problem> {
        let s = Subject {
            profile: &lib.profile,
            exports: &lib.exports,
            path,
            sidecars: self.subject.sidecars,
            host_scope: &[],
        };
        // What the program loaded already is found by its soname (the loader looks there first).
        let loaded = |name: &str| self.prediction.loaded.iter().any(|(n, _)| n == name);
        let first_missing = super::predict(&s, self.base)
            .problems
            .into_iter()
            .find(|q| matches!(q, Problem::MissingLibrary { library, .. } if !loaded(library)));
        match first_missing {
            Some(Problem::MissingLibrary {
                library, needed_by, ..
            }) => Err(Problem::MissingLibrary {
                library,
                needed_by,
                via: Some(DLOPEN.into()),
            }),
            _ => Ok(()),
        }
    }

    /// The prediction with the `required` entries of `deps` that cannot be opened as its
    /// problems, when the program loads.
    pub fn with_required(&self, deps: &[DlopenDep]) -> Prediction {
        let mut p = self.prediction.clone();
        if p.verdict == Verdict::Ok {
            let missing: Vec<Problem> = deps
                .iter()
                .filter(|d| is_required(d))
                .filter_map(|d| self.entry_fails(d))
                .collect();
            if !missing.is_empty() {
                (p.verdict, p.reason) = (Verdict::MissingLibrary, verdict::summarize(&missing));
                p.problems = missing;
            }
        }
        p
    }

    /// Why none of an entry's alternatives opens, if none does: a library that is there but
    /// lacks what it needs says more than the names that are absent.
    pub fn entry_fails(&self, dep: &DlopenDep) -> Option<Problem> {
        let mut fails = Vec::new();
        for name in &dep.soname {
            match self.opens(name) {
                Ok(()) => return None,
                Err(p) => fails.push(p),
            }
        }
        let absent = |p: &Problem| matches!(p, Problem::MissingLibrary { needed_by, .. } if needed_by.as_deref() == Some(self.program));
        match fails.iter().position(|p| !absent(p)) {
            Some(i) => Some(fails.swap_remove(i)),
            None => Some(Problem::MissingLibrary {
                library: dep.soname.join(" | "),
                needed_by: Some(self.program.to_string()),
                via: Some(DLOPEN.into()),
            }),
        }
    }
}

/// What `via` says of a library loaded with `dlopen`.
const DLOPEN: &str = "dlopen";

/// A library the search found: loaded already, or a new one to map.
enum Found<'a> {
    Loaded,
    New(String, &'a Library),
}

/// Where `dlopen(name)` called by the program finds `name` on `base`, under the rules of
/// `loader` (`glibc` or `musl`; anything else finds nothing). A name with a slash is a path.
fn find<'a>(
    subject: &Subject<'a>,
    base: &'a BaseProfile,
    loader: &str,
    loaded: &[(String, String)],
    name: &str,
) -> Option<Found<'a>> {
    let rules = match loader {
        "glibc" => Rules::Glibc,
        "musl" => Rules::Musl,
        _ => return None,
    };
    // musl answers its own names (libc.so, libdl.so.2, …) with itself.
    if loaded.iter().any(|(n, _)| n == name) || (rules == Rules::Musl && musl_reserved(name)) {
        return Some(Found::Loaded);
    }
    let w = World {
        base,
        sidecars: subject.sidecars,
        memo: None,
        dirs: Default::default(),
    };
    let caller = [Obj {
        name: String::new(),
        path: subject.path.clone(),
        profile: subject.profile,
        index: subject.exports,
        parent: None,
    }];
    let found = match rules {
        Rules::Glibc => glibc_find(&w, name, &caller, 0),
        Rules::Musl => musl_find(&w, name, &caller, 0),
    };
    found.map(|(path, lib)| Found::New(path, lib))
}

/// A `.note.dlopen` entry marked `required`: missing, it is a problem rather than a risk.
pub fn is_required(dep: &DlopenDep) -> bool {
    dep.source == "note" && dep.priority == "required"
}
