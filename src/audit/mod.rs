//! `libccheck audit`: every ELF file of an image (or a root directory) against the bases you want
//! to move to. Which files the package manager installed (dpkg file lists, the apk database) and
//! which are the application's own; a prediction per file and target; then one verifying
//! container per target, in which the static probe runs the target's loader on every file.

pub mod source;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::elf::needs::RuntimeNeeds;
use crate::elf::{self, Kind};
use crate::image::base::{Library, Links, normalize, resolve_in};
use crate::image::entry::{FileKind, Files};
use crate::loader::{self, Prediction, Subject};
use crate::risks::{self, BaseSide};
use crate::verdict::{self, Problem, Risk, RiskKind, Severity, Verdict};

/// One ELF file of the source: its profile and (shared objects only) its exports.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub lib: Library,
    /// What it will ask for at run time (for its risks on each target).
    pub needs: RuntimeNeeds,
}

/// What was read of the source image or directory.
#[derive(Debug, Default)]
pub struct Source {
    pub files: Vec<SourceFile>,
    pub links: BTreeMap<String, String>,
    /// Paths the package manager installed, resolved inside the source.
    pub owned: hashbrown::HashSet<String, foldhash::fast::FixedState>,
    /// `dpkg`, `apk`, or none.
    pub package_manager: Option<String>,
    pub packages: usize,
    pub non_elf: usize,
    pub unreadable: Vec<(String, String)>,
    /// `links`, hashed (filled once the source is complete).
    pub link_index: crate::image::base::LinkIndex,
    /// Where the source's own files are placed in a target (a package's install directory, which
    /// libccheck chooses under `/libccheck`); `None`: at their own paths.
    pub install_dir: Option<String>,
    /// Every regular file and directory of an image's filesystem, as exec sees it (read from a
    /// tar stream only: `libccheck image` resolves what the container runs with it).
    pub kinds: hashbrown::HashMap<String, FileKind, foldhash::fast::FixedState>,
}

/// The image's files as the resolution of its entrypoint needs them.
impl Files for Source {
    fn resolve(&self, path: &str) -> Option<String> {
        let real = resolve_in(self.link_index.of(&self.links), &normalize(path))?;
        self.kinds.contains_key(&real).then_some(real)
    }

    fn kind(&self, real: &str) -> FileKind {
        self.kinds
            .get(real)
            .cloned()
            .unwrap_or(FileKind::Other { executable: false })
    }
}

/// One entry of the source, read.
#[derive(Debug)]
pub enum Item {
    Text(String, String),
    Elf(Box<SourceFile>),
    NonElf,
    Unreadable(String, String),
}

/// Collects a [`Source`] entry by entry (from a tar stream or a directory walk).
#[derive(Default)]
pub struct SourceBuilder {
    s: Source,
    lists: Vec<String>,
    apk: Option<String>,
    /// Hard links (name, target), settled in [`finish`](Self::finish).
    hardlinks: Vec<(String, String)>,
}

fn is_dpkg_list(path: &str) -> bool {
    path.starts_with("/var/lib/dpkg/info/") && path.ends_with(".list")
}

const APK_DB: &str = "/lib/apk/db/installed";

impl SourceBuilder {
    /// Files whose whole content is wanted (package databases); ELF files are decided by magic.
    pub fn wants_text(path: &str) -> bool {
        is_dpkg_list(path) || path == APK_DB || path == "/usr/lib/apk/db/installed"
    }

    pub fn add_link(&mut self, path: &str, target: &str) {
        self.s.links.insert(normalize(path), target.to_string());
    }

    /// What a file or directory of the source is, for exec (see [`Source::kinds`]).
    pub fn add_kind(&mut self, path: &str, kind: FileKind) {
        self.s.kinds.insert(normalize(path), kind);
    }

    /// A hard link: a second name of the regular file `target`. A container export writes
    /// every name as a regular file; so is it read here, once its target is known.
    pub fn add_hardlink(&mut self, path: &str, target: &str) {
        self.hardlinks.push((normalize(path), normalize(target)));
    }

