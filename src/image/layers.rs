//! An image's layers → the tar stream of its merged filesystem, as a container export shows it,
//! so that every reader of an exported container ([`super::read::from_tar`], the audit's file
//! walk) reads images from archives, layouts and registries unchanged.
//!
//! Layers are read once each, streamed (gzip, zstd or plain tar, told by their first bytes), from
//! the top layer down: an entry is kept unless a layer above already decided its path (wrote it,
//! whited it out with `.wh.NAME`, made a parent opaque with `.wh..wh..opq`, or put a non-directory
//! at a parent). Nothing is unpacked to disk; one entry's bytes pass through at a time.
//!
//! Bad layers are errors naming the layer: a path that leaves the root (`../`), a hard link to a
//! path no layer at or below it has (Docker refuses to apply such a layer: `link` fails), an
//! unreadable or truncated stream. A whiteout of a path no lower layer has is tolerated, as Docker
//! tolerates it (removing what is not there is not an error when a layer is applied).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};

/// One layer to read: how errors name it, and its (possibly compressed) bytes.
pub struct Layer {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
}

/// Layers, top first, each opened when its turn comes (a registry's download starts then).
pub type Layers = Box<dyn Iterator<Item = Result<Layer, LayerError>> + Send>;

#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("{layer}: {source}")]
    Read {
        layer: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{layer}: the path {path:?} leaves the image's root")]
    Escapes { layer: String, path: String },
    #[error(
        "{layer}: hard link /{path} points to /{target}, which neither this layer (before it) nor any layer below has"
    )]
    DanglingHardlink {
        layer: String,
        path: String,
        target: String,
    },
    /// Opening a layer failed (a registry's answer, a missing blob).
    #[error("{0}")]
    Open(String),
}

/// What a layer above decided about a path (paths relative, without a leading `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// A directory: `entry` when a layer above wrote its header (else only an opaque marker
    /// named it, and a lower layer's header still shows); `opaque` when nothing of the layers
    /// below shows under it.
    Dir { opaque: bool, entry: bool },
    /// A file, link or other non-directory: hides the path and everything below it.
    Other,
    /// Whited out.
    Gone,
}

/// The marks of the layers read so far.
#[derive(Default)]
struct Above(HashMap<String, Mark>);

impl Above {
    /// Does a layer above hide `path` of a lower layer?
    fn hides(&self, path: &str) -> bool {
        match self.0.get(path) {
            Some(Mark::Dir { entry: false, .. }) | None => {}
            Some(_) => return true,
        }
        path.match_indices('/').any(|(i, _)| {
            matches!(
                self.0.get(&path[..i]),
                Some(Mark::Dir { opaque: true, .. } | Mark::Other | Mark::Gone)
            )
        })
    }

    /// Add one layer's marks below those of the layers above it.
    fn add(&mut self, layer: HashMap<String, Mark>) {
        for (path, mark) in layer {
            match (self.0.get_mut(&path), mark) {
                (None, m) => {
                    self.0.insert(path, m);
                }
                (
                    Some(Mark::Dir { opaque, entry }),
                    Mark::Dir {
                        opaque: o,
                        entry: e,
                    },
                ) => {
                    *opaque |= o;
                    *entry |= e;
                }
                (Some(_), _) => {}
            }
        }
    }
}

/// Note a directory (its header, or its opaque marker) in a layer's marks.
fn mark_dir(marks: &mut HashMap<String, Mark>, path: &str, header: bool, opaque_marker: bool) {
    let m = marks.entry(path.to_string()).or_insert(Mark::Dir {
        opaque: false,
        entry: false,
    });
    if let Mark::Dir { opaque, entry } = m {
        *opaque |= opaque_marker;
        *entry |= header;
    } else {
        *m = Mark::Dir {
            opaque: opaque_marker,
            entry: header,
        };
    }
}

/// An entry's path, relative and normalised (`./usr/lib/` → `usr/lib`); `None` for the root;
/// an error for `..` anywhere in it.
fn clean_path(raw: &str, layer: &str) -> Result<Option<String>, LayerError> {
    let mut parts = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(LayerError::Escapes {
                    layer: layer.to_string(),
                    path: raw.to_string(),
                });
            }
            c => parts.push(c),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// The layer's tar, decompressed as its first bytes say (gzip, zstd, or none).
