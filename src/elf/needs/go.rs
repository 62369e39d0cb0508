//! Go programs: the build info (`.go.buildinfo`: Go version, `CGO_ENABLED`, build tags, module
//! dependencies) and the standard-library packages and functions linked, from the function names
//! in `.gopclntab` (which `-ldflags='-s -w'` keeps: the runtime needs them for tracebacks).

use super::super::bytes::word;
use super::layout::{Layout, PF_W, PT_LOAD};
use super::{GoBuild, GoBuildInfo};

const MAGIC: &[u8] = b"\xff Go buildinf:";
/// The build info header: magic, pointer size, flags, two pointers (unused when inline).
const HEADER: usize = 32;
/// Flag: the strings follow the header, varint-prefixed (Go ≥ 1.18).
const FLAG_INLINE: u8 = 2;
/// Without section headers, the build info starts the data segment; Go looks this far.
const DATA_SEARCH: usize = 64 << 10;
/// Longest build info string read (a big program's module list is a few KiB).
const MAX_STRING: u64 = 1 << 20;
/// Module dependencies kept at most.
const MAX_DEPS: usize = 1000;

/// Standard-library packages whose presence says what the program will look for at run time.
pub const PACKAGES: &[(&str, &str)] = &[
    ("crypto/x509", "certificates: may load the system CA pool"),
    (
        "net",
        "networking: may resolve names (resolv.conf, hosts, nsswitch.conf)",
    ),
    (
        "os/user",
        "user and group lookups (/etc/passwd, /etc/group, or libc's NSS with cgo)",
    ),
    (
        "time/tzdata",
        "time zone data embedded: /usr/share/zoneinfo not needed",
    ),
    (
        "runtime/cgo",
        "cgo: the program needs a C library at run time",
    ),
];

/// runtime/cgo is C and assembly: its one name in every cgo program (internally or externally
/// linked, PIE or not) is the assembly function `crosscall2`.
const CGO_MARKER: &[u8] = b"crosscall2";

/// Functions whose presence is a run-time need: exact names as `.gopclntab` has them, checked on
/// Go 1.19 programs (cgo and not, `netgo`/`osusergo`, `-s -w`, PIE, external linking) and on a
/// Go 1.23 one.
pub const FUNCTIONS: &[(&str, &str)] = &[
    (
        "crypto/x509.loadSystemRoots",
        "loads the system CA pool (/etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, ...)",
    ),
    (
        "time.LoadLocation",
        "loads named time zones from /usr/share/zoneinfo unless time/tzdata is embedded",
    ),
    (
        "time.initLocal",
        "reads the local time zone from $TZ or /etc/localtime (UTC without them)",
    ),
    ("net.(*Resolver).lookupIPAddr", "resolves host names"),
    (
        "net.(*Resolver).goLookupIPCNAMEOrder",
        "Go's own resolver: reads /etc/resolv.conf, /etc/hosts, /etc/nsswitch.conf",
    ),
    (
        "net.cgoLookupIP",
        "can resolve through libc's getaddrinfo (cgo)",
    ),
    ("os/user.lookupUser", "looks users up by name"),
    ("os/user.lookupGroup", "looks groups up by name"),
    (
        "os/user.current",
        "looks the current user up (user.Current)",
    ),
    (
        "os/user.readColonFile",
        "Go's own user lookup: reads /etc/passwd and /etc/group",
    ),
];

/// Is this a Go program: does it have Go's build info, function table or build ID note?
pub(super) fn is_go(layout: &Layout<'_>) -> bool {
    layout.sections.iter().any(|s| {
        s.name == b".go.buildinfo"
            || s.name.ends_with(b".gopclntab")
            || s.name == b".note.go.buildid"
    }) || data_segment_build_info(layout).is_some()
}

