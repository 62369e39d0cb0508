//! Libraries a binary loads with `dlopen`, which `DT_NEEDED` never lists: the ELF dlopen metadata
//! note (`.note.dlopen`: owner `FDO`, type `0x407c0c0a`, a JSON array of entries with `soname`
//! alternatives, `feature`, `description`, `priority`), and, for a binary that imports `dlopen`,
//! the sonames named in its read-only data.

use serde::{Deserialize, Serialize};

use super::super::bytes::word;
use super::layout::Layout;

/// The note's owner and type (the ELF dlopen metadata specification).
const OWNER: &[u8] = b"FDO\0";
const NOTE_TYPE: u64 = 0x407c_0c0a;
/// At most this many entries are kept (of the note and of strings each).
const MAX_ENTRIES: usize = 64;

/// One library loaded at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DlopenDep {
    /// Alternatives: satisfied when any one resolves.
    pub soname: Vec<String>,
    /// `required`, `recommended` (the default) or `suggested`; strings say `recommended`.
    pub priority: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// `note` (the binary declares it) or `string` (a soname in its read-only data).
    pub source: String,
}

#[derive(Deserialize)]
struct NoteEntry {
    #[serde(default)]
    soname: Vec<String>,
    feature: Option<String>,
    priority: Option<String>,
}

/// The entries of every `.note.dlopen` note of the file, in order (several notes form one list).
pub(super) fn from_notes(layout: &Layout<'_>) -> Vec<DlopenDep> {
    let little = layout.header.little;
    let mut deps = Vec::new();
    for s in layout.sections.iter().filter(|s| s.name == b".note.dlopen") {
        let data = layout.data(s);
        let mut at = 0usize;
        while let Some((name, desc, next)) = note_at(data, at, little) {
            if name.0 == OWNER && name.1 == NOTE_TYPE {
                deps.extend(entries(desc));
            }
            at = next;
        }
    }
    deps.truncate(MAX_ENTRIES);
    deps
}

/// The note at `at`: ((name, type), description, where the next one starts). Name and
/// description are padded to 4 bytes.
type Note<'a> = ((&'a [u8], u64), &'a [u8], usize);

fn note_at(data: &[u8], at: usize, little: bool) -> Option<Note<'_>> {
    let namesz = usize::try_from(word(data, at, 4, little)?).ok()?;
    let descsz = usize::try_from(word(data, at + 4, 4, little)?).ok()?;
    let kind = word(data, at + 8, 4, little)?;
    let name_at = at + 12;
    let desc_at = name_at.checked_add(namesz.checked_add(3)? & !3)?;
    let next = desc_at.checked_add(descsz.checked_add(3)? & !3)?;
    let name = data.get(name_at..name_at.checked_add(namesz)?)?;
    let desc = data.get(desc_at..desc_at.checked_add(descsz)?)?;
    Some(((name, kind), desc, next))
}

/// The JSON array of one note's description (NUL padding trimmed); a malformed one gives nothing.
fn entries(desc: &[u8]) -> Vec<DlopenDep> {
    let text = desc.split(|&b| b == 0).next().unwrap_or_default();
    let Ok(list) = serde_json::from_slice::<Vec<NoteEntry>>(text) else {
        return vec![];
    };
    list.into_iter()
        .filter(|e| !e.soname.is_empty())
        .map(|e| DlopenDep {
            soname: e.soname,
            priority: e.priority.unwrap_or_else(|| "recommended".into()),
            feature: e.feature,
            source: "note".into(),
        })
        .collect()
}

/// Sonames (`lib*.so*`, no directory) named in `regions`, each a `recommended` string entry.
pub(super) fn from_strings(regions: &[&[u8]]) -> Vec<DlopenDep> {
    let mut found: Vec<String> = Vec::new();
    for region in regions {
        for at in memchr::memmem::find_iter(region, b".so") {
            if let Some(name) = soname_around(region, at)
                && !found.contains(&name)
            {
                found.push(name);
                if found.len() == MAX_ENTRIES {
                    break;
                }
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|name| DlopenDep {
            soname: vec![name],
            priority: "recommended".into(),
            feature: None,
            source: "string".into(),
        })
        .collect()
}

/// The soname ending a NUL-terminated string around the `.so` at `at`: `lib`, then name
/// characters, `.so`, optionally `.N[.N…]`. It starts after the last character that cannot be in
/// a name: linkers merge a string into the tail of a longer one ("loaded libz.so.1"), and a
/// path names the library too.
fn soname_around(data: &[u8], at: usize) -> Option<String> {
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || b"_-+.".contains(&b);
    let start = data[..at]
        .iter()
        .rposition(|&b| !name_byte(b))
        .map_or(0, |i| i + 1);
    let end = data[at..].iter().position(|&b| b == 0).map(|i| at + i)?;
    let s = std::str::from_utf8(data.get(start..end)?).ok()?;
    let (stem, version) = s.split_once(".so")?;
    let name_ok = stem.len() > 3
        && stem.len() < 64
        && stem.starts_with("lib")
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-+.".contains(&b));
    let version_ok = version.is_empty()
        || (version.starts_with('.')
            && version[1..]
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
    (name_ok && version_ok).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(desc: &str) -> Vec<u8> {
        let mut d = desc.as_bytes().to_vec();
        d.push(0);
        let mut n = Vec::new();
        n.extend_from_slice(&4u32.to_le_bytes());
        n.extend_from_slice(&(d.len() as u32).to_le_bytes());
        n.extend_from_slice(&(NOTE_TYPE as u32).to_le_bytes());
        n.extend_from_slice(OWNER);
        while !d.len().is_multiple_of(4) {
            d.push(0);
        }
        n.extend_from_slice(&d);
        n
    }

    #[test]
    fn a_notes_entries_with_their_priorities() {
        let data = note(
            r#"[{"soname":["libssl.so.3","libssl.so.1.1"],"feature":"tls","priority":"required"},{"soname":["libz.so.1"]}]"#,
        );
        let ((name, kind), desc, next) = note_at(&data, 0, true).unwrap();
        assert_eq!((name, kind, next), (OWNER, NOTE_TYPE, data.len()));
        let e = entries(desc);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].soname, ["libssl.so.3", "libssl.so.1.1"]);
        assert_eq!(
            (e[0].priority.as_str(), e[1].priority.as_str()),
            ("required", "recommended")
        );
        assert_eq!(e[0].feature.as_deref(), Some("tls"));
    }

    #[test]
    fn malformed_notes_give_nothing_and_never_panic() {
        assert!(entries(b"not json").is_empty());
        assert!(note_at(&[1, 0, 0], 0, true).is_none());
        let mut huge = note("[]");
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(note_at(&huge, 0, true).is_none());
    }

    #[test]
    fn sonames_in_strings() {
        let data = b"\0libssl.so.3\0/usr/lib/libz.so.1\0libfoo.so\0notlib.so.1\0libbar.so.x\0.so\0";
        let names: Vec<String> = from_strings(&[data])
            .into_iter()
            .map(|d| d.soname[0].clone())
            .collect();
        assert_eq!(names, ["libfoo.so", "libssl.so.3", "libz.so.1"]);
        // The tail of a longer string, as linkers merge them.
        let merged = from_strings(&[b"\0loaded libz.so.1\0"]);
        assert_eq!(merged[0].soname, ["libz.so.1"]);
    }
}