    /// Each hard link as a copy of its target: its kind, and its ELF file or non-ELF count.
    fn settle_hardlinks(&mut self) {
        let links = std::mem::take(&mut self.hardlinks);
        if links.is_empty() {
            return;
        }
        let by_path: std::collections::HashMap<String, usize> = self
            .s
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        for (path, target) in links {
            let Some(kind) = self.s.kinds.get(&target).cloned() else {
                continue;
            };
            self.s.kinds.insert(path.clone(), kind);
            match by_path.get(&target) {
                Some(&i) => {
                    let mut f = self.s.files[i].clone();
                    f.path = path;
                    self.s.files.push(f);
                }
                None => match self.s.unreadable.iter().find(|(p, _)| *p == target) {
                    Some((_, e)) => {
                        let e = e.clone();
                        self.s.unreadable.push((path, e));
                    }
                    None => self.s.non_elf += 1,
                },
            }
        }
    }

    pub fn add_non_elf(&mut self) {
        self.s.non_elf += 1;
    }

    pub fn add_file(&mut self, path: &str, bytes: &[u8]) {
        let item = Self::parse_entry(path, bytes);
        self.add_item(item);
    }

    /// The work of [`add_file`](Self::add_file) that needs no builder state (may run in parallel).
    pub fn parse_entry(path: &str, bytes: &[u8]) -> Item {
        let path = normalize(path);
        if Self::wants_text(&path) {
            return Item::Text(path, String::from_utf8_lossy(bytes).into_owned());
        }
        if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
            return Item::NonElf;
        }
        match elf::parse_for_loader(bytes) {
            Ok((profile, _))
                if matches!(profile.kind, Kind::Relocatable | Kind::Core | Kind::Other) =>
            {
                Item::NonElf
            }
            Ok((profile, exports)) => {
                let exports = if profile.kind == Kind::SharedObject || profile.soname.is_some() {
                    exports
                } else {
                    Default::default()
                };
                let needs = elf::needs::runtime_needs_quick(bytes, &profile);
                Item::Elf(Box::new(SourceFile {
                    path,
                    lib: Library::new(profile, exports),
                    needs,
                }))
            }
            Err(e) => Item::Unreadable(path, e.to_string()),
        }
    }

    pub fn add_item(&mut self, item: Item) {
        match item {
            Item::Text(path, t) => {
                if is_dpkg_list(&path) {
                    self.lists.push(t);
                } else {
                    self.apk = Some(t);
                }
            }
            Item::Elf(f) => self.s.files.push(*f),
            Item::NonElf => self.s.non_elf += 1,
            Item::Unreadable(p, e) => self.s.unreadable.push((p, e)),
        }
    }

    pub fn finish(mut self) -> Source {
        self.settle_hardlinks();
        // Only the package database's entries for files and links of this source matter; each
        // entry's directory is resolved through the source's links once (merged /usr: dpkg says
        // /lib/x86_64-linux-gnu/libc.so.6 for /usr/lib/x86_64-linux-gnu/libc.so.6).
        let links = self.s.link_index.of(&self.s.links);
        let present: hashbrown::HashSet<&str, foldhash::fast::FixedState> = self
            .s
            .files
            .iter()
            .map(|f| f.path.as_str())
            .chain(self.s.links.keys().map(String::as_str))
            .collect();
        // Resolving changes only the directory part: an entry whose file name no file or link
        // of the source has (most of them: documentation, data) is passed over unresolved.
        let names: hashbrown::HashSet<&str, foldhash::fast::FixedState> = present
            .iter()
            .map(|p| p.rsplit('/').next().unwrap_or(p))
            .collect();
        // The packaged paths one database entry stands for: none, the path, or a link and the
        // file it leads to.
        let packaged =
            |dirs: &mut crate::image::base::DirResolver, p: &str, out: &mut Vec<String>| {
                let name = p.trim_end_matches('/').rsplit('/').next().unwrap_or(p);
                if !names.contains(name) && name != "." && name != ".." {
                    return;
                }
                let Some(path) = dirs.resolve_dir_of(links, &normalize(p)) else {
                    return;
                };
                if !present.contains(path.as_str()) {
                    return;
                }
                if links.link(&path).is_some()
                    && let Some(r) = resolve_in(links, &path)
                {
                    out.push(r);
                }
                out.push(path);
            };
        let mut owned = Vec::new();
        if !self.lists.is_empty() {
            use rayon::prelude::*;
            self.s.package_manager = Some("dpkg".into());
            self.s.packages = self.lists.len();
            let per_list: Vec<Vec<String>> = self
                .lists
                .par_iter()
                .map_init(crate::image::base::DirResolver::default, |dirs, l| {
                    let mut out = Vec::new();
                    for line in l.lines().filter(|l| l.starts_with('/')) {
                        packaged(dirs, line, &mut out);
                    }
                    out
                })
                .collect();
            owned.extend(per_list.into_iter().flatten());
        }
        if let Some(db) = &self.apk {
            self.s.package_manager = Some("apk".into());
            let mut dirs = crate::image::base::DirResolver::default();
            let mut dir = String::new();
            for line in db.lines() {
                if let Some(d) = line.strip_prefix("F:") {
                    dir = d.to_string();
                } else if let Some(f) = line.strip_prefix("R:") {
                    packaged(&mut dirs, &format!("/{dir}/{f}"), &mut owned);
                } else if line.starts_with("P:") {
                    self.s.packages += 1;
                }
            }
        }
        drop(names);
        drop(present);
        self.s.owned = owned.into_iter().collect();
        self.s.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.s.unreadable.sort();
        self.s
    }
}