/// What the build info and (with `scan_names`) the function table say about a Go program.
pub(super) fn go_build(layout: &Layout<'_>) -> GoBuild {
    let mut build = GoBuild::default();
    let info = layout
        .section(".go.buildinfo")
        .map(|s| layout.data(s))
        .or_else(|| data_segment_build_info(layout));
    match info {
        Some(blob) => read_build_info(blob, &mut build),
        None => build.build_info = GoBuildInfo::Missing,
    }
    if let Some(pcln) = pclntab(layout) {
        linked(function_names(pcln, layout.header.little), &mut build);
    }
    build
}

/// The build info at the start of a writable segment, for files without section headers.
fn data_segment_build_info<'a>(layout: &Layout<'a>) -> Option<&'a [u8]> {
    if !layout.sections.is_empty() {
        return None;
    }
    layout
        .segments
        .iter()
        .filter(|s| s.p_type == PT_LOAD && s.flags & PF_W != 0)
        .find_map(|s| {
            let data = layout.segment_data(s);
            let at = memchr::memmem::find(&data[..data.len().min(DATA_SEARCH)], MAGIC)?;
            Some(&data[at..])
        })
}

/// The build info's version and module information into `build` (see `debug/buildinfo`).
fn read_build_info(blob: &[u8], build: &mut GoBuild) {
    if !blob.starts_with(MAGIC) || blob.len() < HEADER {
        build.build_info = GoBuildInfo::Damaged;
        return;
    }
    if blob[15] & FLAG_INLINE == 0 {
        // Before Go 1.18: two pointers to string headers, which this reader does not follow.
        build.build_info = GoBuildInfo::OlderFormat;
        return;
    }
    let rest = &blob[HEADER..];
    let Some((version, rest)) = varint_string(rest) else {
        build.build_info = GoBuildInfo::Damaged;
        return;
    };
    build.build_info = GoBuildInfo::Read;
    if !version.is_empty() {
        build.version = Some(String::from_utf8_lossy(version).into_owned());
    }
    if let Some((modinfo, _)) = varint_string(rest) {
        read_modinfo(&String::from_utf8_lossy(unframed(modinfo)), build);
    }
}

/// A uvarint-length-prefixed string and what follows it.
fn varint_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len = 0u64;
    for (i, &b) in data.iter().enumerate().take(10) {
        len |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let start = i + 1;
            let end = start.checked_add(usize::try_from(len.min(MAX_STRING)).ok()?)?;
            if len > MAX_STRING || end > data.len() {
                return None;
            }
            return Some((&data[start..end], &data[end..]));
        }
    }
    None
}

/// The module information without the 16-byte sentinels the go command frames it with
/// (`cmd/go/internal/modload.infoStart`/`infoEnd`); empty when it is not framed.
fn unframed(modinfo: &[u8]) -> &[u8] {
    let n = modinfo.len();
    if n >= 33 && modinfo[n - 17] == b'\n' {
        &modinfo[16..n - 16]
    } else {
        &[]
    }
}

/// `build\tCGO_ENABLED=…`, `build\t-tags=…` and `dep\tpath\tversion` (with `=>` replacements).
fn read_modinfo(text: &str, build: &mut GoBuild) {
    for line in text.lines() {
        let mut fields = line.split('\t');
        match (fields.next(), fields.next(), fields.next()) {
            (Some("build"), Some(setting), _) => read_setting(setting, build),
            (Some("dep"), Some(path), Some(version)) if build.deps.len() < MAX_DEPS => {
                build.deps.push(format!("{path}@{version}"));
            }
            (Some("=>"), Some(path), version) => {
                if let Some(last) = build.deps.last_mut() {
                    let version = version.filter(|v| !v.is_empty());
                    last.push_str(&format!(" => {path}"));
                    if let Some(v) = version {
                        last.push_str(&format!("@{v}"));
                    }
                }
            }
            _ => {}
        }
    }
}

/// One `key=value` build setting (the go command quotes values with spaces).
fn read_setting(setting: &str, build: &mut GoBuild) {
    let Some((key, value)) = setting.split_once('=') else {
        return;
    };
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    match key {
        "CGO_ENABLED" => build.cgo = Some(value == "1"),
        "-tags" => {
            build.tags = value
                .split(',')
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        }
        _ => {}
    }
}