fn decompressed(reader: Box<dyn Read + Send>) -> std::io::Result<Box<dyn Read + Send>> {
    let mut r = BufReader::with_capacity(256 << 10, reader);
    let head = r.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(r))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(r)?)
    } else {
        Box::new(r)
    })
}

/// What reading the layers found beyond the merged stream.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Merged {
    /// Whiteouts of paths no lower layer had (tolerated).
    pub stray_whiteouts: usize,
    /// The image's size as Docker reports it: every layer's regular files and symbolic links
    /// (a link counts its target's length), hidden ones included, hard links not again.
    pub size: u64,
}

/// Read `layers` (top first) and write the merged filesystem to `out` as one tar stream.
pub fn merge(layers: Layers, out: impl Write) -> Result<Merged, LayerError> {
    let mut tar = tar::Builder::new(out);
    let mut above = Above::default();
    let init = init_layer(&mut tar).map_err(|e| LayerError::Read {
        layer: "the merged image".into(),
        source: e,
    })?;
    above.add(init);
    let mut pending = Pending::default();
    for layer in layers {
        let Layer { name, reader } = layer?;
        let marks = merge_layer(&name, reader, &above, &mut tar, &mut pending)?;
        above.add(marks);
    }
    let merged = Merged {
        stray_whiteouts: pending.whiteouts.len(),
        size: pending.size,
    };
    if let Some((target, (layer, path))) = pending.hardlinks.into_iter().next() {
        return Err(LayerError::DanglingHardlink {
            layer,
            path,
            target,
        });
    }
    tar.into_inner().map_err(|e| LayerError::Read {
        layer: "the merged image".into(),
        source: e,
    })?;
    Ok(merged)
}

/// What the layers read so far leave for the layers below to settle.
#[derive(Default)]
struct Pending {
    /// Hard links whose target was not seen yet: target → (layer, link).
    hardlinks: HashMap<String, (String, String)>,
    /// Whiteouts no lower layer's entry matched yet.
    whiteouts: HashSet<String>,
    /// [`Merged::size`] so far.
    size: u64,
}

/// One layer's entries: those no layer above hides go to `tar`; returns the layer's marks.
fn merge_layer(
    name: &str,
    reader: Box<dyn Read + Send>,
    above: &Above,
    tar: &mut tar::Builder<impl Write>,
    pending: &mut Pending,
) -> Result<HashMap<String, Mark>, LayerError> {
    let io = |source: std::io::Error| LayerError::Read {
        layer: name.to_string(),
        source,
    };
    let mut archive = tar::Archive::new(decompressed(reader).map_err(io)?);
    let mut marks: HashMap<String, Mark> = HashMap::new();
    for entry in archive.entries().map_err(io)? {
        let mut e = entry.map_err(io)?;
        let raw = e.path().map_err(io)?.to_string_lossy().into_owned();
        let Some(path) = clean_path(&raw, name)? else {
            continue;
        };
        let (dir, file) = match path.rsplit_once('/') {
            Some((d, f)) => (Some(d), f),
            None => (None, path.as_str()),
        };
        if let Some(hidden) = file.strip_prefix(".wh.") {
            if hidden == ".wh..opq" {
                if let Some(d) = dir {
                    mark_dir(&mut marks, d, false, true);
                }
            } else if !hidden.starts_with(".wh.") {
                let gone = dir.map_or(hidden.to_string(), |d| format!("{d}/{hidden}"));
                if !above.hides(&gone) {
                    pending.whiteouts.insert(gone.clone());
                }
                marks.entry(gone).or_insert(Mark::Gone);
            }
            continue;
        }
        pending.whiteouts.remove(&path);
        pending.hardlinks.remove(&path);
        let kind = e.header().entry_type();
        pending.size += match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => e.size(),
            tar::EntryType::Symlink => e.link_name_bytes().map_or(0, |t| t.len() as u64),
            _ => 0,
        };
        let hidden = above.hides(&path);
        if kind.is_dir() {
            mark_dir(&mut marks, &path, true, false);
        } else {
            marks.insert(path.clone(), Mark::Other);
        }
        if hidden {
            continue;
        }
        let mut header = e.header().clone();
        match kind {
            tar::EntryType::Link => {
                let target = e
                    .link_name()
                    .map_err(io)?
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let Some(target) = clean_path(&target, name)? else {
                    continue;
                };
                if !marks.contains_key(&target) {
                    let link = (name.to_string(), path.clone());
                    pending.hardlinks.insert(target.clone(), link);
                }
                header.set_size(0);
                tar.append_link(&mut header, &path, &target).map_err(io)?;
            }
            tar::EntryType::Symlink => {
                let target = e.link_name().map_err(io)?.unwrap_or_default().into_owned();
                header.set_size(0);
                tar.append_link(&mut header, &path, &target).map_err(io)?;
            }
            tar::EntryType::Directory => {
                header.set_size(0);
                tar.append_data(&mut header, &path, std::io::empty())
                    .map_err(io)?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = e.size();
                header.set_size(size);
                // A short entry (a truncated layer) must not become a short file downstream.
                let mut body = Exact {
                    inner: &mut e,
                    left: size,
                };
                tar.append_data(&mut header, &path, &mut body).map_err(io)?;
            }
            // Devices and FIFOs: nothing a loader reads.
            _ => {}
        }
    }
    Ok(marks)
}