impl Source {
    pub fn is_packaged(&self, path: &str) -> bool {
        self.owned.contains(path)
            || resolve_in(self.link_index.of(&self.links), path)
                .is_some_and(|r| self.owned.contains(&r))
    }

    /// The files to audit: the application's own (not installed by the package manager), or all.
    pub fn selected(&self, all: bool) -> Vec<&SourceFile> {
        self.files
            .iter()
            .filter(|f| all || !self.is_packaged(&f.path))
            .collect()
    }

    /// Where a file of the source is checked (predicted and verified alike): the application's
    /// own files at their own paths; packaged files under [`SYSTEM_DIR`] (`/usr/bin/apt` at
    /// `/libccheck/system/usr/bin/apt`), where `$ORIGIN` still finds their neighbours but no
    /// search path does: on the target, its own packages provide the libraries.
    pub fn placed_at(&self, path: &str) -> String {
        self.place(path, self.is_packaged(path))
    }

    /// The files to audit, each with where it is checked.
    pub fn placements(&self, all: bool) -> Vec<(&SourceFile, String)> {
        self.files
            .iter()
            .filter_map(|f| {
                let packaged = self.is_packaged(&f.path);
                (all || !packaged).then(|| (f, self.place(&f.path, packaged)))
            })
            .collect()
    }

    /// The libraries among the files to audit, as the target would see them once copied in: by
    /// where they are placed and by every symlink of the source that leads to them.
    pub fn overlay(&self, all: bool) -> loader::Overlay<'_> {
        let mut m = loader::Overlay::default();
        let mut by_path: BTreeMap<&str, &Library> = BTreeMap::new();
        for (f, at) in self.placements(all) {
            if f.lib.profile.kind == Kind::SharedObject || f.lib.profile.soname.is_some() {
                by_path.insert(&f.path, &f.lib);
                m.insert(at, &f.lib);
            }
        }
        for (link, _, real) in self.links_to(all) {
            if let Some(l) = by_path.get(real.as_str()) {
                m.insert(self.placed_at(link), l);
            }
        }
        m
    }

    /// Symlinks of the source that lead to files to audit, placed like them (uploaded with
    /// them): (where the link is placed, its target).
    pub fn overlay_links(&self, all: bool) -> Vec<(String, String)> {
        self.links_to(all)
            .into_iter()
            .map(|(l, t, _)| {
                let at = self.placed_at(l);
                let target = match at.starts_with(SYSTEM_DIR) && t.starts_with('/') {
                    true => format!("{SYSTEM_DIR}{t}"),
                    false => t.clone(),
                };
                (at, target)
            })
            .collect()
    }

    /// (link, its target, the file it leads to) for the links that lead to a file to audit of
    /// their own kind (packaged to packaged, the application's to the application's).
    fn links_to(&self, all: bool) -> Vec<(&String, &String, String)> {
        let selected: BTreeSet<&str> = self.selected(all).iter().map(|f| f.path.as_str()).collect();
        self.links
            .iter()
            .filter_map(|(l, t)| {
                let real = resolve_in(self.link_index.of(&self.links), l)?;
                (selected.contains(real.as_str()) && self.is_packaged(l) == self.is_packaged(&real))
                    .then_some((l, t, real))
            })
            .collect()
    }
}

impl Source {
    fn place(&self, path: &str, packaged: bool) -> String {
        match (packaged, &self.install_dir) {
            (true, _) => format!("{SYSTEM_DIR}{path}"),
            (false, Some(dir)) => format!("{dir}{path}"),
            (false, None) => path.to_string(),
        }
    }

