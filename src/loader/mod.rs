//! `predict(binary, base)`: simulate the base's dynamic loader (glibc or musl rules) on the
//! binary and say what will happen and why, with fix hints. Pure: works on profiles only.

pub mod dlopen;
pub mod host;

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::elf::ExportTable;
use crate::elf::{self, BinaryProfile, Kind};
use crate::image::base::{BaseProfile, Library, normalize};
use crate::text::below;
use crate::verdict::{self, Problem, Verdict};

/// How a glibc binary would fare on a musl base if its interpreter path led to musl's loader
/// (what gcompat arranges).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuslCompat {
    /// Every library and symbol resolves under musl.
    pub runs: bool,
    /// What musl (and the base's libraries) lack.
    pub problems: Vec<Problem>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    pub verdict: Verdict,
    pub reason: String,
    pub problems: Vec<Problem>,
    pub hints: Vec<String>,
    /// Which loader rules were simulated: `glibc`, `musl`, or none (static / no loader).
    pub loader: Option<String>,
    /// Objects loaded, in order: (name, path in the image).
    pub loaded: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub musl_compat: Option<MuslCompat>,
    /// Run-time risks on this base (attached by the caller when the program loads; see
    /// [`crate::risks`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<crate::verdict::Risk>,
}

impl Prediction {
    /// A prediction of `verdict` for `reason`, with no problem, hint, loader, loaded object or
    /// risk yet (the callers add what they have).
    pub fn new(verdict: Verdict, reason: impl Into<String>) -> Prediction {
        Prediction {
            verdict,
            reason: reason.into(),
            problems: vec![],
            hints: vec![],
            loader: None,
            loaded: vec![],
            musl_compat: None,
            risks: vec![],
        }
    }
}

/// The program being predicted: its profile, what it exports, where it sits in the container,
/// and the sidecar libraries uploaded beside it (container path → library).
pub struct Subject<'a> {
    pub profile: &'a BinaryProfile,
    pub exports: &'a ExportTable,
    /// Container path of the binary (`/libccheck/app/name`).
    pub path: String,
    pub sidecars: &'a dyn Sidecars,
    /// Libraries in the global scope before the subject's own: what the host program that
    /// loads a module needs (a Python interpreter's `libm.so.6`).
    pub host_scope: &'a [String],
}

/// Files placed into the image beside the image's own, by container path.
pub trait Sidecars: Sync {
    fn get(&self, path: &str) -> Option<&Library>;
    fn is_empty(&self) -> bool;
}

impl Sidecars for BTreeMap<String, Library> {
    fn get(&self, path: &str) -> Option<&Library> {
        BTreeMap::get(self, path)
    }
    fn is_empty(&self) -> bool {
        BTreeMap::is_empty(self)
    }
}

/// Placed libraries by path, hashed (an audit of a whole image places hundreds).
pub type Overlay<'a> = hashbrown::HashMap<String, &'a Library, foldhash::fast::FixedState>;

impl Sidecars for Overlay<'_> {
    fn get(&self, path: &str) -> Option<&Library> {
        hashbrown::HashMap::get(self, path).copied()
    }
    fn is_empty(&self) -> bool {
        hashbrown::HashMap::is_empty(self)
    }
}

impl Sidecars for BTreeMap<String, &Library> {
    fn get(&self, path: &str) -> Option<&Library> {
        BTreeMap::get(self, path).copied()
    }
    fn is_empty(&self) -> bool {
        BTreeMap::is_empty(self)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Rules {
    Glibc,
    Musl,
}

struct Obj<'a> {
    name: String,
    path: String,
    profile: &'a BinaryProfile,
    index: &'a ExportTable,
    parent: Option<usize>,
}

struct World<'a> {
    base: &'a BaseProfile,
    sidecars: &'a dyn Sidecars,
    memo: Option<&'a ScopeMemo<'a>>,
    /// Directories already resolved through the image's links (a search tries each for every
    /// library).
    dirs: std::cell::RefCell<crate::image::base::DirResolver>,
}

impl<'a> World<'a> {
    /// Where the loader's system search (after any RPATH/RUNPATH) finds `name` for a program
    /// like `main`: the same for every file predicted with this memo, so asked once.
    fn system_find(
        &self,
        rules: Rules,
        name: &str,
        main: &BinaryProfile,
    ) -> Option<(String, &'a Library)> {
        let find = || match rules {
            Rules::Glibc => glibc_system_find(self, name, main),
            Rules::Musl => musl_system_find(self, name, main),
        };
        let Some(memo) = self.memo else {
            return find();
        };
        let key = (
            name.to_string(),
            (rules == Rules::Glibc, main.e_machine, main.class == "elf64"),
        );
        memoized(&memo.found, &key, find)
    }

    /// The library at `path`. Files placed into the image (sidecars, an audited application)
    /// shadow the image's own: the directory part resolves through the image's links, the
    /// placed file is looked for there first.
    fn lib(&self, path: &str) -> Option<(String, &'a Library)> {
        match self.memo {
            Some(memo) => memoized(&memo.libs, path, || self.lib_at(path)),
            None => self.lib_at(path),
        }
    }

    fn lib_at(&self, path: &str) -> Option<(String, &'a Library)> {
        let p = normalize(path);
        if let Some(l) = self.sidecars.get(&p) {
            return Some((p, l));
        }
        if !self.sidecars.is_empty()
            && let Some(cand) = self
                .dirs
                .borrow_mut()
                .resolve_dir_of(self.base.link_map(), &p)
            && let Some(l) = self.sidecars.get(&cand)
        {
            return Some((cand, l));
        }
        self.base.library_at(&p)
    }
}

fn dir_of(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(d, _)| {
            if d.is_empty() {
                "/".to_string()
            } else {
                d.to_string()
            }
        })
        .unwrap_or_else(|| "/".into())
}

fn compatible(a: &BinaryProfile, b: &BinaryProfile) -> bool {
    a.e_machine == b.e_machine && a.class == b.class
}

fn triplet(machine: &str) -> &'static str {
    elf::arch::of_machine_or_x86_64(machine).triplet
}

/// musl maps these onto itself: lib{c,pthread,rt,m,dl,util,xnet}.so*.
fn musl_reserved(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("lib") else {
        return false;
    };
    ["c", "pthread", "rt", "m", "dl", "util", "xnet"]
        .iter()
        .any(|r| {
            rest.strip_prefix(r)
                .is_some_and(|t| t == ".so" || t.starts_with(".so."))
        })
}

fn search_dirs<'a>(
    w: &World<'a>,
    name: &str,
    dirs: &[String],
    main: &BinaryProfile,
) -> Option<(String, &'a Library)> {
    for d in dirs {
        if let Some((p, l)) = w.lib(&crate::image::base::join(d, name))
            && compatible(&l.profile, main)
        {
            return Some((p, l));
        }
    }
    None
}

fn expand(entries: &[String], origin: &str) -> Vec<String> {
    entries
        .iter()
        .map(|e| elf::expand_origin(e, origin))
        .collect()
}

fn glibc_find<'a>(
    w: &World<'a>,
    name: &str,
    objs: &[Obj<'a>],
    from: usize,
) -> Option<(String, &'a Library)> {
    let main = objs[0].profile;
    if name.contains('/') {
        return w
            .lib(&elf::expand_origin(name, &dir_of(&objs[from].path)))
            .filter(|(_, l)| compatible(&l.profile, main));
    }
    let o = &objs[from];
    // DT_RPATH of the object and of its loaders (only while none of them has DT_RUNPATH).
    if o.profile.runpath.is_empty() {
        let mut cur = Some(from);
        while let Some(i) = cur {
            let p = &objs[i];
            if !p.profile.runpath.is_empty() {
                break;
            }
            if let Some(f) = search_dirs(w, name, &expand(&p.profile.rpath, &dir_of(&p.path)), main)
            {
                return Some(f);
            }
            cur = p.parent;
        }
    }
    if let Some(f) = search_dirs(w, name, &expand(&o.profile.runpath, &dir_of(&o.path)), main) {
        return Some(f);
    }
    w.system_find(Rules::Glibc, name, main)
}