/// Exactly `left` bytes of `inner`: an end before them is an error, not a short file.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the layer ends inside a file (truncated)",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Docker's init layer, above every image's layers in a container (and so in its export):
/// directories, empty files (mode 0755) and a link (moby `daemon/initlayer`). Written first;
/// returns its marks, which hide the image's entries at those paths.
fn init_layer(tar: &mut tar::Builder<impl Write>) -> std::io::Result<HashMap<String, Mark>> {
    use crate::docker::init_layer;
    init_layer::append(tar)?;
    let mut marks = HashMap::new();
    for d in init_layer::DIRS {
        mark_dir(&mut marks, d, true, false);
    }
    for f in init_layer::FILES.iter().chain([&init_layer::LINK.0]) {
        marks.insert(f.to_string(), Mark::Other);
    }
    Ok(marks)
}

/// Merge `layers` on a thread of its own and hand the merged tar stream to `read` on this one;
/// the merge's error, when it fails, is the answer (the reader saw a cut stream then).
pub fn with_merged<T>(
    layers: Layers,
    read: impl FnOnce(Box<dyn Read + Send>) -> std::io::Result<T>,
) -> Result<(T, Merged), anyhow::Error> {
    let (rx, tx) = std::io::pipe()?;
    let producer = std::thread::spawn(move || {
        let w = std::io::BufWriter::with_capacity(256 << 10, tx);
        merge(layers, w)
    });
    let reader = Box::new(BufReader::with_capacity(256 << 10, rx));
    let read_result = read(reader);
    let merged = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the layer reader panicked"))?;
    let merged = merged?;
    Ok((read_result?, merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    enum E<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Link(&'a str, &'a str),
        Hard(&'a str, &'a str),
    }

    fn layer_tar(entries: &[E]) -> Vec<u8> {
        let mut t = tar::Builder::new(Vec::new());
        for e in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            match e {
                E::File(p, body) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(body.len() as u64);
                    t.append_data(&mut h, p, *body).unwrap();
                }
                E::Dir(p) => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    t.append_data(&mut h, p, std::io::empty()).unwrap();
                }
                E::Link(p, target) | E::Hard(p, target) => {
                    h.set_entry_type(if matches!(e, E::Link(..)) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    });
                    h.set_size(0);
                    t.append_link(&mut h, p, target).unwrap();
                }
            }
        }
        t.into_inner().unwrap()
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// Layers bottom first, as images list them; the merged (path, content or link) entries.
    fn merged(bottom_first: Vec<Vec<u8>>) -> Result<Vec<(String, String)>, LayerError> {
        let layers: Vec<Result<Layer, LayerError>> = bottom_first
            .into_iter()
            .enumerate()
            .rev()
            .map(|(i, bytes)| {
                Ok(Layer {
                    name: format!("layer {}", i + 1),
                    reader: Box::new(std::io::Cursor::new(bytes)),
                })
            })
            .collect();
        let mut out = Vec::new();
        merge(Box::new(layers.into_iter()), &mut out)?;
        let mut a = tar::Archive::new(&out[..]);
        let mut got = vec![];
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let what = match e.link_name().unwrap() {
                Some(t) => format!("-> {}", t.to_string_lossy()),
                None => {
                    let mut s = String::new();
                    e.read_to_string(&mut s).unwrap();
                    s
                }
            };
            got.push((p, what));
        }
        got.retain(|(p, _)| !INIT.contains(&p.trim_end_matches('/')));
        got.sort();
        Ok(got)
    }

    const INIT: &[&str] = &[
        "dev",
        "dev/pts",
        "dev/shm",
        "etc",
        "proc",
        "sys",
        ".dockerenv",
        "dev/console",
        "etc/hostname",
        "etc/hosts",
        "etc/resolv.conf",
        "etc/mtab",
    ];

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn upper_layers_replace_and_white_out_lower_ones() {
        let l1 = layer_tar(&[
            E::Dir("usr/"),
            E::Dir("usr/lib/"),
            E::File("usr/lib/libold.so", b"old"),
            E::File("usr/lib/libkeep.so", b"keep"),
            E::Dir("opt/"),
            E::File("opt/a", b"a"),
            E::File("bin", b"a file, then a directory"),
            E::File("x", b"first"),
        ]);
        let l2 = layer_tar(&[
            E::File("usr/lib/.wh.libold.so", b""),
            E::File("opt/.wh..wh..opq", b""),
            E::File("opt/b", b"b"),
            E::Dir("bin/"),
            E::Link("bin/sh", "busybox"),
            E::File("x", b"second"),
            E::File(".wh.never-there", b""),
        ]);
        let got = merged(vec![gz(&l1), l2]).unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("bin", ""),
                ("bin/sh", "-> busybox"),
                ("opt", ""),
                ("opt/b", "b"),
                ("usr", ""),
                ("usr/lib", ""),
                ("usr/lib/libkeep.so", "keep"),
                ("x", "second"),
            ])
        );
    }

    #[test]
    fn zstd_layers_are_read() {
        let l1 = layer_tar(&[E::File("etc/os-release", b"PRETTY_NAME=z")]);
        let z = zstd::encode_all(&l1[..], 3).unwrap();
        assert_eq!(
            merged(vec![z]).unwrap(),
            pairs(&[("etc/os-release", "PRETTY_NAME=z")])
        );
    }

    #[test]
    fn a_path_leaving_the_root_is_refused() {
        // The tar crate refuses to write `..`: patch the name into the header by hand.
        let mut l = layer_tar(&[E::File("aa/evil", b"x")]);
        l[..9].copy_from_slice(b"../../evi");
        let mut h = tar::Header::from_byte_slice(&l[..512]).clone();
        h.set_cksum();
        l[..512].copy_from_slice(h.as_bytes());
        let e = merged(vec![l]).unwrap_err();
        assert!(matches!(e, LayerError::Escapes { .. }), "{e}");
        assert!(
            e.to_string().starts_with("layer 1: the path \"../../evi"),
            "{e}"
        );
    }

    #[test]
    fn hard_links_need_a_target_at_or_below_their_layer() {
        let l1 = layer_tar(&[E::File("lib/a.so", b"a")]);
        let l2 = layer_tar(&[
            E::Hard("lib/b.so", "lib/a.so"),
            E::Hard("lib/c.so", "lib/b.so"),
        ]);
        assert_eq!(merged(vec![l1, l2.clone()]).unwrap().len(), 3);
        let e = merged(vec![layer_tar(&[E::File("other", b"")]), l2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "layer 2: hard link /lib/b.so points to /lib/a.so, which neither this layer (before it) nor any layer below has"
        );
    }

    #[test]
    fn a_truncated_layer_is_an_error_naming_it() {
        let l1 = gz(&layer_tar(&[E::File("lib/a.so", &[7u8; 100_000])]));
        let cut = l1[..l1.len() / 2].to_vec();
        let e = merged(vec![cut]).unwrap_err();
        assert!(e.to_string().starts_with("layer 1: "), "{e}");
    }
}
