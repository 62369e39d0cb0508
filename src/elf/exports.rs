//! The dynamic symbols an object defines, packed: one string for all of them (no allocation per
//! symbol when a file is read, one JSON string per library in the profile cache), and a lookup
//! index built on first use, only for the libraries a loader simulation actually searches.

use std::hash::BuildHasher;
use std::sync::OnceLock;

/// Definitions as lines `name` (unversioned), `name@VER` (hidden) or `name@@VER` (default) — the
/// notation of `nm -D` and `readelf` — each followed by [`MUSL_UNSEEN`] when it is a definition
/// glibc's lookup binds and musl's does not (an IFUNC, a value of 0): see [`musl_sees`].
#[derive(Default)]
pub struct ExportTable {
    text: Text,
    /// Per line: (start, end of the name, end), by the name's hash. Built on first lookup.
    index: OnceLock<Index>,
}

/// The lines: built here, or shared with the mapped profile cache they were decoded from.
enum Text {
    Owned(String),
    /// Checked UTF-8 (it was decoded as a string).
    Shared(bytes::Bytes),
}

impl Default for Text {
    fn default() -> Self {
        Text::Owned(String::new())
    }
}

impl Text {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Owned(s) => s.as_bytes(),
            Text::Shared(b) => b,
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Text::Owned(s) => s,
            // Never empty in practice: only text decoded as a string is shared.
            Text::Shared(b) => std::str::from_utf8(b).unwrap_or_default(),
        }
    }

    /// The text to add lines to (a shared one is copied first).
    fn owned(&mut self) -> &mut String {
        if let Text::Shared(b) = self {
            *self = Text::Owned(std::str::from_utf8(b).unwrap_or_default().to_owned());
        }
        match self {
            Text::Owned(s) => s,
            Text::Shared(_) => unreachable!("made owned above"),
        }
    }
}

#[derive(Default)]
struct Index(hashbrown::HashTable<(u32, u32, u32)>);

/// Ends the line of a definition musl's lookup skips. A NUL is the one byte no symbol or version
/// name can hold (they are C strings), so no real name is mistaken for the mark.
const MUSL_UNSEEN: u8 = 0;

/// Would musl's symbol lookup (`find_sym2` in its ldso/dynlink.c) accept this definition? It takes
/// only the types NOTYPE, OBJECT, FUNC, COMMON and TLS (so not glibc's IFUNC), skips a value of 0
/// unless TLS, and skips an entry whose version index has the hidden bit (0x8000). Version names
/// it ignores otherwise. Undefined entries and bindings other than GLOBAL, WEAK and GNU_UNIQUE are
/// never definitions here.
pub fn musl_sees(st_type: u8, st_value_is_zero: bool, versym: Option<u16>) -> bool {
    const TLS: u8 = 6;
    let type_ok = matches!(st_type, 0 | 1 | 2 | 5 | TLS);
    type_ok && (!st_value_is_zero || st_type == TLS) && versym.is_none_or(|v| v & 0x8000 == 0)
}

/// A line's version part (`""`, `@VER`, `@@VER`) without the mark, and whether musl sees it.
fn split_mark(version: &[u8]) -> (&[u8], bool) {
    match version.split_last() {
        Some((&MUSL_UNSEEN, v)) => (v, false),
        _ => (version, true),
    }
}

/// A fixed-seed fast hash (foldhash): the table never leaves the process.
const HASH: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x6c69_6263);

impl ExportTable {
    /// Add one definition both loaders' lookups accept. Names with a line break or a NUL (no real
    /// toolchain makes them) are skipped.
    pub fn push(&mut self, name: &str, version: Option<&str>, default: bool) {
        self.push_for(name, version, default, true);
    }

    /// Add one definition; `musl_sees`: musl's lookup accepts it too ([`musl_sees`]).
    pub fn push_for(&mut self, name: &str, version: Option<&str>, default: bool, musl_sees: bool) {
        let bad = |s: &str| memchr::memchr2(b'\n', MUSL_UNSEEN, s.as_bytes()).is_some();
        if bad(name) || version.is_some_and(bad) {
            return;
        }
        self.push_clean(name, version, default, musl_sees);
    }