/// glibc's search after the object's own paths: `ld.so.cache`, then the default directories.
fn glibc_system_find<'a>(
    w: &World<'a>,
    name: &str,
    main: &BinaryProfile,
) -> Option<(String, &'a Library)> {
    let want64 = main.class == "elf64";
    for (_, path, flags) in w.base.cache_entries(name) {
        let is64 = flags & 0xff00 != 0;
        // A glibc-hwcaps copy loads only on CPUs with its level: the prediction holds for all
        // of them with the plain library (`cpu::hwcaps_copies` notes the copy).
        if path.contains("/glibc-hwcaps/") {
            continue;
        }
        if is64 == want64
            && let Some(f) = w.lib(path).filter(|(_, l)| compatible(&l.profile, main))
        {
            return Some(f);
        }
    }
    let t = triplet(&main.machine);
    let mut defaults: Vec<String> = Vec::new();
    if w.base.ld_so_cache.is_none() {
        defaults.extend(w.base.ld_so_conf.iter().cloned());
    }
    defaults.extend([
        format!("/lib/{t}"),
        format!("/usr/lib/{t}"),
        "/lib64".into(),
        "/usr/lib64".into(),
        "/lib".into(),
        "/usr/lib".into(),
    ]);
    search_dirs(w, name, &defaults, main)
}

fn musl_find<'a>(
    w: &World<'a>,
    name: &str,
    objs: &[Obj<'a>],
    from: usize,
) -> Option<(String, &'a Library)> {
    let main = objs[0].profile;
    if name.contains('/') {
        return w.lib(name);
    }
    // The rpath of the object and of everything that led to it; RUNPATH, when present, replaces RPATH.
    let mut cur = Some(from);
    while let Some(i) = cur {
        let p = &objs[i];
        let rp = if p.profile.runpath.is_empty() {
            &p.profile.rpath
        } else {
            &p.profile.runpath
        };
        if let Some(f) = search_dirs(w, name, &expand(rp, &dir_of(&p.path)), main) {
            return Some(f);
        }
        cur = p.parent;
    }
    w.system_find(Rules::Musl, name, main)
}

/// musl's search after the paths of the object and its loaders: its path file or the defaults.
fn musl_system_find<'a>(
    w: &World<'a>,
    name: &str,
    main: &BinaryProfile,
) -> Option<(String, &'a Library)> {
    let sys: Vec<String> = w
        .base
        .musl_path
        .clone()
        .unwrap_or_else(|| vec!["/lib".into(), "/usr/local/lib".into(), "/usr/lib".into()]);
    search_dirs(w, name, &sys, main)
}

struct Sim<'a> {
    objs: Vec<Obj<'a>>,
    problems: Vec<Problem>,
}

/// Would musl bind `name` in one of these objects? Its lookup skips hidden `name@VER` definitions
/// and the types it does not know (IFUNC), ignores version names otherwise
/// ([`ExportTable::musl_has`]), and binds the LFS64 names to the plain ones.
fn musl_in(indexes: &[&ExportTable], name: &str) -> bool {
    indexes.iter().any(|i| i.musl_has(name))
        || name
            .strip_suffix("64")
            .is_some_and(|b| MUSL_LFS64.contains(&b) && indexes.iter().any(|i| i.musl_has(b)))
}

/// The non-weak undefined symbols of one object that no object of a scope defines, in the order a
/// loader checks them: versioned, its own hidden-version references (musl), unversioned.
#[derive(Default)]
struct Misses {
    versioned: Vec<(crate::elf::Name, std::sync::Arc<str>)>,
    hidden: Vec<String>,
    unversioned: Vec<crate::elf::Name>,
}

/// Does one of these objects define `name` (at `version`) for a loader following `rules`?
fn defined_in(indexes: &[&ExportTable], rules: Rules, name: &str, version: Option<&str>) -> bool {
    match (rules, version) {
        (Rules::Glibc, Some(v)) => indexes.iter().any(|i| i.has_version(name, v)),
        (Rules::Glibc, None) => indexes.iter().any(|i| i.has_default(name)),
        (Rules::Musl, _) => musl_in(indexes, name),
    }
}

impl Misses {
    fn of(o: &Obj<'_>, scope: &[Obj<'_>], rules: Rules) -> Misses {
        let indexes: Vec<&ExportTable> = scope.iter().map(|s| s.index).collect();
        let has = |name: &str, version: Option<&str>| defined_in(&indexes, rules, name, version);
        // A versioned symbol is almost always defined by the library its version names:
        // looked up there first (the answer is the same, found sooner).
        let named = |lib: &str| {
            scope
                .iter()
                .find(|t| t.name == lib || t.profile.soname.as_deref() == Some(lib))
                .map(|t| t.index)
        };
        let mut last: Option<(std::sync::Arc<str>, Option<&ExportTable>)> = None;
        let mut has_versioned = |s: &crate::elf::VersionedSymbol| {
            if rules != Rules::Glibc {
                return has(&s.name, Some(&s.version));
            }
            let first = match &last {
                // Names are interned: the same library is mostly the same allocation.
                Some((lib, t)) if std::sync::Arc::ptr_eq(lib, &s.library) || *lib == s.library => {
                    *t
                }
                _ => {
                    let t = named(&s.library);
                    last = Some((s.library.clone(), t));
                    t
                }
            };
            first.is_some_and(|t| t.has_version(&s.name, &s.version))
                || has(&s.name, Some(&s.version))
        };
        let p = o.profile;
        Misses {
            versioned: p
                .versioned_undefined
                .iter()
                .filter(|s| !s.weak && !has_versioned(s))
                .map(|s| (s.name.clone(), s.version.clone()))
                .collect(),
            hidden: match rules {
                Rules::Musl => p
                    .hidden_self_refs
                    .iter()
                    .filter(|n| !has(n, None))
                    .cloned()
                    .collect(),
                Rules::Glibc => vec![],
            },
            unversioned: p
                .unversioned_undefined
                .iter()
                .filter(|s| !s.weak && !has(&s.name, None))
                .map(|s| s.name.clone())
                .collect(),
        }
    }
}

/// What the predictions of many files on one target with the same placed files (an audit) would
/// each work out again:
/// - `misses`: what a library misses in a scope, keyed by the library and the set of the other
///   objects of the scope. Finding a symbol only gets easier with more objects, so the misses of
///   a library in the scope without the subject, minus what the subject exports, are its misses
///   in the whole scope.
/// - `found`: where the loader's system search finds a library name.
/// - `libs`: the library a path names, after the image's links and the placed files.
#[derive(Default)]
pub struct ScopeMemo<'a> {
    misses: std::sync::Mutex<Memo<String, std::sync::Arc<Misses>>>,
    found: std::sync::Mutex<Memo<(String, SearchKind), Found<'a>>>,
    libs: std::sync::Mutex<Memo<String, Found<'a>>>,
}

/// std's map (hashbrown's own would make the borrow checker keep the memo alive past its uses).
type Memo<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
type Found<'a> = Option<(String, &'a Library)>;
/// (glibc rules, e_machine, 64-bit): what a system search's answer depends on besides the name.
type SearchKind = (bool, u16, bool);

impl ScopeMemo<'_> {
    fn misses(&self, rules: Rules, o: &Obj<'_>, scope: &[Obj<'_>]) -> std::sync::Arc<Misses> {
        let mut paths: Vec<&str> = scope.iter().map(|s| s.path.as_str()).collect();
        paths.sort_unstable();
        let mut key = String::with_capacity(o.path.len() + paths.len() * 40);
        key.push(if rules == Rules::Glibc { 'g' } else { 'm' });
        key.push_str(&o.path);
        for p in paths {
            key.push('\0');
            key.push_str(p);
        }
        memoized(&self.misses, key.as_str(), || {
            std::sync::Arc::new(Misses::of(o, scope, rules))
        })
    }
}

/// The memo's answer for `key`, worked out by `compute` the first time (outside the lock: the
/// other thread may work it out too, with the same answer).
fn memoized<Q, V: Clone>(
    memo: &std::sync::Mutex<Memo<Q::Owned, V>>,
    key: &Q,
    compute: impl FnOnce() -> V,
) -> V
where
    Q: ToOwned + std::hash::Hash + Eq + ?Sized,
    Q::Owned: std::hash::Hash + Eq,
{
    if let Some(hit) = memo.lock().unwrap().get(key) {
        return hit.clone();
    }
    let v = compute();
    memo.lock().unwrap().insert(key.to_owned(), v.clone());
    v
}

