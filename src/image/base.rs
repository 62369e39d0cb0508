//! [`BaseProfile`]: what a base image offers a dynamic loader, read from its files (never by
//! running it): os-release, libc flavour and version, loaders, search configuration
//! (ld.so.conf/ld.so.cache, musl's path file) and an index of its shared libraries.
//!
//! [`Builder`] takes the image's entries one at a time (from a streamed tar or a directory walk),
//! keeps only what loaders need, and never holds more than one file's bytes.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::runtime::{self, RuntimeFacts};
use crate::elf::module::Host;
use crate::elf::{self, BinaryProfile, ExportTable, Kind};
pub use crate::fast::lazy::LazyProfile;

/// Bumped whenever the profile's meaning or layout changes; older cache entries are rebuilt.
pub const FORMAT: u32 = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LibcKind {
    Glibc,
    Musl,
    None,
}

/// A shared library found in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    pub profile: LazyProfile,
    /// Exported dynamic symbols: `name`, `name@VER` (hidden) or `name@@VER` (default).
    pub exports: ExportTable,
}

impl Library {
    pub fn new(profile: BinaryProfile, exports: ExportTable) -> Library {
        Library {
            profile: LazyProfile::from(profile),
            exports,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaseProfile {
    pub format: u32,
    pub image_id: String,
    /// PRETTY_NAME from os-release, when the image has one.
    pub os: Option<String>,
    pub libc: LibcKind,
    /// `2.36` for glibc (highest GLIBC_ version libc.so.6 defines), `1.2.5` for musl.
    pub libc_version: Option<String>,
    /// Symbolic links and hard links: path → target (as written).
    pub links: BTreeMap<String, String>,
    /// Shared libraries by their real path.
    pub libraries: BTreeMap<String, Library>,
    /// Directories from /etc/ld.so.conf and its includes, in order.
    pub ld_so_conf: Vec<String>,
    /// (soname, path, flags) entries of /etc/ld.so.cache, in file order.
    pub ld_so_cache: Option<Vec<(String, String, i32)>>,
    /// Directories of /etc/ld-musl-<arch>.path (musl), when present.
    pub musl_path: Option<Vec<String>>,
    /// Has `/bin/sh` (distroless images have none).
    pub shell: bool,
    /// What the base provides a program at run time (CA bundle, tzdata, users, `/tmp`, …).
    #[serde(default)]
    pub runtime: RuntimeFacts,
    /// Built from the offline catalog: sonames and versions are known, not every symbol.
    #[serde(default)]
    pub catalog: bool,
    /// Programs that load modules (a Python interpreter, a JVM), where the image has them.
    #[serde(default)]
    pub hosts: Vec<HostProgram>,
    /// The ELF machine of the image's platform (its config's `Architecture`), set by whoever
    /// knows it; `None` is x86-64 (amd64 images, the offline catalog).
    #[serde(default)]
    pub machine: Option<String>,
    #[serde(skip)]
    pub link_index: LinkIndex,
    #[serde(skip)]
    pub cache_index: CacheIndex,
}

/// A program in the image that loads modules: the modules it loads see the libraries it
/// needs (they are in the global scope before any module's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostProgram {
    pub host: Host,
    pub path: String,
    pub needed: Vec<String>,
}

/// Lookup tables derived from a profile on first use (never cached, never compared): a library
/// search resolves every candidate path component by component and asks `ld.so.cache` for
/// every needed name.
#[derive(Default)]
pub struct Derived<T>(std::sync::OnceLock<T>);

/// An image's links hashed by path.
pub type LinkIndex = Derived<LinkMap>;

type LinkMap = hashbrown::HashMap<Box<str>, Box<str>, foldhash::fast::FixedState>;

/// The positions of each soname's entries in `ld.so.cache`.
pub type CacheIndex = Derived<hashbrown::HashMap<Box<str>, Vec<u32>, foldhash::fast::FixedState>>;

impl<T> Clone for Derived<T> {
    fn clone(&self) -> Self {
        Derived(Default::default())
    }
}

/// Two profiles are equal when the facts read from their images are; the lookup tables derived
/// from those facts on first use are left out.
impl PartialEq for BaseProfile {
    fn eq(&self, o: &Self) -> bool {
        // Destructured, so that a new field cannot be forgotten here.
        let BaseProfile {
            format,
            image_id,
            os,
            libc,
            libc_version,
            links,
            libraries,
            ld_so_conf,
            ld_so_cache,
            musl_path,
            shell,
            runtime,
            catalog,
            hosts,
            machine,
            link_index: _,
            cache_index: _,
        } = self;
        *format == o.format
            && *image_id == o.image_id
            && *os == o.os
            && *libc == o.libc
            && *libc_version == o.libc_version
            && *links == o.links
            && *libraries == o.libraries
            && *ld_so_conf == o.ld_so_conf
            && *ld_so_cache == o.ld_so_cache
            && *musl_path == o.musl_path
            && *shell == o.shell
            && *runtime == o.runtime
            && *catalog == o.catalog
            && *hosts == o.hosts
            && *machine == o.machine
    }
}

impl Eq for BaseProfile {}

impl<T> std::fmt::Debug for Derived<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived")
    }
}