    /// [`push_for`](Self::push_for) for a caller that knows neither string has a line break or a NUL.
    pub(crate) fn push_clean(
        &mut self,
        name: &str,
        version: Option<&str>,
        default: bool,
        musl_sees: bool,
    ) {
        self.index.take();
        let text = self.text.owned();
        text.push_str(name);
        if let Some(v) = version {
            text.push_str(if default { "@@" } else { "@" });
            text.push_str(v);
        }
        // Only a definition musl would otherwise bind needs the mark: it never binds hidden ones.
        if !musl_sees && (default || version.is_none()) {
            text.push(char::from(MUSL_UNSEEN));
        }
        text.push('\n');
    }

    /// Room for `bytes` more bytes of definitions.
    pub fn reserve(&mut self, bytes: usize) {
        self.text.owned().reserve(bytes);
    }

    /// From lines already in `name[@[@]VER]` form (definitions both loaders' lookups accept).
    pub fn from_lines<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> ExportTable {
        let mut t = ExportTable::default();
        let text = t.text.owned();
        for l in lines {
            let l = l.as_ref();
            if !l.is_empty() && !l.contains(['\n', char::from(MUSL_UNSEEN)]) {
                text.push_str(l);
                text.push('\n');
            }
        }
        t
    }

    /// Is the text a slice of a mapped cache file (not a copy)?
    pub fn is_shared(&self) -> bool {
        matches!(self.text, Text::Shared(_))
    }

    /// Every definition, in file order, in `name[@[@]VER]` form (the musl mark left off).
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.text
            .as_str()
            .lines()
            .map(|l| l.strip_suffix(char::from(MUSL_UNSEEN)).unwrap_or(l))
    }

    pub fn len(&self) -> usize {
        memchr::memchr_iter(b'\n', self.text.as_bytes()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.text.as_bytes().is_empty()
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let bytes = self.text.as_bytes();
            let lines = memchr::memchr_iter(b'\n', bytes).count();
            let mut table = hashbrown::HashTable::with_capacity(lines);
            let mut start = 0usize;
            for end in memchr::memchr_iter(b'\n', bytes) {
                let line = &bytes[start..end];
                let name_end =
                    start + memchr::memchr2(b'@', MUSL_UNSEEN, line).unwrap_or(line.len());
                let e = (start as u32, name_end as u32, end as u32);
                let name = &bytes[start..name_end];
                table.insert_unique(HASH.hash_one(name), e, |e: &(u32, u32, u32)| {
                    HASH.hash_one(&bytes[e.0 as usize..e.1 as usize])
                });
                start = end + 1;
            }
            Index(table)
        })
    }

    /// The version parts (`""`, `@VER` or `@@VER`, each with the musl mark if it has one) of every
    /// definition of `name`.
    fn versions_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        let bytes = self.text.as_bytes();
        self.index()
            .0
            .iter_hash(HASH.hash_one(name.as_bytes()))
            .filter(move |e| &bytes[e.0 as usize..e.1 as usize] == name.as_bytes())
            .map(move |e| &bytes[e.1 as usize..e.2 as usize])
    }

    /// Is there a definition of `name` at `version` (default or hidden)?
    pub fn has_version(&self, name: &str, version: &str) -> bool {
        self.versions_of(name).any(|v| {
            let (v, _) = split_mark(v);
            let v = v.strip_prefix(b"@").unwrap_or(v);
            v.strip_prefix(b"@").unwrap_or(v) == version.as_bytes()
        })
    }

    /// Is there an unversioned or default-version definition of `name`? (glibc's lookup without a
    /// version asked for.)
    pub fn has_default(&self, name: &str) -> bool {
        self.versions_of(name)
            .map(|v| split_mark(v).0)
            .any(|v| v.is_empty() || v.starts_with(b"@@"))
    }

    /// Is there a definition of `name` musl's lookup accepts? Never a hidden-version one.
    pub fn musl_has(&self, name: &str) -> bool {
        self.versions_of(name).any(|v| {
            let (v, seen) = split_mark(v);
            seen && (v.is_empty() || v.starts_with(b"@@"))
        })
    }
}

impl Clone for ExportTable {
    fn clone(&self) -> Self {
        ExportTable {
            text: match &self.text {
                Text::Owned(s) => Text::Owned(s.clone()),
                Text::Shared(b) => Text::Shared(b.clone()),
            },
            index: OnceLock::new(),
        }
    }
}

impl PartialEq for ExportTable {
    fn eq(&self, other: &Self) -> bool {
        self.text.as_bytes() == other.text.as_bytes()
    }
}

impl Eq for ExportTable {}

/// Lines as stored: a definition musl skips shows its mark (`"\0"`).
impl std::fmt::Debug for ExportTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.text.as_str().lines()).finish()
    }
}