    /// A verifying container's outcome with the files named by their paths in the source again
    /// (`/libccheck/system/usr/lib/…/libc.so.6` → `/usr/lib/…/libc.so.6`).
    pub fn unplaced(&self, o: verdict::Outcome) -> verdict::Outcome {
        let o = unplaced(o);
        match &self.install_dir {
            Some(dir) => unplaced_from(o, dir),
            None => o,
        }
    }
}

/// Where packaged files are checked: see [`Source::placed_at`].
pub const SYSTEM_DIR: &str = "/libccheck/system";

/// A verifying container's outcome with packaged files named by their own paths again
/// (`/libccheck/system/usr/lib/…/libc.so.6` → `/usr/lib/…/libc.so.6`).
pub fn unplaced(o: verdict::Outcome) -> verdict::Outcome {
    unplaced_from(o, SYSTEM_DIR)
}

/// `o` with `dir/` turned back into `/` wherever it names a path.
fn unplaced_from(mut o: verdict::Outcome, dir: &str) -> verdict::Outcome {
    let fix = |s: &mut String| {
        if s.contains(dir) {
            *s = s.replace(&format!("{dir}/"), "/");
        }
    };
    fix(&mut o.reason);
    if let Some(e) = &mut o.evidence {
        fix(e);
    }
    for p in &mut o.problems {
        match p {
            Problem::NoInterpreter { .. } | Problem::WrongArch { .. } => {}
            Problem::MissingLibrary { needed_by, .. }
            | Problem::MissingVersion { needed_by, .. }
            | Problem::MissingSymbol { needed_by, .. }
            | Problem::Unsupported { needed_by, .. }
            | Problem::LoaderCrash { needed_by, .. }
            | Problem::CpuUnsupported { needed_by, .. } => {
                if let Some(n) = needed_by {
                    fix(n);
                }
            }
        }
    }
    o
}

pub use crate::loader::host::{host_provided, without_host_symbols};

/// The audit of one file on one target.
#[derive(Debug, Clone, Serialize)]
pub struct FileResult {
    pub path: String,
    pub kind: Kind,
    pub packaged: bool,
    pub verdict: Verdict,
    pub reason: String,
    pub problems: Vec<Problem>,
    pub hints: Vec<String>,
    pub predicted: Verdict,
    /// The loader's verdict in the verifying container (`None` with --no-run, or when its report
    /// was cut off before anything but symbols the host provides).
    pub verified: Option<Verdict>,
    pub agree: Option<bool>,
    pub note: Option<String>,
    /// When prediction and run disagree: the details only one side named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differs: Option<crate::probe::agreement::Differs>,
    /// Run-time risks on this target (files that load only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<Risk>,
    /// The host program it is a module of (its host's symbols are left to the host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<elf::module::Host>,
}

/// The run's side of one file, host-provided symbols dropped as on the prediction's side.
struct Checked {
    verdict: Option<Verdict>,
    problems: Vec<Problem>,
    agree: Option<bool>,
    differs: Option<crate::probe::agreement::Differs>,
}

/// Check the run of one file against its prediction (`pred`: host symbols already dropped).
fn check_run(kind: Kind, pred: &Prediction, o: &verdict::Outcome) -> Checked {
    let (rp, _) = without_host_symbols(kind, o.problems.clone());
    let v = if o.verdict == Verdict::MissingSymbol
        || o.verdict == Verdict::Ok
        || !o.problems.is_empty()
    {
        rp.iter().map(Problem::verdict).min().unwrap_or(Verdict::Ok)
    } else {
        o.verdict
    };
    let cut = o.stdout_truncated || o.stderr_truncated;
    // The loader probe sees the load only, not what the file would `dlopen` once running.
    let c = crate::probe::agreement::compare(&crate::probe::agreement::at_load(pred), v, &rp, cut);
    // A report cut off while it still named host symbols only has not shown whether anything else
    // is missing: no verdict from it.
    let blind = cut && rp.is_empty() && !o.problems.is_empty() && c.agree.is_none();
    Checked {
        verdict: (!blind).then_some(v),
        problems: rp,
        agree: c.agree,
        differs: c.differs,
    }
}

/// Problems grouped by cause, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub cause: String,
    pub verdict: Verdict,
    pub hint: Option<String>,
    pub files: Vec<String>,
}