impl LinkIndex {
    /// `links` hashed: built on the first call, the same afterwards (the owner's links must not
    /// change once it is used).
    pub fn of(&self, links: &BTreeMap<String, String>) -> &(impl Links + use<>) {
        self.0.get_or_init(|| {
            links
                .iter()
                .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
                .collect()
        })
    }
}

/// Symbolic links by path: where the link at `path` points, as written.
pub trait Links {
    fn link(&self, path: &str) -> Option<&str>;
}

impl Links for BTreeMap<String, String> {
    fn link(&self, path: &str) -> Option<&str> {
        self.get(path).map(String::as_str)
    }
}

impl Links for LinkMap {
    fn link(&self, path: &str) -> Option<&str> {
        self.get(path).map(|t| &**t)
    }
}

impl BaseProfile {
    /// Resolve `path` inside the image, following symlinks (never outside the image).
    pub fn resolve(&self, path: &str) -> Option<String> {
        resolve_in(self.link_map(), path)
    }
    /// The `ld.so.cache` entries (soname, path, flags) for `soname`, in file order.
    pub fn cache_entries(&self, soname: &str) -> impl Iterator<Item = &(String, String, i32)> {
        let cache = self.ld_so_cache.as_deref().unwrap_or_default();
        let index = self.cache_index.0.get_or_init(|| {
            let mut m = hashbrown::HashMap::with_hasher(Default::default());
            for (i, (soname, _, _)) in cache.iter().enumerate() {
                m.entry(soname.as_str().into())
                    .or_insert_with(Vec::new)
                    .push(i as u32);
            }
            m
        });
        index
            .get(soname)
            .into_iter()
            .flatten()
            .filter_map(|&i| cache.get(i as usize))
    }
    /// [`links`](Self::links), hashed.
    pub fn link_map(&self) -> &(impl Links + use<>) {
        self.link_index.of(&self.links)
    }
    /// Does the base hold a library of this name (its soname, its file name, or an
    /// `ld.so.cache` entry)? Where it sits is not checked: what a `dlopen` of the name may find.
    pub fn has_library_named(&self, soname: &str) -> bool {
        let file = format!("/{soname}");
        self.cache_entries(soname).next().is_some()
            || self.libraries.iter().any(|(path, l)| {
                l.profile.soname.as_deref() == Some(soname) || path.ends_with(&file)
            })
            || self.links.keys().any(|path| path.ends_with(&file))
    }

    pub fn library_at(&self, path: &str) -> Option<(String, &Library)> {
        let real = self.resolve(path)?;
        self.libraries.get(&real).map(|l| (real, l))
    }
    pub fn describe_libc(&self) -> String {
        match (self.libc, &self.libc_version) {
            (LibcKind::Glibc, Some(v)) => format!("glibc {v}"),
            (LibcKind::Musl, Some(v)) => format!("musl {v}"),
            (LibcKind::Glibc, None) => "glibc".into(),
            (LibcKind::Musl, None) => "musl".into(),
            (LibcKind::None, _) => "none".into(),
        }
    }
}

/// `dir/name`, one `/` between them (`format!` costs several times this in the hot loops: the
/// directory walk, the loader's search).
pub fn join(dir: &str, name: &str) -> String {
    let dir = dir.trim_end_matches('/');
    let mut s = String::with_capacity(dir.len() + 1 + name.len());
    s.push_str(dir);
    s.push('/');
    s.push_str(name);
    s
}