/// Cached as one string of lines.
impl serde::Serialize for ExportTable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text.as_str())
    }
}

/// Shared with the buffer being decoded when it is the mapped profile cache
/// ([`shared_bytes`](crate::fast::shared_bytes)), else copied.
impl<'de> serde::Deserialize<'de> for ExportTable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Lines;
        impl<'de> serde::de::Visitor<'de> for Lines {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("export lines")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text, E> {
                Ok(match crate::fast::shared_bytes::share(v.as_bytes()) {
                    Some(b) => Text::Shared(b),
                    None => Text::Owned(v.to_owned()),
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::Owned(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text::Owned(v))
            }
        }
        let text = d.deserialize_str(Lines)?;
        let b = text.as_bytes();
        if !b.is_empty() && !b.ends_with(b"\n") {
            return Err(serde::de::Error::custom(
                "export table does not end in a line break",
            ));
        }
        Ok(ExportTable {
            text,
            index: OnceLock::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_by_name_and_version() {
        let mut t = ExportTable::default();
        t.push("memcpy", Some("GLIBC_2.14"), true);
        t.push("memcpy", Some("GLIBC_2.2.5"), false);
        t.push("__cpu_indicator_init", Some("GCC_4.8.0"), false);
        t.push("plain", None, true);
        t.push("bad\nname", None, true);
        assert_eq!(t.len(), 4);
        assert!(t.has_version("memcpy", "GLIBC_2.14"));
        assert!(t.has_version("memcpy", "GLIBC_2.2.5"));
        assert!(!t.has_version("memcpy", "GLIBC_2.34"));
        assert!(t.has_default("memcpy"));
        assert!(!t.has_default("__cpu_indicator_init"));
        assert!(t.has_default("plain"));
        assert!(t.has_version("plain", ""));
        assert!(!t.has_default("mem"));
        assert!(!t.has_default("memcpyx"));
        let back: ExportTable = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        assert!(back.has_version("__cpu_indicator_init", "GCC_4.8.0"));
        assert_eq!(
            ExportTable::from_lines(["a@@V1", "b"])
                .iter()
                .collect::<Vec<_>>(),
            ["a@@V1", "b"]
        );
        assert!(serde_json::from_str::<ExportTable>("\"a\"").is_err());
    }

    /// musl's lookup rule (find_sym2): IFUNC and value-0 definitions and the hidden bit are
    /// invisible to it; TLS may have value 0; version names do not matter.
    #[test]
    fn musl_sees_what_find_sym2_accepts() {
        let (func, ifunc, tls, common, section) = (2, 10, 6, 5, 3);
        assert!(musl_sees(func, false, None));
        assert!(musl_sees(common, false, Some(2)));
        assert!(!musl_sees(ifunc, false, None), "STT_GNU_IFUNC");
        assert!(!musl_sees(section, false, None));
        assert!(!musl_sees(func, true, None), "value 0");
        assert!(musl_sees(tls, true, None), "TLS at offset 0");
        assert!(
            !musl_sees(func, false, Some(0x8001)),
            "hidden bit on the base version"
        );
    }

    /// A definition only glibc binds: glibc's lookups find it, musl's does not; the mark is not
    /// part of its name or version and survives the cache's serialization.
    #[test]
    fn definitions_musl_does_not_see() {
        let mut t = ExportTable::default();
        t.push_for("__atomic_load_16", Some("LIBATOMIC_1.2"), true, false);
        t.push_for("ifunc_add", None, true, false);
        t.push("plain", None, true);
        t.push_for("old", Some("V1"), false, false);
        for name in ["__atomic_load_16", "ifunc_add"] {
            assert!(t.has_default(name), "{name}: glibc binds it");
            assert!(!t.musl_has(name), "{name}: musl does not");
        }
        assert!(t.has_version("__atomic_load_16", "LIBATOMIC_1.2"));
        assert!(t.musl_has("plain") && !t.musl_has("old") && !t.musl_has("ifunc"));
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            [
                "__atomic_load_16@@LIBATOMIC_1.2",
                "ifunc_add",
                "plain",
                "old@V1"
            ]
        );
        let back: ExportTable = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert!(back.has_default("ifunc_add") && !back.musl_has("ifunc_add"));
        t.push_for("bad\0name", None, true, true);
        assert_eq!(t.len(), 4, "a NUL in a name would read as the mark");
    }
}