/// Files sharing a run-time risk on a target: "34 files create threads without a stack size".
#[derive(Debug, Clone, Serialize)]
pub struct RiskGroup {
    pub kind: RiskKind,
    pub severity: Severity,
    pub base_fact: String,
    pub fix: String,
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    pub base: String,
    pub image: String,
    pub libc: Option<String>,
    pub audited: usize,
    pub broken: usize,
    pub mismatches: usize,
    pub groups: Vec<Group>,
    /// Run-time risks of the files that load, grouped by cause, the largest group first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<RiskGroup>,
    pub files: Vec<FileResult>,
    pub error: Option<String>,
    /// Why a run could not verify the predictions (the target is read without a container
    /// engine, or there is none); absent when verified or not asked to be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unverified: Option<String>,
}

/// The cause a problem is grouped under: "needs glibc", "libstdc++.so.6 missing", "GLIBC_2.38 needed".
pub fn cause(p: &Problem, target_libc: crate::image::base::LibcKind) -> String {
    use crate::image::base::LibcKind;
    match p {
        Problem::NoInterpreter { interpreter }
            if elf::is_glibc_loader(interpreter) && target_libc == LibcKind::Musl =>
        {
            "needs glibc".into()
        }
        Problem::NoInterpreter { interpreter } if elf::is_musl_loader(interpreter) => {
            "needs musl".into()
        }
        Problem::NoInterpreter { .. } if target_libc == LibcKind::None => {
            "no dynamic loader in the base".into()
        }
        Problem::NoInterpreter { interpreter } => format!("no {interpreter}"),
        Problem::MissingLibrary { library, .. } => format!("{library} missing"),
        Problem::MissingVersion { version, .. } => format!("{version} needed"),
        Problem::MissingSymbol { .. } => "symbols not found".into(),
        Problem::Unsupported { what, .. } => format!("unsupported by the loader: {what}"),
        Problem::WrongArch { machine, .. } => format!("built for {machine}"),
        Problem::LoaderCrash { .. } => "the loader crashes mapping it".into(),
        Problem::CpuUnsupported { level: Some(l), .. } => format!("needs a CPU with {l}"),
        Problem::CpuUnsupported { .. } => "needs a newer CPU".into(),
    }
}

/// The libraries of the host program on `target` that would load `f`, when `f` is a module and
/// the target has its host (in the global scope before the module's own).
pub fn host_scope<'t>(f: &SourceFile, target: &'t crate::image::base::BaseProfile) -> &'t [String] {
    let Some(m) = elf::module::module_of(&f.lib.profile, &f.lib.exports) else {
        return &[];
    };
    target
        .hosts
        .iter()
        .find(|h| h.host == m.host)
        .map_or(&[], |h| &h.needed)
}

/// Predict every selected file on a target (pure).
pub fn predict_all(
    source: &Source,
    all: bool,
    target: &crate::image::base::BaseProfile,
) -> Vec<(String, Prediction)> {
    use rayon::prelude::*;
    let overlay = source.overlay(all);
    let memo = loader::ScopeMemo::default();
    source
        .placements(all)
        .into_par_iter()
        .map(|(f, at)| {
            let subject = Subject {
                profile: &f.lib.profile,
                exports: &f.lib.exports,
                path: at,
                sidecars: &overlay,
                host_scope: host_scope(f, target),
            };
            let loaded = loader::predict_with(&subject, target, Some(&memo));
            let p = loader::dlopen::Search {
                subject: &subject,
                base: target,
                prediction: &loaded,
                program: &f.path,
            }
            .with_required(&f.needs.dlopen);
            let p = crate::advice::with_hints(
                &f.lib.profile,
                &f.needs.toolchain,
                target,
                p,
                crate::advice::Context::Audit,
            );
            (f.path.clone(), p)
        })
        .collect()
}