/// Normalise an absolute path: no `.`, `..` resolved lexically, no trailing slash.
pub fn normalize(path: &str) -> String {
    let clean = path.starts_with('/')
        && (path.len() == 1 || !path.ends_with('/'))
        && !path.contains("//")
        && !path.contains("/./")
        && !path.contains("/../")
        && !path.ends_with("/.")
        && !path.ends_with("/..");
    if clean {
        return path.to_string();
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Paths with their directory resolved through an image's links, each directory once: a library
/// search and a package list name the same few directories over and over.
#[derive(Debug, Default)]
pub struct DirResolver(hashbrown::HashMap<String, Option<String>, foldhash::fast::FixedState>);

impl DirResolver {
    /// Normalised `path` with its directory part resolved (the last component as it is);
    /// `None` when the directory does not resolve (a link loop).
    pub fn resolve_dir_of(&mut self, links: &impl Links, path: &str) -> Option<String> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        if !self.0.contains_key(dir) {
            self.0.insert(dir.to_string(), resolve_in(links, dir));
        }
        let real = self.0[dir].as_deref()?;
        Some(join(real, name))
    }
}

/// Follow symlinks component by component; `..` never climbs above the image root.
pub fn resolve_in(links: &impl Links, path: &str) -> Option<String> {
    // Components still to walk, last first, borrowed from the path and the link targets.
    let mut pending: Vec<&str> = path.rsplit('/').collect();
    let mut cur = String::with_capacity(path.len() + 16);
    let mut hops = 0;
    while let Some(comp) = pending.pop() {
        match comp {
            "" | "." => continue,
            ".." => {
                let keep = cur.rfind('/').unwrap_or(0);
                cur.truncate(keep);
                continue;
            }
            _ => {}
        }
        let before = cur.len();
        cur.push('/');
        cur.push_str(comp);
        if let Some(target) = links.link(cur.as_str()) {
            hops += 1;
            if hops > 40 {
                return None;
            }
            cur.truncate(if target.starts_with('/') { 0 } else { before });
            pending.extend(target.rsplit('/'));
        }
    }
    Some(if cur.is_empty() { "/".into() } else { cur })
}

/// Parse /etc/ld.so.cache (new format, possibly after an old-format section).
pub fn parse_ld_so_cache(d: &[u8]) -> Option<Vec<(String, String, i32)>> {
    const MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
    let base = d
        .windows(MAGIC.len())
        .take(1 << 20)
        .position(|w| w == MAGIC)?;
    let u32_at = |o: usize| {
        d.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let nlibs = u32_at(base + 20)? as usize;
    let cstr = |o: usize| {
        let s = d.get(base + o..)?;
        let end = s.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&s[..end]).into_owned())
    };
    let mut out = Vec::with_capacity(nlibs.min(100_000));
    for i in 0..nlibs.min(100_000) {
        let e = base + 48 + i * 24;
        let flags = u32_at(e)? as i32;
        let (key, value) = (u32_at(e + 4)? as usize, u32_at(e + 8)? as usize);
        out.push((cstr(key)?, cstr(value)?, flags));
    }
    Some(out)
}

/// Collects a [`BaseProfile`] from an image's entries.
#[derive(Default)]
pub struct Builder {
    links: BTreeMap<String, String>,
    libraries: BTreeMap<String, Library>,
    texts: HashMap<String, String>,
    conf_files: BTreeMap<String, String>,
    ld_so_cache: Option<Vec<(String, String, i32)>>,
    musl_versions: HashMap<String, String>,
    glibc_release: Option<String>,
    seen_sh: bool,
    runtime: runtime::Collector,
    hosts: Vec<HostProgram>,
    /// Hard links (name, target), settled in [`finish`](Self::finish) when the target's facts
    /// are known whichever came first.
    hardlinks: Vec<(String, String)>,
}

/// Files whose text the profile needs.
fn wanted_text(path: &str) -> bool {
    path == "/etc/os-release"
        || path == "/usr/lib/os-release"
        || path == "/etc/ld.so.conf"
        || path.starts_with("/etc/ld.so.conf.d/")
        || (path.starts_with("/etc/ld-musl-") && path.ends_with(".path"))
}

