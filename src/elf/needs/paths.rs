//! Run-time data paths a binary names in its read-only data: CA bundles, time zones, locale and
//! iconv data, NSS and resolver configuration, the account files, the shell. One pass of one
//! automaton over `.rodata*` (or, without section headers, the read-only data segments), bounded.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::layout::{Layout, PF_R, PF_W, PF_X, PT_LOAD};

/// What is looked for. `/gconv` (not `gconv`): as a path component, not glibc's messages.
const NEEDLES: &[&str] = &[
    "/etc/ssl/certs",
    "/etc/ssl/cert.pem",
    "/etc/pki/tls",
    "/etc/pki/ca-trust",
    "/usr/share/zoneinfo",
    "/etc/localtime",
    "/usr/lib/locale",
    "/usr/share/i18n",
    "/gconv",
    "/etc/nsswitch.conf",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/passwd",
    "/etc/group",
    "/bin/sh",
];

/// At most this many bytes of read-only data are scanned (a 150 MB library has a few): the
/// pages a scan touches count toward the memory of a check, which stays small for any binary.
pub(super) const MAX_SCAN: usize = 16 << 20;
/// At most this many distinct strings are kept.
const MAX_PATHS: usize = 32;
/// A string longer than this is not a path: only the match is kept.
const MAX_STRING: usize = 256;
/// At most this many matches are looked at (a file made of needles stays fast).
const MAX_MATCHES: usize = 1 << 16;

fn matcher() -> &'static AhoCorasick {
    static M: OnceLock<AhoCorasick> = OnceLock::new();
    M.get_or_init(|| {
        // A contiguous NFA: built in microseconds, where the DFA the builder would pick costs
        // a check its start-up (tables of 256 transitions per state) to scan a few kilobytes.
        AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::LeftmostLongest)
            .build(NEEDLES)
            .expect("fixed patterns build")
    })
}

/// The read-only data: `.rodata` and `.rodata.*` sections, or without section headers the
/// readable segments that are neither writable nor executable.
pub(super) fn read_only_data<'a>(layout: &Layout<'a>) -> Vec<&'a [u8]> {
    if !layout.sections.is_empty() {
        return layout
            .sections
            .iter()
            .filter(|s| s.name == b".rodata" || s.name.starts_with(b".rodata."))
            .map(|s| layout.data(s))
            .collect();
    }
    layout
        .segments
        .iter()
        .filter(|s| s.p_type == PT_LOAD && s.flags & (PF_R | PF_W | PF_X) == PF_R)
        .map(|s| layout.segment_data(s))
        .collect()
}

/// The strings in `regions` that name a run-time path, sorted; and whether the scan stopped at
/// its bound.
pub(super) fn named_paths(regions: &[&[u8]]) -> (Vec<String>, bool) {
    let mut found: Vec<String> = Vec::new();
    let mut budget = MAX_SCAN;
    let mut matches = 0;
    let mut cut = false;
    'regions: for region in regions {
        let scanned = &region[..region.len().min(budget)];
        budget -= scanned.len();
        cut |= scanned.len() < region.len();
        for m in matcher().find_iter(scanned) {
            matches += 1;
            if matches > MAX_MATCHES {
                cut = true;
                break 'regions;
            }
            let text = terminated_string(scanned, m.start(), m.end())
                .unwrap_or(&scanned[m.start()..m.end()]);
            let text = String::from_utf8_lossy(text);
            if !found.iter().any(|f| *f == text) {
                found.push(text.into_owned());
                if found.len() == MAX_PATHS {
                    break 'regions;
                }
            }
        }
    }
    found.sort_unstable();
    (found, cut)
}

/// The NUL-terminated string around `data[start..end]`, when it is one: it starts after a NUL
/// (or where the data starts), ends at a NUL, is short and printable. Anything else is packed
/// data or not text.
fn terminated_string(data: &[u8], start: usize, end: usize) -> Option<&[u8]> {
    let window_start = start.saturating_sub(MAX_STRING);
    let from = match memchr::memrchr(0, &data[window_start..start]) {
        Some(i) => window_start + i + 1,
        None if window_start == 0 => 0,
        None => return None,
    };
    let limit = (from + MAX_STRING).min(data.len());
    let to = end + memchr::memchr(0, data.get(end..limit)?)?;
    let s = &data[from..to];
    s.iter().all(|b| (0x20..0x7f).contains(b)).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::super::test_elf::TestElf;
    use super::*;

    #[test]
    fn whole_c_strings_around_each_match() {
        let data = b"\0hello\0/etc/ssl/certs/ca-certificates.crt\0cannot open /etc/resolv.conf: %s\0/usr/lib/x86_64-linux-gnu/gconv\0";
        let (paths, cut) = named_paths(&[data]);
        assert_eq!(
            paths,
            [
                "/etc/ssl/certs/ca-certificates.crt",
                "/usr/lib/x86_64-linux-gnu/gconv",
                "cannot open /etc/resolv.conf: %s",
            ]
        );
        assert!(!cut);
    }

    #[test]
    fn a_match_in_non_text_or_a_long_run_keeps_the_match_only() {
        let data = b"x\n/etc/hosts\0";
        assert_eq!(named_paths(&[data]).0, ["/etc/hosts"]);
        let mut long = vec![b'a'; 300];
        long.extend_from_slice(b"/etc/passwd");
        long.extend(vec![b'b'; 300]);
        assert_eq!(named_paths(&[&long]).0, ["/etc/passwd"]);
        // At the very start or end of the data, without a terminator.
        assert_eq!(named_paths(&[b"/bin/sh"]).0, ["/bin/sh"]);
        assert_eq!(named_paths(&[b"/bin/sh\0"]).0, ["/bin/sh"]);
    }

    #[test]
    fn gconv_only_as_a_path_component() {
        let data = b"\0Fatal glibc error: gconv module reference counter overflow\0";
        assert!(named_paths(&[data]).0.is_empty());
    }

    #[test]
    fn bounded_in_bytes_and_in_strings() {
        let mut many = Vec::new();
        for i in 0..100 {
            many.extend_from_slice(format!("/etc/hosts.{i}\0").as_bytes());
        }
        let (paths, cut) = named_paths(&[&many]);
        assert_eq!(paths.len(), MAX_PATHS);
        assert!(!cut);
        let big = vec![0u8; MAX_SCAN + 10];
        let (paths, cut) = named_paths(&[&big[..10], &big]);
        assert!(paths.is_empty() && cut);
        let flood = b"/bin/sh".repeat(MAX_MATCHES + 1);
        assert!(named_paths(&[&flood]).1);
    }

    #[test]
    fn rodata_sections_or_read_only_segments() {
        let f = TestElf::new(true, true)
            .section(".text", b"\0/etc/passwd\0")
            .section(".rodata.str1.1", b"\0/etc/group\0")
            .section(".rodata", b"\0/bin/sh\0")
            .section(".rodatax", b"\0/etc/hosts\0");
        let f = f.build();
        let l = Layout::read(&f).unwrap();
        assert_eq!(
            named_paths(&read_only_data(&l)).0,
            ["/bin/sh", "/etc/group"]
        );
        let g = TestElf::new(false, false)
            .section(".text", b"\0/etc/passwd\0")
            .without_section_headers()
            .build();
        let l = Layout::read(&g).unwrap();
        assert_eq!(named_paths(&read_only_data(&l)).0, ["/etc/passwd"]);
    }
}