/// One target's result: the files predicted from its profile (or why there is no profile) and,
/// when they were verified there, the verification's outcomes (or why it failed) (pure).
pub fn target_result(
    source: &Source,
    all: bool,
    base: &crate::image::aliases::Base,
    profile: Result<&crate::image::base::BaseProfile, &str>,
    verified: Option<Result<BTreeMap<String, verdict::Outcome>, String>>,
) -> TargetResult {
    let mut tr = TargetResult {
        base: base.name.clone(),
        image: base.image.clone(),
        libc: None,
        audited: source.selected(all).len(),
        broken: 0,
        mismatches: 0,
        groups: vec![],
        risks: vec![],
        files: vec![],
        error: None,
        unverified: None,
    };
    let bp = match profile {
        Ok(bp) => bp,
        Err(e) => {
            tr.error = Some(e.to_string());
            return tr;
        }
    };
    tr.libc = Some(bp.describe_libc());
    let started = std::time::Instant::now();
    let predictions = predict_all(source, all, bp);
    let (ms, files) = (started.elapsed().as_millis() as u64, predictions.len());
    tracing::info!(ms, target = %tr.base, files, "predicted");
    let verified = match verified {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            tr.error = Some(e);
            None
        }
        None => None,
    };
    let (files, groups) = assemble(source, bp, predictions, verified.as_ref());
    tr.broken = files.iter().filter(|f| f.verdict != Verdict::Ok).count();
    tr.mismatches = files.iter().filter(|f| f.agree == Some(false)).count();
    tr.risks = group_risks(&files);
    tr.files = files;
    tr.groups = groups;
    tr
}

/// Combine prediction and (optional) verification into per-file results and groups (pure).
pub fn assemble(
    source: &Source,
    target: &crate::image::base::BaseProfile,
    predictions: Vec<(String, Prediction)>,
    verified: Option<&BTreeMap<String, verdict::Outcome>>,
) -> (Vec<FileResult>, Vec<Group>) {
    let by_path: BTreeMap<&str, &SourceFile> =
        source.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let files: Vec<FileResult> = predictions
        .into_iter()
        .map(|(path, pred)| {
            let f = by_path[path.as_str()];
            let run = verified.and_then(|v| v.get(&path));
            let mut r = file_result(source, f, path, pred, run);
            if r.verdict == Verdict::Ok {
                r.risks = risks::assess(&f.lib.profile, &f.needs, &BaseSide::of(target, ""));
            }
            r
        })
        .collect();
    let mut groups = group_by_cause(&files, target.libc);
    share_hints(&files, &mut groups);
    groups.sort_by(|a, b| {
        b.files
            .len()
            .cmp(&a.files.len())
            .then(a.verdict.cmp(&b.verdict))
            .then(a.cause.cmp(&b.cause))
    });
    (files, groups)
}

/// One file's result on a target: the prediction without what a host program provides, and,
/// when the file was verified, what the target's loader said, which decides where it gives a
/// verdict.
fn file_result(
    source: &Source,
    f: &SourceFile,
    path: String,
    pred: Prediction,
    run: Option<&verdict::Outcome>,
) -> FileResult {
    let (pproblems, note) = without_host_symbols(f.lib.profile.kind, pred.problems.clone());
    let pverdict = pproblems
        .iter()
        .map(Problem::verdict)
        .min()
        .unwrap_or(Verdict::Ok);
    // The run is compared with the prediction as reported, host symbols dropped.
    let mut cmp = pred.clone();
    cmp.verdict = pverdict;
    cmp.problems = pproblems.clone();
    let checked = run.map(|o| check_run(f.lib.profile.kind, &cmp, o));
    let (rverdict, rproblems, agree, differs) = match checked {
        Some(c) => (c.verdict, c.problems, c.agree, c.differs),
        None => (None, vec![], None, None),
    };
    let (verdict, problems) = settle(pverdict, pproblems, rverdict, rproblems);
    let reason = if problems.is_empty() {
        match verdict {
            Verdict::Ok => "loads".to_string(),
            // A failure that names no problem (a crash, an exec error): the run's own words,
            // else the prediction's.
            _ => run
                .map(|o| o.reason.clone())
                .unwrap_or_else(|| pred.reason.clone()),
        }
    } else {
        verdict::summarize(&problems)
    };
    FileResult {
        path: path.clone(),
        kind: f.lib.profile.kind,
        packaged: source.is_packaged(&path),
        verdict,
        reason,
        problems,
        hints: if verdict == Verdict::Ok {
            vec![]
        } else {
            pred.hints.clone()
        },
        predicted: pverdict,
        verified: rverdict,
        agree,
        note,
        differs,
        risks: vec![],
        module: elf::module::module_of(&f.lib.profile, &f.lib.exports).map(|m| m.host),
    }
}