/// `.gopclntab`; the internal linker names it `.data.rel.ro.gopclntab` in position-independent
/// builds. The external linker (cgo, `-linkmode=external`: how distributions build Go) merges it
/// into `.rodata` or `.data.rel.ro`, where its header is found by its magic.
fn pclntab<'a>(layout: &Layout<'a>) -> Option<&'a [u8]> {
    let named = layout.section(".gopclntab").or_else(|| {
        layout
            .sections
            .iter()
            .find(|s| s.name.ends_with(b".gopclntab"))
    });
    if let Some(s) = named {
        return Some(layout.data(s));
    }
    [".data.rel.ro", ".rodata"]
        .iter()
        .filter_map(|name| layout.section(name))
        .find_map(|s| find_pclntab(layout.data(s), layout.header.little))
}

/// The first place in `data` where a Go ≥ 1.18 function table starts: its magic, two zero pads,
/// an instruction quantum of 1, 2 or 4, a pointer size of 4 or 8, and a names block inside.
fn find_pclntab(data: &[u8], little: bool) -> Option<&[u8]> {
    [0xffff_fff0u32, 0xffff_fff1]
        .iter()
        .flat_map(|m| {
            let magic = if little {
                m.to_le_bytes()
            } else {
                m.to_be_bytes()
            };
            memchr::memmem::find_iter(data, &magic).collect::<Vec<_>>()
        })
        .map(|at| &data[at..])
        .find(|t| {
            t.get(4..6) == Some(&[0, 0])
                && matches!(t.get(6), Some(1 | 2 | 4))
                && matches!(t.get(7), Some(4 | 8))
                && names_block(t, little).is_some()
        })
}

/// The function names of a `.gopclntab`: since Go 1.16 one block of NUL-terminated names
/// (`funcnametab`) whose place the header gives; for older or unknown layouts the whole table,
/// whose pieces between NULs and control bytes include every name (`exact` is false).
struct FunctionNames<'a> {
    block: &'a [u8],
    exact: bool,
}

fn function_names(pcln: &[u8], little: bool) -> FunctionNames<'_> {
    match names_block(pcln, little) {
        Some(block) => FunctionNames { block, exact: true },
        None => FunctionNames {
            block: pcln,
            exact: false,
        },
    }
}

impl<'a> FunctionNames<'a> {
    fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let block = self.block;
        let ends = memchr::memchr_iter(0, block).chain(std::iter::once(block.len()));
        let mut start = 0;
        ends.map(move |end| {
            let piece = &block[start..end];
            start = end + 1;
            if self.exact {
                return piece;
            }
            // Binary data before a name in a whole table ends at a control byte.
            piece
                .iter()
                .rposition(|&b| b < 0x20)
                .map_or(piece, |i| &piece[i + 1..])
        })
    }
}

fn names_block(pcln: &[u8], little: bool) -> Option<&[u8]> {
    let magic = word(pcln, 0, 4, little)?;
    // The header's words after magic, pads, quantum and pointer size: nfunc, nfiles, then
    // (Go ≥ 1.18) textStart, then funcnameOffset and cuOffset (where the names end).
    let names_word = match magic {
        0xffff_fffa => 2,               // Go 1.16, 1.17
        0xffff_fff0 | 0xffff_fff1 => 3, // Go 1.18, 1.19; Go ≥ 1.20
        _ => return None,
    };
    let ptr = usize::from(*pcln.get(7)?);
    if ptr != 4 && ptr != 8 {
        return None;
    }
    let at = |i: usize| word(pcln, 8 + i * ptr, ptr, little).and_then(|v| usize::try_from(v).ok());
    let (start, end) = (at(names_word)?, at(names_word + 1)?);
    pcln.get(start..end)
}