/// Load `subject` with the loader at `loader_path` following `rules`: find the objects to map,
/// then check what they need from each other (versions, then symbols).
fn simulate<'a>(
    w: &World<'a>,
    subject: &Subject<'a>,
    subject_index: &'a ExportTable,
    loader_path: &str,
    loader: &'a Library,
    rules: Rules,
) -> Sim<'a> {
    let ld = DynLoader::new(w, loader_path, loader);
    let Sim { objs, mut problems } = match load_order(w, subject, subject_index, &ld, rules) {
        LoadOrder::Complete(sim) => sim,
        LoadOrder::Refused(sim) => return sim,
    };
    // With a library missing, the symbols it would have provided are missing too: consequences
    // that would bury the cause, so symbols are only checked when every library was found.
    let missing_lib = problems
        .iter()
        .any(|p| matches!(p, Problem::MissingLibrary { .. }));
    // musl ignores symbol versions; glibc checks them before it binds anything.
    let missing_versions = match rules {
        Rules::Glibc => check_version_needs(&objs, &mut problems),
        Rules::Musl => Vec::new(),
    };
    // A catalog base knows glibc's versions, not every symbol: versions decide there.
    let symbols_known = !(w.base.catalog && rules == Rules::Glibc);
    if !missing_lib && symbols_known {
        bind_symbols(
            w,
            &objs,
            subject_index,
            rules,
            &missing_versions,
            &mut problems,
        );
    }
    Sim { objs, problems }
}

/// The dynamic loader being simulated, as the objects that need it see it.
struct DynLoader<'a> {
    lib: &'a Library,
    /// What a DT_NEEDED entry calls it: its soname, else its file name.
    name: String,
    /// Its path after the image's links. The loader is mapped once, whichever name or search
    /// led to it, so this path is what says whether it is in the scope already.
    path: String,
}

impl<'a> DynLoader<'a> {
    fn new(w: &World<'a>, loader_path: &str, lib: &'a Library) -> Self {
        let name = lib
            .profile
            .soname
            .clone()
            .unwrap_or_else(|| loader_path.rsplit('/').next().unwrap_or("").to_string());
        let path = w
            .lib(loader_path)
            .map(|(p, _)| p)
            .unwrap_or_else(|| loader_path.to_string());
        DynLoader { lib, name, path }
    }

    /// Add the loader to `objs` as `name`, needed by `parent`, unless it is mapped already.
    fn join(&self, objs: &mut Vec<Obj<'a>>, name: &str, parent: usize) {
        if !objs.iter().any(|o| o.path == self.path) {
            objs.push(Obj {
                name: name.to_string(),
                path: self.path.clone(),
                profile: &self.lib.profile,
                index: &self.lib.exports,
                parent: Some(parent),
            });
        }
    }
}

/// Why the loader stops at `o`, if it does: glibc will not map a file whose program headers
/// describe no loadable object, and musl's loader crashes on some malformed layouts. Either ends
/// the load (the subject's or a library's), and nothing else is reported.
fn refusal(o: &Obj<'_>, rules: Rules) -> Option<Problem> {
    match rules {
        Rules::Glibc => o
            .profile
            .glibc_refuses
            .as_ref()
            .map(|what| Problem::Unsupported {
                what: what.clone(),
                needed_by: Some(o.name.clone()),
            }),
        Rules::Musl => o
            .profile
            .musl_crashes
            .as_ref()
            .map(|what| Problem::LoaderCrash {
                what: what.clone(),
                needed_by: Some(o.name.clone()),
            }),
    }
}

/// How the search for the objects to map ended.
enum LoadOrder<'a> {
    /// Every DT_NEEDED entry was searched for; the problems are the libraries not found.
    Complete(Sim<'a>),
    /// The loader reached an object it refuses or crashes on: that is the only problem.
    Refused(Sim<'a>),
}

/// The objects the loader maps, in its order: the subject, then breadth first the DT_NEEDED
/// entries of each object, each searched for from the object that needs it (its RPATH/RUNPATH
/// with `$ORIGIN`, then the system search).
fn load_order<'a>(
    w: &World<'a>,
    subject: &Subject<'a>,
    subject_index: &'a ExportTable,
    ld: &DynLoader<'a>,
    rules: Rules,
) -> LoadOrder<'a> {
    let app_dir = dir_of(&subject.path);
    let mut search = Search {
        w,
        ld,
        rules,
        objs: vec![Obj {
            name: below(&subject.path, &app_dir),
            path: subject.path.clone(),
            profile: subject.profile,
            index: subject_index,
            parent: None,
        }],
        real_paths: HashSet::new(),
    };
    if let Some(p) = refusal(&search.objs[0], rules) {
        return LoadOrder::Refused(Sim {
            objs: search.objs,
            problems: vec![p],
        });
    }
    // The host program's libraries come first; if one is missing the host itself cannot
    // start, which is not the module's problem.
    for n in subject.host_scope {
        search.needed(n, 0);
    }
    let mut problems = Vec::new();
    // `objs` grows while it is walked: the libraries an object needs are searched for after
    // those of every object mapped before it.
    let mut i = 0;
    while i < search.objs.len() {
        let profile: &'a BinaryProfile = search.objs[i].profile;
        for n in &profile.needed {
            match search.needed(n, i) {
                Needed::Mapped => {}
                Needed::Missing(p) => problems.push(p),
                Needed::Refused(p) => {
                    return LoadOrder::Refused(Sim {
                        objs: search.objs,
                        problems: vec![p],
                    });
                }
            }
        }
        i += 1;
    }
    // glibc's loader is always in the global scope. musl's loader is also its libc, and joins
    // the scope only when an object needs it by one of its names (musl's load_library): a module
    // with no DT_NEEDED at all (valgrind's preload objects) finds no libc symbol under musl.
    if rules == Rules::Glibc {
        ld.join(&mut search.objs, &ld.name, 0);
    }
    LoadOrder::Complete(Sim {
        objs: search.objs,
        problems,
    })
}

/// One load's search in progress: the objects mapped so far, in order.
struct Search<'s, 'a> {
    w: &'s World<'a>,
    ld: &'s DynLoader<'a>,
    rules: Rules,
    objs: Vec<Obj<'a>>,
    /// The paths of the libraries mapped: one found again under another name is not mapped twice.
    real_paths: HashSet<String>,
}

/// What became of one DT_NEEDED entry.
enum Needed {
    /// Mapped now, or already under this name or another.
    Mapped,
    /// Not found: the load goes on without it.
    Missing(Problem),
    /// Mapped, and the loader refuses it: the load ends.
    Refused(Problem),
}

impl<'a> Search<'_, 'a> {
    /// Map the library `n` that object `from` needs, if the loader finds it and has not mapped it.
    fn needed(&mut self, n: &str, from: usize) -> Needed {
        let objs = &mut self.objs;
        if objs
            .iter()
            .any(|o| o.name == n || o.profile.soname.as_deref() == Some(n))
        {
            return Needed::Mapped;
        }
        // The loader itself answers to its soname (glibc) or to the reserved libc names (musl).
        if n == self.ld.name || (self.rules == Rules::Musl && musl_reserved(n)) {
            self.ld.join(objs, n, from);
            return Needed::Mapped;
        }
        let found = match self.rules {
            Rules::Glibc => glibc_find(self.w, n, objs, from),
            Rules::Musl => musl_find(self.w, n, objs, from),
        };
        let Some((p, l)) = found else {
            return Needed::Missing(Problem::MissingLibrary {
                library: n.to_string(),
                needed_by: Some(objs[from].name.clone()),
                via: None,
            });
        };
        if self.real_paths.insert(p.clone()) && p != self.ld.path {
            objs.push(Obj {
                name: n.to_string(),
                path: p,
                profile: &l.profile,
                index: &l.exports,
                parent: Some(from),
            });
            return match refusal(objs.last().unwrap(), self.rules) {
                Some(p) => Needed::Refused(p),
                None => Needed::Mapped,
            };
        }
        // A search (a path in DT_NEEDED, a link) that ends at the loader's own file.
        if p == self.ld.path {
            self.ld.join(objs, n, from);
        }
        Needed::Mapped
    }
}