/// The files' risks grouped by kind and base fact, the largest group first.
pub fn group_risks(files: &[FileResult]) -> Vec<RiskGroup> {
    let mut groups: Vec<RiskGroup> = Vec::new();
    for f in files {
        for r in &f.risks {
            match groups
                .iter_mut()
                .find(|g| g.kind == r.kind && g.base_fact == r.base_fact)
            {
                Some(g) => g.files.push(f.path.clone()),
                None => groups.push(RiskGroup {
                    kind: r.kind,
                    severity: r.severity,
                    base_fact: r.base_fact.clone(),
                    fix: r.fix.clone(),
                    files: vec![f.path.clone()],
                }),
            }
        }
    }
    groups.sort_by(|a, b| {
        (a.severity, std::cmp::Reverse(a.files.len()), a.kind).cmp(&(
            b.severity,
            std::cmp::Reverse(b.files.len()),
            b.kind,
        ))
    });
    groups
}

/// The verdict and problems reported for a file. A run's verdict beats the prediction; a run
/// that loads leaves no problems, and a failing run that named none (its report says too little)
/// keeps the predicted ones as the best account of why.
fn settle(
    predicted: Verdict,
    predicted_problems: Vec<Problem>,
    run: Option<Verdict>,
    run_problems: Vec<Problem>,
) -> (Verdict, Vec<Problem>) {
    // The loader's probe cannot see what a file would `dlopen` once running: the prediction says it.
    let dlopen_only = !predicted_problems.is_empty()
        && predicted_problems
            .iter()
            .all(crate::probe::classify::is_via_dlopen);
    match run {
        Some(Verdict::Ok) if dlopen_only => (predicted, predicted_problems),
        Some(Verdict::Ok) => (Verdict::Ok, vec![]),
        Some(v) if run_problems.is_empty() => (v, predicted_problems),
        Some(v) => (v, run_problems),
        None => (predicted, predicted_problems),
    }
}

/// The files that do not load, grouped by cause ([`cause`]) in the order the causes first
/// appear; a file with several causes is in several groups. Hints are added later.
fn group_by_cause(files: &[FileResult], libc: crate::image::base::LibcKind) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_cause: std::collections::HashMap<String, usize> = Default::default();
    for fr in files.iter().filter(|f| f.verdict != Verdict::Ok) {
        let causes: Vec<(String, Verdict)> = if fr.problems.is_empty() {
            vec![(fr.reason.clone(), fr.verdict)]
        } else {
            let mut c: Vec<(String, Verdict)> = fr
                .problems
                .iter()
                .map(|p| (cause(p, libc), p.verdict()))
                .collect();
            c.dedup();
            c
        };
        for (c, v) in causes {
            match by_cause.get(&c) {
                // A file's causes come one after another: if it is in the group, it came last.
                Some(&i) => {
                    if groups[i].files.last() != Some(&fr.path) {
                        groups[i].files.push(fr.path.clone())
                    }
                }
                None => {
                    by_cause.insert(c.clone(), groups.len());
                    groups.push(Group {
                        cause: c,
                        verdict: v,
                        hint: None,
                        files: vec![fr.path.clone()],
                    })
                }
            }
        }
    }
    groups
}

