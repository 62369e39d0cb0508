//! The dynamic symbols an object defines, packed: one string for all of them (no allocation per
//! symbol when a file is read, one JSON string per library in the profile cache), and a lookup
//! index built on first use, only for the libraries a loader simulation actually searches.

use std::hash::BuildHasher;
use std::sync::OnceLock;

/// Definitions as lines `name` (unversioned), `name@VER` (hidden) or `name@@VER` (default) — the
/// notation of `nm -D` and `readelf`.
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

/// A fixed-seed fast hash (foldhash): the table never leaves the process.
const HASH: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x6c69_6263);

impl ExportTable {
    /// Add one definition. Names with a line break (no real toolchain makes them) are skipped.
    pub fn push(&mut self, name: &str, version: Option<&str>, default: bool) {
        let has_break = |s: &str| memchr::memchr(b'\n', s.as_bytes()).is_some();
        if has_break(name) || version.is_some_and(has_break) {
            return;
        }
        self.push_clean(name, version, default);
    }

    /// [`push`](Self::push) for a caller that knows neither string has a line break.
    pub(crate) fn push_clean(&mut self, name: &str, version: Option<&str>, default: bool) {
        self.index.take();
        let text = self.text.owned();
        text.push_str(name);
        if let Some(v) = version {
            text.push_str(if default { "@@" } else { "@" });
            text.push_str(v);
        }
        text.push('\n');
    }

    /// Room for `bytes` more bytes of definitions.
    pub fn reserve(&mut self, bytes: usize) {
        self.text.owned().reserve(bytes);
    }

    /// From lines already in `name[@[@]VER]` form.
    pub fn from_lines<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> ExportTable {
        let mut t = ExportTable::default();
        let text = t.text.owned();
        for l in lines {
            let l = l.as_ref();
            if !l.is_empty() && !l.contains('\n') {
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

    /// Every definition, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.text.as_str().lines()
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
                let name_end = start + memchr::memchr(b'@', line).unwrap_or(line.len());
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

    /// The version parts (`""`, `@VER` or `@@VER`) of every definition of `name`.
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
            let v = v.strip_prefix(b"@").unwrap_or(v);
            v.strip_prefix(b"@").unwrap_or(v) == version.as_bytes()
        })
    }

    /// Is there an unversioned or default-version definition of `name`?
    pub fn has_default(&self, name: &str) -> bool {
        self.versions_of(name)
            .any(|v| v.is_empty() || v.starts_with(b"@@"))
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

impl std::fmt::Debug for ExportTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Cached as one string of lines.
impl serde::Serialize for ExportTable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text.as_str())
    }
}

/// Shared with the buffer being decoded when it is the mapped profile cache
/// ([`shared_bytes`](crate::shared_bytes)), else copied.
impl<'de> serde::Deserialize<'de> for ExportTable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Lines;
        impl<'de> serde::de::Visitor<'de> for Lines {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("export lines")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text, E> {
                Ok(match crate::shared_bytes::share(v.as_bytes()) {
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
}