/// Could this regular file be a shared library a loader opens?
pub fn maybe_library(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.contains(".so")
        && !path.starts_with("/proc/")
        && !path.starts_with("/sys/")
        && !path.starts_with("/usr/share/")
}

/// The version string embedded in musl's libc (`1.2.5`): a NUL-terminated `d.d.d` in its data.
fn musl_version(bytes: &[u8]) -> Option<String> {
    let mut found = None;
    for chunk in bytes.split(|&b| b == 0) {
        if chunk.len() >= 5
            && chunk.len() <= 12
            && chunk.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        {
            let s = std::str::from_utf8(chunk).ok()?;
            let parts: Vec<&str> = s.split('.').collect();
            if parts.len() == 3 && parts.iter().all(|p| !p.is_empty()) && s.starts_with("1.") {
                found = Some(s.to_string());
            }
        }
    }
    found
}

impl Builder {
    /// Does the builder want this regular file's bytes? (Avoids reading the rest.)
    pub fn wants(&self, path: &str, size: u64) -> bool {
        wanted_text(path)
            || path == "/etc/ld.so.cache"
            || runtime::Collector::wants(path, size)
            || (maybe_library(path) && size < (1 << 30) && size > 64)
            || (Host::of_program_path(path).is_some() && size < (1 << 30))
    }

    /// `/bin/sh` (or `/usr/bin/sh`) exists, as a file or a link.
    fn note_shell(&mut self, path: &str) {
        if path == "/bin/sh" || path == "/usr/bin/sh" {
            self.seen_sh = true;
        }
    }

    /// A regular file that exists but whose content is not needed.
    pub fn add_other(&mut self, path: &str) {
        let path = normalize(path);
        self.note_shell(&path);
        self.runtime.add_file(&path);
    }

    pub fn add_link(&mut self, path: &str, target: &str) {
        let path = normalize(path);
        self.note_shell(&path);
        self.runtime.add_link(&path);
        self.links.insert(path, target.to_string());
    }

    /// A hard link: a second name of the regular file `target` (an absolute path in the
    /// image). A container export writes every name as a regular file; so is it read here, with
    /// its target's facts (library, text) copied once they are known.
    pub fn add_hardlink(&mut self, path: &str, target: &str) {
        self.add_other(path);
        self.hardlinks.push((normalize(path), normalize(target)));
    }

    /// Give each hard link its target's facts.
    fn settle_hardlinks(&mut self) {
        for (path, target) in std::mem::take(&mut self.hardlinks) {
            if let Some(lib) = self.libraries.get(&target).cloned() {
                self.libraries.insert(path.clone(), lib);
            }
            if let Some(v) = self.musl_versions.get(&target).cloned() {
                self.musl_versions.insert(path.clone(), v);
            }
            if let Some(t) = self.texts.get(&target).cloned()
                && wanted_text(&path)
            {
                if path.starts_with("/etc/ld.so.conf") {
                    self.conf_files.insert(path.clone(), t.clone());
                }
                self.texts.insert(path.clone(), t);
            }
            let needed = self
                .hosts
                .iter()
                .find(|h| h.path == target)
                .map(|h| h.needed.clone());
            if let (Some(host), Some(needed)) = (Host::of_program_path(&path), needed) {
                self.hosts.push(HostProgram { host, path, needed });
            }
        }
    }

    /// A directory, with its permission bits and owner when the source tells them (`/tmp`'s
    /// mode is a run-time fact).
    pub fn add_dir(&mut self, path: &str, mode: Option<u32>, owner: Option<u32>) {
        self.runtime.add_dir(&normalize(path), mode, owner);
    }