/// A group's hint is one every file in it shares (file-specific ones stay in the file detail):
/// preferably the one that names the cause (its first word, or the version number in it), and
/// the distroless-cc suggestion when the files share it.
fn share_hints(files: &[FileResult], groups: &mut [Group]) {
    let hints: std::collections::HashMap<&str, &[String]> = files
        .iter()
        .map(|f| (f.path.as_str(), f.hints.as_slice()))
        .collect();
    for g in groups {
        let hints_of = |p: &str| hints.get(p).copied().unwrap_or_default();
        let first = hints_of(&g.files[0]);
        let word = g.cause.split(' ').next().unwrap_or("").to_string();
        let shared: Vec<String> = first
            .iter()
            .filter(|h| g.files.iter().all(|f| hints_of(f).contains(h)))
            .cloned()
            .collect();
        let number = word.rsplit('_').next().unwrap_or("").to_string();
        let mut picked: Vec<String> = shared
            .iter()
            .find(|h| h.contains(&word) || (!number.is_empty() && h.contains(&number)))
            .cloned()
            .into_iter()
            .collect();
        picked.extend(
            shared
                .iter()
                .filter(|h| h.starts_with("use distroless-cc"))
                .cloned(),
        );
        g.hint = if picked.is_empty() {
            shared.first().or(first.first()).cloned()
        } else {
            Some(picked.join("; "))
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib(soname: &str) -> Box<SourceFile> {
        let mut p = crate::elf::BinaryProfile::empty(Kind::SharedObject);
        p.soname = Some(soname.into());
        Box::new(SourceFile {
            path: String::new(),
            lib: Library::new(p, Default::default()),
            needs: Default::default(),
        })
    }

    #[test]
    fn packaged_files_never_stand_in_for_the_targets_libraries() {
        let mut b = SourceBuilder::default();
        b.add_link("/lib", "usr/lib");
        b.add_link("/usr/lib/libz.so.1", "/usr/lib/libz.so.1.3");
        b.add_link("/opt/app/lib/libown.so.1", "libown.so.1.0");
        b.add_file(
            "/var/lib/dpkg/info/zlib1g:amd64.list",
            b"/lib/libz.so.1.3\n/lib/libz.so.1\n",
        );
        for (path, soname) in [
            ("/usr/lib/libz.so.1.3", "libz.so.1"),
            ("/opt/app/lib/libown.so.1.0", "libown.so.1"),
        ] {
            let mut f = lib(soname);
            f.path = path.into();
            b.add_item(Item::Elf(f));
        }
        let s = b.finish();
        assert!(s.is_packaged("/usr/lib/libz.so.1.3"));
        // By default only the application's own files are audited, at their own paths.
        let own: Vec<String> = s.placements(false).into_iter().map(|(_, at)| at).collect();
        assert_eq!(own, ["/opt/app/lib/libown.so.1.0"]);
        let mut own_libs: Vec<_> = s.overlay(false).into_keys().collect();
        own_libs.sort();
        assert_eq!(
            own_libs,
            ["/opt/app/lib/libown.so.1", "/opt/app/lib/libown.so.1.0"]
        );
        // With --all, packaged files sit under SYSTEM_DIR: no search path finds them there.
        let at: Vec<String> = s.placements(true).into_iter().map(|(_, at)| at).collect();
        assert_eq!(
            at,
            [
                "/opt/app/lib/libown.so.1.0",
                "/libccheck/system/usr/lib/libz.so.1.3"
            ]
        );
        assert!(
            s.overlay(true)
                .contains_key("/libccheck/system/usr/lib/libz.so.1")
        );
        assert!(!s.overlay(true).contains_key("/usr/lib/libz.so.1"));
        // Absolute link targets are placed with them; relative ones stay.
        let links = s.overlay_links(true);
        assert!(links.contains(&(
            "/libccheck/system/usr/lib/libz.so.1".into(),
            "/libccheck/system/usr/lib/libz.so.1.3".into()
        )));
        assert!(links.contains(&("/opt/app/lib/libown.so.1".into(), "libown.so.1.0".into())));
    }

    #[test]
    fn dpkg_and_apk_ownership_through_merged_usr() {
        let mut b = SourceBuilder::default();
        b.add_link("/lib", "usr/lib");
        b.add_file(
            "/var/lib/dpkg/info/libc6:amd64.list",
            b"/.\n/lib/x86_64-linux-gnu/libc.so.6\n",
        );
        b.add_file(APK_DB, b"P:musl\nF:lib\nR:ld-musl-x86_64.so.1\n");
        for path in [
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/ld-musl-x86_64.so.1",
            "/opt/app/bin/app",
        ] {
            let mut f = lib("x");
            f.path = path.into();
            b.add_item(Item::Elf(f));
        }
        let s = b.finish();
        assert_eq!(s.package_manager.as_deref(), Some("apk"));
        assert!(s.is_packaged("/usr/lib/x86_64-linux-gnu/libc.so.6"));
        assert!(s.is_packaged("/lib/ld-musl-x86_64.so.1"));
        assert!(!s.is_packaged("/opt/app/bin/app"));
    }

    #[test]
    fn python_extension_symbols_are_the_hosts() {
        let ps = vec![
            Problem::MissingSymbol {
                symbol: "PyLong_FromLong".into(),
                version: None,
                needed_by: None,
            },
            Problem::MissingSymbol {
                symbol: "_Py_NoneStruct".into(),
                version: None,
                needed_by: None,
            },
        ];
        let (rest, note) = without_host_symbols(Kind::SharedObject, ps.clone());
        assert!(rest.is_empty());
        assert_eq!(
            note.unwrap(),
            "2 symbols (PyLong_FromLong, …) are left to the host program that loads this module (Python); not a problem"
        );
        let (rest, note) = without_host_symbols(Kind::Pie, ps);
        assert_eq!((rest.len(), note), (2, None));
    }
}