/// glibc's version check: each (library, version) an object needs must be defined by the library
/// loaded under that name, not just by some object of the scope. Adds one problem per missing
/// (library, version, needing object) and returns the missing version names: the symbol binding
/// leaves their symbols out, consequences of the missing version.
fn check_version_needs(objs: &[Obj<'_>], problems: &mut Vec<Problem>) -> Vec<String> {
    let mut missing_versions: Vec<String> = Vec::new();
    for o in objs {
        for need in &o.profile.version_needs {
            // The versions of a library that was not loaded are not checked: its absence is
            // reported, not what it would have defined.
            let Some(target) = objs.iter().find(|t| {
                t.name == need.library || t.profile.soname.as_deref() == Some(need.library.as_str())
            }) else {
                continue;
            };
            for v in &need.versions {
                if v.weak || target.profile.version_definitions.contains(&v.version) {
                    continue;
                }
                let p = Problem::MissingVersion {
                    library: need.library.clone(),
                    version: v.version.clone(),
                    needed_by: Some(o.name.clone()),
                };
                if !problems.contains(&p) {
                    problems.push(p);
                }
                missing_versions.push(v.version.clone());
            }
        }
    }
    missing_versions
}

/// Symbols, bound now: every non-weak undefined symbol of every object must be defined in the
/// global scope, by the lookup rules of `rules` (see [`Misses`]). Under musl, an IRELATIVE
/// relocation (IFUNC) is refused wherever it is.
fn bind_symbols<'a>(
    w: &World<'a>,
    objs: &[Obj<'a>],
    subject_index: &'a ExportTable,
    rules: Rules,
    missing_versions: &[String],
    problems: &mut Vec<Problem>,
) {
    for (k, o) in objs.iter().enumerate() {
        let misses = misses_in_scope(w, rules, objs, k);
        // A library's misses looked up without the subject (memo) may be defined by the subject:
        // the program that loads a library can provide its symbols (callbacks, plugins' hosts).
        let rescued = |name: &str, version: Option<&str>| {
            k > 0 && w.memo.is_some() && defined_in(&[subject_index], rules, name, version)
        };
        for (name, version) in &misses.versioned {
            if missing_versions.iter().any(|v| **v == **version) || rescued(name, Some(version)) {
                continue;
            }
            problems.push(Problem::MissingSymbol {
                symbol: name.to_string(),
                version: (rules == Rules::Glibc).then(|| version.to_string()),
                needed_by: Some(o.name.clone()),
            });
        }
        if rules == Rules::Musl && o.profile.irelative {
            problems.push(Problem::Unsupported {
                what: "relocation type 37".into(),
                needed_by: Some(o.name.clone()),
            });
        }
        let unversioned = misses.unversioned.iter().map(|n| &**n);
        for name in misses.hidden.iter().map(String::as_str).chain(unversioned) {
            if rescued(name, None) {
                continue;
            }
            problems.push(Problem::MissingSymbol {
                symbol: name.to_string(),
                version: None,
                needed_by: Some(o.name.clone()),
            });
        }
    }
}

/// What object `k` of `objs` misses in the scope. The subject's symbols are looked up in the
/// whole scope. A library's are looked up in the rest of the scope once per (library, scope) —
/// every file of an audit loads the same few libraries — and the caller checks only those misses
/// against the subject's own exports.
fn misses_in_scope(
    w: &World<'_>,
    rules: Rules,
    objs: &[Obj<'_>],
    k: usize,
) -> std::sync::Arc<Misses> {
    match w.memo {
        Some(memo) if k > 0 => memo.misses(rules, &objs[k], &objs[1..]),
        _ => std::sync::Arc::new(Misses::of(&objs[k], objs, rules)),
    }
}

/// musl ≥ 1.2.4 no longer exports the LFS64 names (`open64`, `fopen64`, …) but its loader still
/// binds these to the plain functions (musl's ldso/dynlink.c keeps the list).
const MUSL_LFS64: &[&str] = &[
    "aio_cancel",
    "aio_error",
    "aio_fsync",
    "aio_read",
    "aio_return",
    "aio_suspend",
    "aio_write",
    "alphasort",
    "creat",
    "fallocate",
    "fgetpos",
    "fopen",
    "freopen",
    "fseeko",
    "fsetpos",
    "fstat",
    "fstatat",
    "fstatfs",
    "fstatvfs",
    "ftello",
    "ftruncate",
    "ftw",
    "getdents",
    "getrlimit",
    "glob",
    "globfree",
    "lio_listio",
    "lockf",
    "lseek",
    "lstat",
    "mkostemp",
    "mkostemps",
    "mkstemp",
    "mkstemps",
    "mmap",
    "nftw",
    "open",
    "openat",
    "posix_fadvise",
    "posix_fallocate",
    "pread",
    "preadv",
    "prlimit",
    "pwrite",
    "pwritev",
    "readdir",
    "readdir_r",
    "scandir",
    "sendfile",
    "setrlimit",
    "stat",
    "statfs",
    "statvfs",
    "tmpfile",
    "truncate",
    "versionsort",
    "__fxstat",
    "__fxstatat",
    "__lxstat",
    "__xstat",
];

fn rules_of(loader: &Library) -> Rules {
    if loader
        .profile
        .version_definitions
        .iter()
        .any(|v| v.starts_with("GLIBC_"))
    {
        Rules::Glibc
    } else {
        Rules::Musl
    }
}

fn finish(sim: Sim<'_>, rules: Rules) -> Prediction {
    let loaded = sim
        .objs
        .iter()
        .skip(1)
        .map(|o| (o.name.clone(), o.path.clone()))
        .collect();
    let loader = Some(
        match rules {
            Rules::Glibc => "glibc",
            Rules::Musl => "musl",
        }
        .to_string(),
    );
    if sim.problems.is_empty() {
        return Prediction {
            loader,
            loaded,
            ..Prediction::new(Verdict::Ok, "every library, version and symbol resolves")
        };
    }
    let verdict = sim.problems.iter().map(Problem::verdict).min().unwrap();
    let reason = verdict::summarize(&sim.problems);
    Prediction {
        problems: sim.problems,
        loader,
        loaded,
        ..Prediction::new(verdict, reason)
    }
}

/// Known loader paths for a machine: (glibc, musl).
fn loader_paths(machine: &str) -> (&'static str, &'static str) {
    let a = elf::arch::of_machine_or_x86_64(machine);
    (a.glibc_loader, a.musl_loader)
}

/// The machine of a base whose platform nobody said (amd64 images, the offline catalog).
pub const BASE_MACHINE: &str = "x86-64";

/// The ELF machine of `base`'s platform.
pub fn base_machine(base: &BaseProfile) -> &str {
    base.machine.as_deref().unwrap_or(BASE_MACHINE)
}

/// The verdict for a file the base's CPU does not run: another architecture. (32-bit x86 runs
/// on x86-64.) `None` when it runs there.
pub fn wrong_arch(p: &BinaryProfile, base_machine: &str) -> Option<Prediction> {
    if p.machine == base_machine || (base_machine == "x86-64" && p.machine == "i386") {
        return None;
    }
    let problem = Problem::WrongArch {
        machine: p.machine.clone(),
        base: base_machine.to_string(),
    };
    let reason = crate::verdict::describe(&problem);
    Some(Prediction {
        problems: vec![problem],
        hints: wrong_arch_hints(&p.machine, base_machine),
        ..Prediction::new(Verdict::WrongArch, reason)
    })
}

/// The two ways out of a wrong architecture: build for the base's platform, or take the base's
/// image for the program's platform.
pub fn wrong_arch_hints(machine: &str, base_machine: &str) -> Vec<String> {
    let platform = |m: &str| elf::arch::of_machine(m).map(|a| a.platform());
    let mut hints = vec![match platform(base_machine) {
        Some(p) => format!("build it for {base_machine} ({p}), the base's platform"),
        None => format!("build it for {base_machine}, the base's architecture"),
    }];
    if let Some(p) = platform(machine) {
        hints.push(format!(
            "or use the base's {p} image (--platform {p}; multi-platform images have one for each)"
        ));
    }
    hints
}

/// Predict what loading `subject` on `base` does.
pub fn predict(subject: &Subject<'_>, base: &BaseProfile) -> Prediction {
    predict_with(subject, base, None)
}

/// [`predict`], sharing the symbol lookups of the base's libraries with the other predictions
/// on the same base and placed files through `memo`.
pub fn predict_with<'a>(
    subject: &Subject<'a>,
    base: &'a BaseProfile,
    memo: Option<&'a ScopeMemo<'a>>,
) -> Prediction {
    let w = World {
        base,
        sidecars: subject.sidecars,
        memo,
        dirs: Default::default(),
    };
    let subject_index = subject.exports;
    let p = subject.profile;
    if let Some(wrong) = wrong_arch(p, base_machine(base)) {
        return wrong;
    }
    match (&p.interpreter, p.kind) {
        (Some(interp), _) => match w.lib(interp) {
            Some((path, loader)) => {
                let rules = rules_of(loader);
                finish(
                    simulate(&w, subject, subject_index, &path, loader, rules),
                    rules,
                )
            }
            None => {
                let mut pr = Prediction {
                    problems: vec![Problem::NoInterpreter {
                        interpreter: interp.clone(),
                    }],
                    ..Prediction::new(
                        Verdict::NoInterpreter,
                        format!("interpreter {interp} is not in the image"),
                    )
                };
                // A glibc program on a base with musl's loader: would musl run it?
                let (_, musl_ld) = loader_paths(&p.machine);
                if elf::is_glibc_loader(interp)
                    && let Some((path, loader)) =
                        w.lib(musl_ld).filter(|(_, l)| rules_of(l) == Rules::Musl)
                {
                    let sim = simulate(&w, subject, subject_index, &path, loader, Rules::Musl);
                    pr.musl_compat = Some(musl_compat(&sim.problems));
                }
                pr
            }
        },
        (None, Kind::SharedObject) => {
            // Each loader the image has tries it; the first that loads it wins.
            let (g, m) = loader_paths(&p.machine);
            let tries: Vec<Prediction> = [g, m]
                .iter()
                .filter_map(|lp| w.lib(lp))
                .map(|(path, loader)| {
                    let rules = rules_of(loader);
                    finish(
                        simulate(&w, subject, subject_index, &path, loader, rules),
                        rules,
                    )
                })
                .collect();
            match tries
                .iter()
                .find(|t| t.verdict == Verdict::Ok)
                .or(tries.first())
            {
                Some(t) => t.clone(),
                None => Prediction {
                    problems: vec![Problem::NoInterpreter {
                        interpreter: "(any dynamic loader)".into(),
                    }],
                    ..Prediction::new(
                        Verdict::NoInterpreter,
                        "the image has no dynamic loader to load this shared object",
                    )
                },
            }
        }
        _ => Prediction::new(Verdict::Ok, "static: no loader involved"),
    }
}

fn musl_compat(problems: &[Problem]) -> MuslCompat {
    if problems.is_empty() {
        return MuslCompat {
            runs: true,
            problems: vec![],
            summary: "runs here with gcompat or an interpreter link to musl's loader: musl provides every symbol it needs".into(),
        };
    }
    let syms: Vec<String> = problems
        .iter()
        .filter_map(|p| Some(format!("`{}`", p.missing_symbol()?)))
        .collect();
    let libs: Vec<String> = problems
        .iter()
        .filter_map(|p| p.missing_library().map(str::to_string))
        .collect();
    let summary = if !libs.is_empty() {
        format!(
            "would not run even with gcompat: {} not found",
            libs.join(", ")
        )
    } else {
        format!(
            "needs glibc: {} {} not in musl",
            crate::text::short_list(&syms, 6),
            if syms.len() == 1 { "is" } else { "are" }
        )
    };
    MuslCompat {
        runs: false,
        problems: problems.to_vec(),
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::{
        Libc, LibcFlavour, LibraryNeeds, UndefinedSymbol, VersionNeed, VersionedSymbol,
    };
    use crate::image::base::LibcKind;

    fn blank(kind: Kind) -> BinaryProfile {
        let mut p = BinaryProfile::empty(kind);
        p.stripped = false;
        p.libc = Libc {
            flavour: LibcFlavour::Glibc,
            evidence: vec![],
        };
        p
    }

    fn lib(soname: &str, needed: &[&str], defs: &[&str], exports: &[&str]) -> Library {
        let mut p = blank(Kind::SharedObject);
        p.soname = Some(soname.into());
        p.needed = needed.iter().map(|s| s.to_string()).collect();
        p.version_definitions = defs.iter().map(|s| s.to_string()).collect();
        Library::new(p, ExportTable::from_lines(exports))
    }

    fn need(p: &mut BinaryProfile, library: &str, version: &str, symbol: &str, weak: bool) {
        match p.version_needs.iter_mut().find(|l| l.library == library) {
            Some(l) => l.versions.push(VersionNeed {
                version: version.into(),
                weak,
                symbols: vec![symbol.into()],
            }),
            None => p.version_needs.push(LibraryNeeds {
                library: library.into(),
                versions: vec![VersionNeed {
                    version: version.into(),
                    weak,
                    symbols: vec![symbol.into()],
                }],
            }),
        }
        p.versioned_undefined.push(VersionedSymbol {
            name: symbol.into(),
            weak,
            library: library.into(),
            version: version.into(),
        });
    }

    fn glibc_base(extra: Vec<(&str, Library)>) -> BaseProfile {
        let mut libraries = BTreeMap::new();
        let mut ld = lib(
            "ld-linux-x86-64.so.2",
            &[],
            &["GLIBC_2.2.5", "GLIBC_2.3", "GLIBC_PRIVATE"],
            &["__tls_get_addr@@GLIBC_2.3"],
        );
        ld.profile.kind = Kind::SharedObject;
        libraries.insert(
            "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2".to_string(),
            ld,
        );
        libraries.insert(
            "/usr/lib/x86_64-linux-gnu/libc.so.6".to_string(),
            lib(
                "libc.so.6",
                &["ld-linux-x86-64.so.2"],
                &["GLIBC_2.2.5", "GLIBC_2.34"],
                &[
                    "puts@@GLIBC_2.2.5",
                    "__libc_start_main@@GLIBC_2.34",
                    "__libc_start_main@GLIBC_2.2.5",
                ],
            ),
        );
        for (p, l) in extra {
            libraries.insert(p.to_string(), l);
        }
        let mut links = BTreeMap::new();
        links.insert("/lib".to_string(), "usr/lib".to_string());
        links.insert("/lib64".to_string(), "usr/lib64".to_string());
        links.insert(
            "/usr/lib64/ld-linux-x86-64.so.2".to_string(),
            "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2".to_string(),
        );
        BaseProfile {
            format: crate::image::base::FORMAT,
            image_id: "test".into(),
            os: None,
            libc: LibcKind::Glibc,
            libc_version: Some("2.36".into()),
            links,
            libraries,
            ld_so_conf: vec![],
            ld_so_cache: None,
            musl_path: None,
            shell: true,
            runtime: Default::default(),
            catalog: false,
            hosts: vec![],
            machine: None,
            link_index: Default::default(),
            cache_index: Default::default(),
        }
    }

    fn program(needed: &[&str]) -> BinaryProfile {
        let mut p = blank(Kind::Pie);
        p.interpreter = Some("/lib64/ld-linux-x86-64.so.2".into());
        p.needed = needed.iter().map(|s| s.to_string()).collect();
        need(
            &mut p,
            "libc.so.6",
            "GLIBC_2.34",
            "__libc_start_main",
            false,
        );
        p
    }

    fn run(
        p: &BinaryProfile,
        base: &BaseProfile,
        sidecars: &BTreeMap<String, Library>,
    ) -> Prediction {
        predict(
            &Subject {
                profile: p,
                exports: &ExportTable::default(),
                path: "/app/bin".into(),
                sidecars,
                host_scope: &[],
            },
            base,
        )
    }

    fn loaded_path<'a>(pr: &'a Prediction, name: &str) -> Option<&'a str> {
        pr.loaded
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_str())
    }

    #[test]
    fn glibc_ok_and_interpreter_through_symlinks() {
        let pr = run(
            &program(&["libc.so.6"]),
            &glibc_base(vec![]),
            &BTreeMap::new(),
        );
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
        assert_eq!(pr.loader.as_deref(), Some("glibc"));
        assert_eq!(
            loaded_path(&pr, "libc.so.6"),
            Some("/usr/lib/x86_64-linux-gnu/libc.so.6")
        );
    }

    #[test]
    fn the_base_platform_decides_the_architecture() {
        let mut p = program(&["libc.so.6"]);
        p.machine = "x86-64".into();
        let mut base = glibc_base(vec![]);
        base.machine = Some("aarch64".into());
        let pr = run(&p, &base, &BTreeMap::new());
        assert_eq!(pr.verdict, Verdict::WrongArch, "{pr:?}");
        assert_eq!(
            pr.problems,
            vec![Problem::WrongArch {
                machine: "x86-64".into(),
                base: "aarch64".into()
            }]
        );
        assert_eq!(
            pr.hints,
            [
                "build it for aarch64 (linux/arm64), the base's platform",
                "or use the base's linux/amd64 image (--platform linux/amd64; multi-platform images have one for each)"
            ]
        );
        // An amd64 base (no platform said) runs it, and a 32-bit x86 program too.
        base.machine = None;
        assert_eq!(run(&p, &base, &BTreeMap::new()).verdict, Verdict::Ok);
        let mut i386 = blank(Kind::Pie);
        i386.machine = "i386".into();
        assert!(wrong_arch(&i386, "x86-64").is_none());
        assert!(wrong_arch(&i386, "aarch64").is_some());
    }

    #[test]
    fn missing_interpreter_and_missing_library() {
        let mut base = glibc_base(vec![]);
        base.links.clear();
        let pr = run(&program(&["libc.so.6"]), &base, &BTreeMap::new());
        assert_eq!(pr.verdict, Verdict::NoInterpreter);
        let pr = run(
            &program(&["libnowhere.so.1", "libc.so.6"]),
            &glibc_base(vec![]),
            &BTreeMap::new(),
        );
        assert_eq!(pr.verdict, Verdict::MissingLibrary);
        assert_eq!(
            pr.problems,
            vec![Problem::MissingLibrary {
                library: "libnowhere.so.1".into(),
                needed_by: Some("bin".into()),
                via: None,
            }]
        );
        // The hints a caller attaches (the simulation itself gives none).
        let hints = crate::advice::for_prediction(
            &program(&["libnowhere.so.1", "libc.so.6"]),
            &Default::default(),
            &glibc_base(vec![]),
            &pr,
            crate::advice::Context::Check,
        );
        assert!(
            hints
                .iter()
                .any(|h| h.contains("install the package that provides it")),
            "{hints:?}"
        );
    }

    #[test]
    fn rpath_is_inherited_runpath_is_not() {
        // bin → libmid.so.1 → libx.so.1; one libx in $ORIGIN/a, another in the system dir.
        let side: BTreeMap<String, Library> = [
            (
                "/app/a/libx.so.1".to_string(),
                lib("libx.so.1", &[], &[], &[]),
            ),
            (
                "/app/a/libmid.so.1".to_string(),
                lib("libmid.so.1", &["libx.so.1"], &[], &[]),
            ),
        ]
        .into_iter()
        .collect();
        let base = glibc_base(vec![(
            "/usr/lib/x86_64-linux-gnu/libx.so.1",
            lib("libx.so.1", &[], &[], &[]),
        )]);
        let mut p = program(&["libmid.so.1", "libc.so.6"]);
        p.rpath = vec!["$ORIGIN/a".into()];
        let pr = run(&p, &base, &side);
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
        assert_eq!(
            loaded_path(&pr, "libx.so.1"),
            Some("/app/a/libx.so.1"),
            "DT_RPATH applies to libmid's needs too"
        );
        let mut p = program(&["libmid.so.1", "libc.so.6"]);
        p.runpath = vec!["$ORIGIN/a".into()];
        let pr = run(&p, &base, &side);
        assert_eq!(loaded_path(&pr, "libmid.so.1"), Some("/app/a/libmid.so.1"));
        assert_eq!(
            loaded_path(&pr, "libx.so.1"),
            Some("/usr/lib/x86_64-linux-gnu/libx.so.1"),
            "DT_RUNPATH is not inherited"
        );
    }

    #[test]
    fn origin_of_a_library_is_its_own_directory() {
        let mut mid = lib("libmid.so.1", &["libx.so.1"], &[], &[]);
        mid.profile.runpath = vec!["$ORIGIN/../deps".into()];
        let side: BTreeMap<String, Library> = [
            ("/app/lib/libmid.so.1".to_string(), mid),
            (
                "/app/deps/libx.so.1".to_string(),
                lib("libx.so.1", &[], &[], &[]),
            ),
        ]
        .into_iter()
        .collect();
        let mut p = program(&["libmid.so.1", "libc.so.6"]);
        p.runpath = vec!["$ORIGIN/lib".into()];
        let pr = run(&p, &glibc_base(vec![]), &side);
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
        assert_eq!(loaded_path(&pr, "libx.so.1"), Some("/app/deps/libx.so.1"));
    }

    #[test]
    fn glibc_stops_at_the_first_soname_match() {
        // The cache names an old libx without X_2.0 first; a newer one later in the search path
        // does not help: glibc never looks further.
        let mut base = glibc_base(vec![
            (
                "/usr/lib/x86_64-linux-gnu/libx.so.1",
                lib("libx.so.1", &[], &["X_1.0"], &["f@@X_1.0"]),
            ),
            (
                "/usr/lib/libx.so.1",
                lib(
                    "libx.so.1",
                    &[],
                    &["X_1.0", "X_2.0"],
                    &["f@X_1.0", "g@@X_2.0"],
                ),
            ),
        ]);
        base.ld_so_cache = Some(vec![
            (
                "libx.so.1".into(),
                "/usr/lib/x86_64-linux-gnu/libx.so.1".into(),
                0x303,
            ),
            (
                "libc.so.6".into(),
                "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
                0x303,
            ),
        ]);
        let mut p = program(&["libx.so.1", "libc.so.6"]);
        need(&mut p, "libx.so.1", "X_2.0", "g", false);
        let pr = run(&p, &base, &BTreeMap::new());
        assert_eq!(pr.verdict, Verdict::MissingVersion, "{pr:?}");
        assert_eq!(
            pr.problems,
            vec![Problem::MissingVersion {
                library: "libx.so.1".into(),
                version: "X_2.0".into(),
                needed_by: Some("bin".into())
            }]
        );
        assert!(
            !pr.problems
                .iter()
                .any(|p| matches!(p, Problem::MissingSymbol { .. })),
            "the symbol of a missing version is a consequence"
        );
    }

    /// ldconfig lists glibc-hwcaps copies in ld.so.cache; they load only on CPUs with their level,
    /// so the prediction (for any CPU) takes the plain library.
    #[test]
    fn a_glibc_hwcaps_copy_in_the_cache_is_not_the_prediction() {
        let copy = "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libx.so.1";
        let plain = "/usr/lib/x86_64-linux-gnu/libx.so.1";
        let mut base = glibc_base(vec![
            (copy, lib("libx.so.1", &[], &[], &["f"])),
            (plain, lib("libx.so.1", &[], &[], &["f"])),
        ]);
        base.ld_so_cache = Some(vec![
            ("libx.so.1".into(), copy.into(), 0x303),
            ("libx.so.1".into(), plain.into(), 0x303),
            (
                "libc.so.6".into(),
                "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
                0x303,
            ),
        ]);
        let pr = run(
            &program(&["libx.so.1", "libc.so.6"]),
            &base,
            &BTreeMap::new(),
        );
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
        assert_eq!(pr.loaded[0], ("libx.so.1".to_string(), plain.to_string()));
    }

    /// A 32-bit x86 program on an amd64 base: its own loader (/lib/ld-linux.so.2) and the i386
    /// libraries, found through the i386 multiarch directory and the ld.so.cache entries whose
    /// flags are i386's (FLAG_ELF_LIBC6, 0x0003; x86-64's add FLAG_X8664_LIB64, 0x0303).
    #[test]
    fn an_i386_program_uses_the_i386_loader_and_libraries() {
        let i386 = |mut l: Library| {
            l.profile.machine = "i386".into();
            l.profile.e_machine = 3;
            l.profile.class = "elf32".into();
            l
        };
        let ld = i386(lib(
            "ld-linux.so.2",
            &[],
            &["GLIBC_2.0", "GLIBC_2.3", "GLIBC_PRIVATE"],
            &[],
        ));
        let libc = i386(lib(
            "libc.so.6",
            &["ld-linux.so.2"],
            &["GLIBC_2.0", "GLIBC_2.34"],
            &["puts@@GLIBC_2.0", "__libc_start_main@@GLIBC_2.34"],
        ));
        let mut p = program(&["libc.so.6"]);
        p.machine = "i386".into();
        p.e_machine = 3;
        p.class = "elf32".into();
        p.interpreter = Some("/lib/ld-linux.so.2".into());
        // Without the i386 loader: no interpreter, whatever x86-64 libraries the base has.
        let pr = run(&p, &glibc_base(vec![]), &BTreeMap::new());
        assert_eq!(pr.verdict, Verdict::NoInterpreter, "{pr:?}");

        let mut base = glibc_base(vec![
            ("/usr/lib/i386-linux-gnu/ld-linux.so.2", ld),
            ("/usr/lib/i386-linux-gnu/libc.so.6", libc),
        ]);
        base.links.insert(
            "/usr/lib/ld-linux.so.2".into(),
            "i386-linux-gnu/ld-linux.so.2".into(),
        );
        let pr = run(&p, &base, &BTreeMap::new());
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
        let paths: Vec<&str> = pr.loaded.iter().map(|(_, path)| path.as_str()).collect();
        assert!(
            paths.contains(&"/usr/lib/i386-linux-gnu/libc.so.6"),
            "{paths:?}"
        );

        // The cache lists x86-64's libc first: its flags keep the i386 program off it.
        base.ld_so_cache = Some(vec![
            (
                "libc.so.6".into(),
                "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
                0x0303,
            ),
            (
                "libc.so.6".into(),
                "/usr/lib/i386-linux-gnu/libc.so.6".into(),
                0x0003,
            ),
        ]);
        let pr = run(&p, &base, &BTreeMap::new());
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
        assert!(
            pr.loaded
                .iter()
                .any(|(_, path)| path == "/usr/lib/i386-linux-gnu/libc.so.6"),
            "{pr:?}"
        );
    }

    /// Predictions that share a ScopeMemo (an audit) agree with lone ones, also where a library's
    /// symbol is defined only by the program that loads it.
    #[test]
    fn shared_lookups_agree_with_lone_predictions() {
        let mut cb_lib = lib("libcb.so.1", &["libc.so.6"], &[], &["cb_user"]);
        cb_lib.profile.unversioned_undefined.push(UndefinedSymbol {
            name: "cb".into(),
            weak: false,
        });
        let base = glibc_base(vec![("/usr/lib/x86_64-linux-gnu/libcb.so.1", cb_lib)]);
        let p = program(&["libcb.so.1", "libc.so.6"]);
        let with_cb = ExportTable::from_lines(["cb"]);
        let without = ExportTable::default();
        let sidecars: BTreeMap<String, Library> = BTreeMap::new();
        let subject = |exports| Subject {
            profile: &p,
            exports,
            path: "/app/bin".into(),
            sidecars: &sidecars,
            host_scope: &[],
        };
        let memo = ScopeMemo::default();
        for exports in [&with_cb, &without, &with_cb, &without] {
            let s = subject(exports);
            let shared = predict_with(&s, &base, Some(&memo));
            let lone = predict(&s, &base);
            assert_eq!(shared.verdict, lone.verdict);
            assert_eq!(shared.problems, lone.problems);
        }
        assert_eq!(predict(&subject(&with_cb), &base).verdict, Verdict::Ok);
        let pr = predict_with(&subject(&without), &base, Some(&memo));
        assert_eq!(
            pr.problems,
            vec![Problem::MissingSymbol {
                symbol: "cb".into(),
                version: None,
                needed_by: Some("libcb.so.1".into()),
            }]
        );
    }

    #[test]
    fn weak_symbols_and_weak_versions_may_be_missing() {
        let mut p = program(&["libc.so.6"]);
        p.unversioned_undefined.push(UndefinedSymbol {
            name: "__gmon_start__".into(),
            weak: true,
        });
        need(&mut p, "libc.so.6", "GLIBC_9.99", "future", true);
        assert_eq!(
            run(&p, &glibc_base(vec![]), &BTreeMap::new()).verdict,
            Verdict::Ok
        );
        p.unversioned_undefined.push(UndefinedSymbol {
            name: "strong_missing".into(),
            weak: false,
        });
        let pr = run(&p, &glibc_base(vec![]), &BTreeMap::new());
        assert_eq!(pr.verdict, Verdict::MissingSymbol);
        assert_eq!(
            pr.problems,
            vec![Problem::MissingSymbol {
                symbol: "strong_missing".into(),
                version: None,
                needed_by: Some("bin".into())
            }]
        );
    }

    #[test]
    fn transitive_needs_are_checked() {
        let mut a = lib("liba.so.1", &["libb.so.1", "libc.so.6"], &[], &["a@@A_1"]);
        a.profile.versioned_undefined.push(VersionedSymbol {
            name: "puts".into(),
            weak: false,
            library: "libc.so.6".into(),
            version: "GLIBC_2.2.5".into(),
        });
        let base = glibc_base(vec![("/usr/lib/x86_64-linux-gnu/liba.so.1", a)]);
        let pr = run(
            &program(&["liba.so.1", "libc.so.6"]),
            &base,
            &BTreeMap::new(),
        );
        assert_eq!(
            pr.problems,
            vec![Problem::MissingLibrary {
                library: "libb.so.1".into(),
                needed_by: Some("liba.so.1".into()),
                via: None,
            }]
        );
        let mut c = lib("libc2.so.1", &["libc.so.6"], &[], &[]);
        need(&mut c.profile, "libc.so.6", "GLIBC_2.99", "newer", false);
        let base = glibc_base(vec![("/usr/lib/x86_64-linux-gnu/libc2.so.1", c)]);
        let pr = run(
            &program(&["libc2.so.1", "libc.so.6"]),
            &base,
            &BTreeMap::new(),
        );
        assert_eq!(
            pr.problems,
            vec![Problem::MissingVersion {
                library: "libc.so.6".into(),
                version: "GLIBC_2.99".into(),
                needed_by: Some("libc2.so.1".into())
            }]
        );
    }

    fn musl_base(path_file: Option<Vec<String>>, extra: Vec<(&str, Library)>) -> BaseProfile {
        let mut libraries = BTreeMap::new();
        let mut musl = lib(
            "libc.musl-x86_64.so.1",
            &[],
            &[],
            &["puts", "__libc_start_main", "strlcpy", "printf"],
        );
        musl.profile.libc.flavour = LibcFlavour::Musl;
        libraries.insert("/lib/ld-musl-x86_64.so.1".to_string(), musl);
        for (p, l) in extra {
            libraries.insert(p.to_string(), l);
        }
        let links = [(
            "/lib/libc.musl-x86_64.so.1".to_string(),
            "ld-musl-x86_64.so.1".to_string(),
        )]
        .into_iter()
        .collect();
        BaseProfile {
            format: crate::image::base::FORMAT,
            image_id: "musl".into(),
            os: None,
            libc: LibcKind::Musl,
            libc_version: Some("1.2.5".into()),
            links,
            libraries,
            ld_so_conf: vec![],
            ld_so_cache: None,
            musl_path: path_file,
            shell: true,
            runtime: Default::default(),
            catalog: false,
            hosts: vec![],
            machine: None,
            link_index: Default::default(),
            cache_index: Default::default(),
        }
    }

    fn musl_program(needed: &[&str], undefined: &[&str]) -> BinaryProfile {
        let mut p = blank(Kind::Pie);
        p.interpreter = Some("/lib/ld-musl-x86_64.so.1".into());
        p.libc.flavour = LibcFlavour::Musl;
        p.needed = needed.iter().map(|s| s.to_string()).collect();
        p.unversioned_undefined = undefined
            .iter()
            .map(|s| UndefinedSymbol {
                name: (*s).into(),
                weak: false,
            })
            .collect();
        p
    }

    #[test]
    fn musl_maps_libc_names_onto_itself_and_ignores_versions() {
        let pr = run(
            &musl_program(&["libc.so", "libm.so.6", "libpthread.so.0"], &["puts"]),
            &musl_base(None, vec![]),
            &BTreeMap::new(),
        );
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
        assert_eq!(pr.loader.as_deref(), Some("musl"));
        let pr = run(
            &musl_program(&["libc.musl-x86_64.so.1"], &["puts", "backtrace"]),
            &musl_base(None, vec![]),
            &BTreeMap::new(),
        );
        assert_eq!(
            pr.problems,
            vec![Problem::MissingSymbol {
                symbol: "backtrace".into(),
                version: None,
                needed_by: Some("bin".into())
            }]
        );
    }

    /// A library defining `ifunc_add` only as an IFUNC (libatomic's __atomic_load_16): glibc
    /// binds it, musl's lookup skips that type, for the program and for the library's own use.
    #[test]
    fn ifunc_definitions_bind_under_glibc_only() {
        let ifunc_lib = |needed: &[&str]| {
            let mut l = lib("libifunc.so.1", needed, &[], &[]);
            l.exports.push_for("ifunc_add", None, true, false);
            l.exports.push("ifunc_twice", None, true);
            l.profile.hidden_self_refs = vec!["ifunc_add".into()];
            l
        };
        let musl = musl_base(None, vec![("/lib/libifunc.so.1", ifunc_lib(&["libc.so"]))]);
        let pr = run(
            &musl_program(&["libifunc.so.1", "libc.so"], &["ifunc_add", "ifunc_twice"]),
            &musl,
            &BTreeMap::new(),
        );
        let missing = |by: &str| Problem::MissingSymbol {
            symbol: "ifunc_add".into(),
            version: None,
            needed_by: Some(by.into()),
        };
        assert_eq!(pr.verdict, Verdict::MissingSymbol, "{pr:?}");
        assert_eq!(pr.problems, vec![missing("bin"), missing("libifunc.so.1")]);
        let glibc = glibc_base(vec![(
            "/usr/lib/x86_64-linux-gnu/libifunc.so.1",
            ifunc_lib(&["libc.so.6"]),
        )]);
        let mut p = program(&["libifunc.so.1", "libc.so.6"]);
        p.unversioned_undefined.push(UndefinedSymbol {
            name: "ifunc_add".into(),
            weak: false,
        });
        let pr = run(&p, &glibc, &BTreeMap::new());
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
    }

    /// musl refuses IRELATIVE relocations in whichever object has them, a library included.
    #[test]
    fn musl_refuses_irelative_in_a_library() {
        let mut multi = lib("libmv.so.1", &["libc.so"], &[], &["mv"]);
        multi.profile.irelative = true;
        let base = musl_base(None, vec![("/lib/libmv.so.1", multi)]);
        let pr = run(
            &musl_program(&["libmv.so.1", "libc.so"], &["mv"]),
            &base,
            &BTreeMap::new(),
        );
        assert_eq!(
            pr.problems,
            vec![Problem::Unsupported {
                what: "relocation type 37".into(),
                needed_by: Some("libmv.so.1".into()),
            }]
        );
    }

    #[test]
    fn musl_search_path_file_and_inherited_rpath() {
        let extra = vec![("/opt/lib/liby.so.1", lib("liby.so.1", &[], &[], &["y"]))];
        let pr = run(
            &musl_program(&["liby.so.1"], &["y"]),
            &musl_base(None, extra.clone()),
            &BTreeMap::new(),
        );
        assert_eq!(
            pr.verdict,
            Verdict::MissingLibrary,
            "not in musl's default path"
        );
        let pr = run(
            &musl_program(&["liby.so.1"], &["y"]),
            &musl_base(Some(vec!["/opt/lib".into()]), extra),
            &BTreeMap::new(),
        );
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
        // musl walks the rpath of every object that led to the library, RUNPATH included.
        let side: BTreeMap<String, Library> = [
            (
                "/app/l/libmid.so.1".to_string(),
                lib("libmid.so.1", &["libz9.so.1"], &[], &[]),
            ),
            (
                "/app/l/libz9.so.1".to_string(),
                lib("libz9.so.1", &[], &[], &[]),
            ),
        ]
        .into_iter()
        .collect();
        let mut p = musl_program(&["libmid.so.1"], &[]);
        p.runpath = vec!["$ORIGIN/l".into()];
        let pr = run(&p, &musl_base(None, vec![]), &side);
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
    }

    #[test]
    fn glibc_program_on_musl_base_gets_the_gcompat_analysis() {
        let base = musl_base(None, vec![]);
        let mut p = program(&["libc.so.6"]);
        p.unversioned_undefined.push(UndefinedSymbol {
            name: "puts".into(),
            weak: false,
        });
        let pr = run(&p, &base, &BTreeMap::new());
        assert_eq!(pr.verdict, Verdict::NoInterpreter);
        assert!(pr.musl_compat.as_ref().unwrap().runs, "{pr:?}");
        need(&mut p, "libc.so.6", "GLIBC_2.3.4", "__snprintf_chk", false);
        let pr = run(&p, &base, &BTreeMap::new());
        let c = pr.musl_compat.unwrap();
        assert!(!c.runs);
        assert_eq!(c.summary, "needs glibc: `__snprintf_chk` is not in musl");
    }

    #[test]
    fn static_and_shared_objects() {
        assert_eq!(
            run(&blank(Kind::Static), &glibc_base(vec![]), &BTreeMap::new()).verdict,
            Verdict::Ok
        );
        let mut so = blank(Kind::SharedObject);
        so.needed = vec!["libc.so.6".into()];
        assert_eq!(
            run(&so, &glibc_base(vec![]), &BTreeMap::new()).verdict,
            Verdict::Ok
        );
        let mut empty = glibc_base(vec![]);
        empty.libraries.clear();
        assert_eq!(
            run(&so, &empty, &BTreeMap::new()).verdict,
            Verdict::NoInterpreter
        );
    }

    fn dlopen_dep(soname: &[&str], priority: &str) -> crate::elf::needs::DlopenDep {
        crate::elf::needs::DlopenDep {
            soname: soname.iter().map(|s| s.to_string()).collect(),
            priority: priority.into(),
            feature: None,
            source: "note".into(),
        }
    }

    /// dlopen follows the program's RUNPATH (with $ORIGIN) and the system search, and a library
    /// found must itself load: one whose dependency is absent fails on that dependency.
    #[test]
    fn dlopen_searches_like_the_loader_and_follows_what_the_library_needs() {
        let mut p = program(&["libc.so.6"]);
        p.runpath = vec!["$ORIGIN/plugins".into()];
        let ssl = lib("libssl.so.3", &["libz.so.1", "libc.so.6"], &[], &[]);
        let base = glibc_base(vec![("/usr/lib/x86_64-linux-gnu/libssl.so.3", ssl)]);
        let mut sidecars = BTreeMap::new();
        sidecars.insert(
            "/app/plugins/libplug.so.1".to_string(),
            lib("libplug.so.1", &["libc.so.6"], &[], &[]),
        );
        let subject = Subject {
            profile: &p,
            exports: &ExportTable::default(),
            path: "/app/bin".into(),
            sidecars: &sidecars,
            host_scope: &[],
        };
        let pr = predict(&subject, &base);
        assert_eq!(pr.verdict, Verdict::Ok, "{pr:?}");
        let search = dlopen::Search {
            subject: &subject,
            base: &base,
            prediction: &pr,
            program: "bin",
        };
        assert_eq!(search.opens("libplug.so.1"), Ok(()));
        assert_eq!(search.opens("libc.so.6"), Ok(()), "loaded already");
        let missing = |library: &str, by: &str| Problem::MissingLibrary {
            library: library.into(),
            needed_by: Some(by.into()),
            via: Some("dlopen".into()),
        };
        assert_eq!(
            search.opens("libnone.so.1"),
            Err(missing("libnone.so.1", "bin"))
        );
        assert_eq!(
            search.opens("libssl.so.3"),
            Err(missing("libz.so.1", "libssl.so.3"))
        );
        // Required entries become problems (alternatives: any one will do); others do not.
        let deps = [
            dlopen_dep(&["libnone.so.1", "libnone.so.0"], "required"),
            dlopen_dep(&["libgone.so.1"], "recommended"),
            dlopen_dep(&["libnone.so.2", "libplug.so.1"], "required"),
        ];
        let with = search.with_required(&deps);
        assert_eq!(with.verdict, Verdict::MissingLibrary);
        assert_eq!(
            with.problems,
            [missing("libnone.so.1 | libnone.so.0", "bin")]
        );
        assert_eq!(
            with.reason,
            "libnone.so.1 | libnone.so.0 not found (bin loads it with dlopen)"
        );
    }

    /// A module loaded by its host program sees what the host loaded: a Python extension that
    /// calls cos() without needing libm loads where the interpreter brought libm along.
    #[test]
    fn a_modules_host_scope_comes_before_its_own() {
        let mut m = blank(Kind::SharedObject);
        m.needed = vec!["libc.so.6".into()];
        m.unversioned_undefined.push(UndefinedSymbol {
            name: "cos".into(),
            weak: false,
        });
        let libm = lib(
            "libm.so.6",
            &["libc.so.6"],
            &["GLIBC_2.2.5"],
            &["cos@@GLIBC_2.2.5"],
        );
        let base = glibc_base(vec![("/usr/lib/x86_64-linux-gnu/libm.so.6", libm)]);
        let sidecars = BTreeMap::<String, Library>::new();
        let predict_in = |host_scope: &[String]| {
            predict(
                &Subject {
                    profile: &m,
                    exports: &ExportTable::default(),
                    path: "/app/mod.so".into(),
                    sidecars: &sidecars,
                    host_scope,
                },
                &base,
            )
        };
        let alone = predict_in(&[]);
        assert_eq!(alone.verdict, Verdict::MissingSymbol, "{alone:?}");
        let hosted = predict_in(&["libm.so.6".into(), "libexpat.so.1".into()]);
        assert_eq!(
            hosted.verdict,
            Verdict::Ok,
            "a host library the base lacks is the host's problem: {hosted:?}"
        );
        assert!(loaded_path(&hosted, "libm.so.6").is_some());
    }
}