    pub fn add_file(&mut self, path: &str, bytes: &[u8]) {
        self.add_other(path);
        let path = normalize(path);
        if runtime::Collector::wants(&path, bytes.len() as u64) {
            self.runtime.add_content(&path, bytes);
            return;
        }
        if path == "/etc/ld.so.cache" {
            self.ld_so_cache = parse_ld_so_cache(bytes);
            return;
        }
        if wanted_text(&path) {
            let text = String::from_utf8_lossy(bytes).into_owned();
            if path.starts_with("/etc/ld.so.conf") {
                self.conf_files.insert(path.clone(), text.clone());
            }
            self.texts.insert(path, text);
            return;
        }
        if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
            return;
        }
        let Ok((profile, exports)) = elf::parse_for_loader(bytes) else {
            return;
        };
        if let Some(host) = Host::of_program_path(&path) {
            self.hosts.push(HostProgram {
                host,
                path: path.clone(),
                needed: profile.needed.clone(),
            });
        }
        if !matches!(
            profile.kind,
            Kind::SharedObject | Kind::Pie | Kind::StaticPie
        ) {
            return;
        }
        // musl's libc.so is its own loader and has no GLIBC_ version definitions.
        let name = path.rsplit('/').next().unwrap_or("");
        if profile.soname.as_deref() == Some("libc.so.6")
            && let Some(v) = elf::version::glibc_release(bytes)
        {
            self.glibc_release = Some(v);
        }
        if (name.starts_with("ld-musl-")
            || (name == "libc.so"
                && !profile
                    .version_definitions
                    .iter()
                    .any(|v| v.starts_with("GLIBC_"))))
            && let Some(v) = musl_version(bytes)
        {
            self.musl_versions.insert(path.clone(), v);
        }
        self.libraries.insert(path, Library::new(profile, exports));
    }

    fn conf_dirs(&self, file: &str, depth: usize, out: &mut Vec<String>) {
        if depth > 8 {
            return;
        }
        let Some(text) = self.conf_files.get(file) else {
            return;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(pattern) = line.strip_prefix("include ").map(str::trim) {
                // Only the `dir/*.conf` glob form is used in practice.
                let (dir, pat) = pattern.rsplit_once('/').unwrap_or(("/etc", pattern));
                let suffix = pat.trim_start_matches('*');
                let mut matches: Vec<&String> = self
                    .conf_files
                    .keys()
                    .filter(|k| k.starts_with(&format!("{dir}/")) && k.ends_with(suffix))
                    .collect();
                matches.sort();
                for m in matches {
                    self.conf_dirs(m, depth + 1, out);
                }
            } else if !line.is_empty() {
                for d in line
                    .split([':', ',', ' ', '\t'])
                    .filter(|d| d.starts_with('/'))
                {
                    let d = normalize(d);
                    if !out.contains(&d) {
                        out.push(d);
                    }
                }
            }
        }
    }

    pub fn finish(mut self, image_id: &str) -> BaseProfile {
        self.settle_hardlinks();
        let os = ["/etc/os-release", "/usr/lib/os-release"]
            .iter()
            .find_map(|p| {
                let real = resolve_in(&self.links, p)?;
                let t = self.texts.get(&real).or_else(|| self.texts.get(*p))?;
                t.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|v| v.trim().trim_matches('"').to_string())
            });
        let mut ld_so_conf = Vec::new();
        self.conf_dirs("/etc/ld.so.conf", 0, &mut ld_so_conf);
        let musl_path = self
            .texts
            .iter()
            .find(|(k, _)| k.starts_with("/etc/ld-musl-"))
            .map(|(_, t)| {
                t.split(['\n', ':'])
                    .map(str::trim)
                    .filter(|d| d.starts_with('/'))
                    .map(String::from)
                    .collect()
            });
        // glibc: the highest GLIBC_x.y that a libc.so.6 defines. musl: its embedded version.
        let glibc = self
            .libraries
            .values()
            .filter(|l| l.profile.soname.as_deref() == Some("libc.so.6"))
            .filter_map(|l| {
                l.profile
                    .version_definitions
                    .iter()
                    .filter(|v| elf::version::glibc_number(v).is_some())
                    .max_by(|a, b| elf::version::compare(a, b))
                    .cloned()
            })
            .max_by(|a, b| elf::version::compare(a, b));
        let musl = self.musl_versions.values().next().cloned();
        let (libc, libc_version) = match (glibc, musl) {
            (Some(g), _) => (
                LibcKind::Glibc,
                self.glibc_release
                    .clone()
                    .or_else(|| elf::version::glibc_number(&g).map(String::from)),
            ),
            (None, Some(m)) => (LibcKind::Musl, Some(m)),
            (None, None) if !self.musl_versions.is_empty() => (LibcKind::Musl, None),
            _ => (LibcKind::None, None),
        };
        let runtime = self.runtime.finish(|p| resolve_in(&self.links, p));
        let mut hosts = self.hosts;
        hosts.sort_by(|a, b| (a.host, &a.path).cmp(&(b.host, &b.path)));
        BaseProfile {
            format: FORMAT,
            image_id: image_id.to_string(),
            os,
            libc,
            libc_version,
            links: self.links,
            libraries: self.libraries,
            ld_so_conf,
            ld_so_cache: self.ld_so_cache,
            musl_path,
            shell: self.seen_sh,
            runtime,
            catalog: false,
            hosts,
            machine: None,
            link_index: Default::default(),
            cache_index: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cached library profile decodes to what was stored, also the fields JSON output leaves
    /// out when empty (postcard has no field names: a skipped field would shift the rest).
    #[test]
    fn cached_library_profiles_round_trip() {
        let mut plain = BinaryProfile::empty(Kind::SharedObject);
        plain.soname = Some("libx.so.1".into());
        plain.needed = vec!["libc.so.6".into()];
        let mut odd = plain.clone();
        odd.hidden_self_refs = vec!["f".into()];
        odd.irelative = true;
        odd.glibc_refuses = Some("object file has no dynamic section".into());
        odd.musl_crashes = Some("a writable segment ends in the lowest page".into());
        for p in [plain, odd] {
            let lib = Library::new(p.clone(), ExportTable::from_lines(["f@@X_1", "g"]));
            let bytes = postcard::to_stdvec(&lib).unwrap();
            let back: Library = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(*back.profile, p);
            assert!(back.exports.has_default("f"));
            // Stored again without being decoded: the same bytes.
            let again: Library = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(postcard::to_stdvec(&again).unwrap(), bytes);
        }
        let json = serde_json::to_value(BinaryProfile::empty(Kind::SharedObject)).unwrap();
        assert!(
            json.get("hidden_self_refs").is_none()
                && json.get("irelative").is_none()
                && json.get("glibc_refuses").is_none()
                && json.get("musl_crashes").is_none()
        );
    }

    #[test]
    fn resolves_symlinks_inside_the_image() {
        let mut links = BTreeMap::new();
        links.insert("/lib".to_string(), "usr/lib".to_string());
        links.insert("/lib64".to_string(), "usr/lib64".to_string());
        links.insert(
            "/usr/lib64/ld-linux-x86-64.so.2".to_string(),
            "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2".to_string(),
        );
        links.insert("/escape".to_string(), "../../../../etc/passwd".to_string());
        links.insert("/loop".to_string(), "/loop".to_string());
        let r = |p: &str| resolve_in(&links, p);
        assert_eq!(
            r("/lib64/ld-linux-x86-64.so.2").as_deref(),
            Some("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        );
        assert_eq!(
            r("/lib/x86_64-linux-gnu/libc.so.6").as_deref(),
            Some("/usr/lib/x86_64-linux-gnu/libc.so.6")
        );
        assert_eq!(r("/escape").as_deref(), Some("/etc/passwd"));
        assert_eq!(r("/loop"), None);
        assert_eq!(
            r("//lib/./x/../libc.so.6").as_deref(),
            Some("/usr/lib/libc.so.6")
        );
        assert_eq!(r("/..").as_deref(), Some("/"));
        assert_eq!(r("lib").as_deref(), Some("/usr/lib"));
    }

    #[test]
    fn ld_so_conf_includes_in_order() {
        let mut b = Builder::default();
        b.add_file(
            "/etc/ld.so.conf",
            b"include /etc/ld.so.conf.d/*.conf\n/opt/extra\n",
        );
        b.add_file(
            "/etc/ld.so.conf.d/x86_64-linux-gnu.conf",
            b"# Multiarch\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n",
        );
        b.add_file("/etc/ld.so.conf.d/libc.conf", b"/usr/local/lib\n");
        let p = b.finish("x");
        assert_eq!(
            p.ld_so_conf,
            [
                "/usr/local/lib",
                "/usr/local/lib/x86_64-linux-gnu",
                "/lib/x86_64-linux-gnu",
                "/opt/extra"
            ]
        );
        assert_eq!(p.libc, LibcKind::None);
    }

    #[test]
    fn musl_version_string() {
        assert_eq!(
            musl_version(b"abc\0musl libc (x86_64)\0Version %s\n\x001.2.5\0xyz").as_deref(),
            Some("1.2.5")
        );
        assert_eq!(musl_version(b"2.36\0"), None);
    }
}