/// The tables' packages and functions among `names`, into `build`.
fn linked(names: FunctionNames<'_>, build: &mut GoBuild) {
    let mut packages = [false; PACKAGES.len()];
    let mut functions = [false; FUNCTIONS.len()];
    for name in names.iter() {
        // Every name of interest starts with one of these letters: skip the rest quickly.
        if !matches!(name.first(), Some(b'c' | b'n' | b'o' | b't' | b'r')) {
            continue;
        }
        for (i, (p, _)) in PACKAGES.iter().enumerate() {
            packages[i] |= in_package(name, p) || (*p == "runtime/cgo" && name == CGO_MARKER);
        }
        for (i, (f, _)) in FUNCTIONS.iter().enumerate() {
            functions[i] |= name == f.as_bytes();
        }
    }
    let chosen = |table: &[(&str, &str)], seen: &[bool]| {
        table
            .iter()
            .zip(seen)
            .filter(|(_, s)| **s)
            .map(|((n, _), _)| n.to_string())
            .collect()
    };
    build.packages = chosen(PACKAGES, &packages);
    build.functions = chosen(FUNCTIONS, &functions);
}

/// Is `name` a function of package `package` itself: `net.Dial` is in `net`, `net/http.Get`
/// is not.
fn in_package(name: &[u8], package: &str) -> bool {
    name.strip_prefix(package.as_bytes())
        .is_some_and(|rest| rest.first() == Some(&b'.'))
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::test_elf::TestElf;
    use super::*;

    fn varint(mut n: usize, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    /// A Go ≥ 1.18 build info blob with this version and module text.
    fn build_info(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend([8, FLAG_INLINE]);
        b.resize(HEADER, 0);
        varint(version.len(), &mut b);
        b.extend_from_slice(version.as_bytes());
        let framed = format!("0123456789abcdef{modinfo}\n0123456789abcdef");
        varint(framed.len(), &mut b);
        b.extend_from_slice(framed.as_bytes());
        b
    }

    /// A Go 1.18 `.gopclntab` whose name block holds `names`.
    fn pclntab(names: &[&str]) -> Vec<u8> {
        let mut t = 0xffff_fff0u32.to_le_bytes().to_vec();
        t.extend([0, 0, 1, 8]);
        let header = 8 + 8 * 8;
        let mut block = Vec::new();
        for n in names {
            block.extend_from_slice(n.as_bytes());
            block.push(0);
        }
        let words = [names.len(), 0, 0, header, header + block.len(), 0, 0, 0];
        for w in words {
            t.extend((w as u64).to_le_bytes());
        }
        t.extend(block);
        t.extend(b"junk\0net.Dial\0"); // after the block: not read
        t
    }

    const MODINFO: &str = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n\
dep\tgolang.org/x/net\tv0.1.0\th1:abc=\n\
dep\texample.com/old\tv1.0.0\th1:x=\n=>\texample.com/new\tv1.2.0\th1:y=\n\
build\t-compiler=gc\nbuild\t-ldflags=\"-s -w\"\nbuild\t-tags=netgo,osusergo\nbuild\tCGO_ENABLED=0\nbuild\tGOARCH=amd64\n";

    #[test]
    fn build_info_settings_and_dependencies() {
        let mut b = GoBuild::default();
        read_build_info(&build_info("go1.19.8", MODINFO), &mut b);
        assert_eq!(b.build_info, GoBuildInfo::Read);
        assert_eq!(b.version.as_deref(), Some("go1.19.8"));
        assert_eq!(b.cgo, Some(false));
        assert_eq!(b.tags, ["netgo", "osusergo"]);
        assert_eq!(
            b.deps,
            [
                "golang.org/x/net@v0.1.0",
                "example.com/old@v1.0.0 => example.com/new@v1.2.0"
            ]
        );
    }

    #[test]
    fn older_damaged_and_unframed_build_info() {
        let mut b = GoBuild::default();
        let mut old = build_info("go1.17", MODINFO);
        old[15] = 0;
        read_build_info(&old, &mut b);
        assert_eq!(
            (b.build_info, b.version.clone()),
            (GoBuildInfo::OlderFormat, None)
        );
        let whole = build_info("go1.19.8", MODINFO);
        for cut in [0, 10, HEADER, HEADER + 3] {
            let mut b = GoBuild::default();
            read_build_info(&whole[..cut], &mut b);
            assert_eq!(b.build_info, GoBuildInfo::Damaged, "cut at {cut}");
        }
        // The version whole, the module text cut: the version only.
        let mut b = GoBuild::default();
        read_build_info(&whole[..HEADER + 10], &mut b);
        assert_eq!((b.version.as_deref(), b.cgo), (Some("go1.19.8"), None));
        // A length that claims more than there is.
        let mut huge = whole[..HEADER].to_vec();
        huge.extend([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        let mut b = GoBuild::default();
        read_build_info(&huge, &mut b);
        assert_eq!(b.build_info, GoBuildInfo::Damaged);
        assert_eq!(unframed(b"path\tx\n"), b"");
    }

    #[test]
    fn packages_and_functions_from_the_name_block() {
        let t = pclntab(&[
            "runtime.main",
            "net/http.Get",
            "crypto/x509.loadSystemRoots",
            "crypto/x509/pkix.init",
            "time.LoadLocation.func1",
            "time/tzdata.init.0",
            "crosscall2",
        ]);
        let mut b = GoBuild::default();
        linked(function_names(&t, true), &mut b);
        assert_eq!(b.packages, ["crypto/x509", "time/tzdata", "runtime/cgo"]);
        assert_eq!(b.functions, ["crypto/x509.loadSystemRoots"]);
    }

    #[test]
    fn unknown_table_layouts_are_read_whole() {
        let t = b"\xfb\xff\xff\xff\0\0\x01\x08net.Dial\0os/user.current\0";
        let mut b = GoBuild::default();
        linked(function_names(t, true), &mut b);
        assert_eq!(b.packages, ["net", "os/user"]);
        assert_eq!(b.functions, ["os/user.current"]);
        // A header pointing outside the table: read whole, no panic.
        let mut bad = pclntab(&["net.Dial"]);
        bad[8 + 3 * 8..8 + 4 * 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut b = GoBuild::default();
        linked(function_names(&bad, true), &mut b);
        assert_eq!(b.packages, ["net"]);
    }

    /// A Go program's sections (and a read-only string) in an ELF64 file.
    pub(in super::super) fn go_program() -> Vec<u8> {
        TestElf::new(true, true)
            .section(
                ".go.buildinfo",
                &build_info("go1.21.0", "build\tCGO_ENABLED=1\n"),
            )
            .section(
                ".gopclntab",
                &pclntab(&["time.LoadLocation", "os/user.lookupUser"]),
            )
            .section(".rodata", b"locked to thread/etc/ssl/certs1907")
            .build()
    }

    #[test]
    fn a_go_program_from_its_sections() {
        let f = go_program();
        let l = Layout::read(&f).unwrap();
        assert!(is_go(&l));
        let b = go_build(&l);
        assert_eq!(b.version.as_deref(), Some("go1.21.0"));
        assert_eq!(b.cgo, Some(true));
        assert_eq!(b.packages, ["os/user"]);
        assert_eq!(b.functions, ["time.LoadLocation", "os/user.lookupUser"]);
    }

    #[test]
    fn no_build_info_is_said_so() {
        let f = TestElf::new(true, true)
            .section(".gopclntab", &pclntab(&["net.Dial"]))
            .build();
        let l = Layout::read(&f).unwrap();
        assert!(is_go(&l));
        assert_eq!(go_build(&l).build_info, GoBuildInfo::Missing);
        let c = TestElf::new(true, true).section(".rodata", b"x").build();
        assert!(!is_go(&Layout::read(&c).unwrap()));
    }
}
