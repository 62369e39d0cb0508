//! `libccheck inspect`: find ELF files on the host, memory-map them and profile them in parallel.
//! Nothing is ever executed; each file is only read.

use std::fs::File;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::elf::needs::RuntimeNeeds;
use crate::elf::{self, BinaryProfile, ElfError};

/// One inspected ELF file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    #[serde(flatten)]
    pub profile: BinaryProfile,
    /// RPATH entries with `$ORIGIN` expanded against the file's directory.
    pub rpath_expanded: Vec<String>,
    pub runpath_expanded: Vec<String>,
    /// What it will ask for at run time (left out when nothing).
    #[serde(skip_serializing_if = "RuntimeNeeds::is_empty")]
    pub runtime_needs: RuntimeNeeds,
    /// What built it, when its `.comment` or Go build info says (files named on the command line).
    #[serde(skip_serializing_if = "crate::elf::needs::toolchain::Toolchain::is_unknown")]
    pub toolchain: crate::elf::needs::toolchain::Toolchain,
    /// The host program it is a module of, by its entry point or its host's symbols (a walk
    /// reads no exports: there, by the symbols only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<elf::module::Module>,
    /// Predicted against the built-in catalog (files named on the command line only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<crate::catalog::Compatibility>,
}

/// A file that could not be inspected, with a one-line reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileError {
    pub path: String,
    pub error: String,
}

#[derive(Debug, Default, Serialize)]
pub struct InspectRun {
    pub files: Vec<FileReport>,
    pub errors: Vec<FileError>,
    /// Regular files in walked directories that are not ELF.
    pub skipped_non_elf: usize,
    /// Symbolic links met while walking (not followed; their targets are walked where they live).
    pub skipped_symlinks: usize,
}

enum Candidate {
    /// Named on the command line: not being ELF is an error.
    Explicit(PathBuf),
    /// Found by walking the n-th directory argument: not being ELF means skipped.
    Walked(PathBuf, usize),
}

enum Outcome {
    Elf(Box<FileReport>),
    NotElf,
    Failed(FileError),
}

fn io_reason(e: &std::io::Error) -> String {
    if e.raw_os_error() == Some(libc_eloop()) {
        return "symbolic link loop".to_string();
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => crate::text::io_message(e).to_lowercase(),
    }
}

const fn libc_eloop() -> i32 {
    40 // ELOOP on Linux
}

/// Inspect every path: files directly, directories walked (symlinks not followed).
pub fn inspect_paths(paths: &[PathBuf]) -> InspectRun {
    let mut run = InspectRun::default();
    let mut candidates = Vec::new();
    let mut roots: Vec<(&PathBuf, usize)> = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) => run.errors.push(FileError {
                path: p.display().to_string(),
                error: io_reason(&e),
            }),
            Ok(m) if m.is_dir() => {
                walk(p, roots.len(), &mut candidates, &mut run);
                roots.push((p, 0));
            }
            Ok(m) if m.is_file() => candidates.push(Candidate::Explicit(p.clone())),
            // FIFOs, sockets and devices: opening them could block or have effects.
            Ok(_) => run.errors.push(FileError {
                path: p.display().to_string(),
                error: "not a regular file".into(),
            }),
        }
    }
    let outcomes: Vec<Outcome> = candidates.par_iter().map(inspect_candidate).collect();
    for (c, o) in candidates.iter().zip(outcomes) {
        match o {
            Outcome::Elf(r) => {
                if let Candidate::Walked(_, root) = c {
                    roots[*root].1 += 1;
                }
                run.files.push(*r)
            }
            Outcome::NotElf => run.skipped_non_elf += 1,
            Outcome::Failed(e) => run.errors.push(e),
        }
    }
    for (root, found) in roots {
        if found == 0 {
            run.errors.push(FileError {
                path: root.display().to_string(),
                error: "directory contains no ELF file".into(),
            });
        }
    }
    run
}

fn walk(root: &Path, root_idx: usize, out: &mut Vec<Candidate>, run: &mut InspectRun) {
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        match entry {
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| root.display().to_string());
                let reason = e.io_error().map(io_reason).unwrap_or_else(|| e.to_string());
                run.errors.push(FileError {
                    path,
                    error: reason,
                });
            }
            Ok(ent) => {
                let ft = ent.file_type();
                if ft.is_symlink() {
                    // A loop is worth reporting; a dangling link or a link to a walked file is not.
                    if let Err(e) = std::fs::metadata(ent.path())
                        && e.raw_os_error() == Some(libc_eloop())
                    {
                        run.errors.push(FileError {
                            path: ent.path().display().to_string(),
                            error: io_reason(&e),
                        });
                        continue;
                    }
                    run.skipped_symlinks += 1;
                } else if ft.is_file() {
                    out.push(Candidate::Walked(ent.into_path(), root_idx));
                }
            }
        }
    }
}

fn inspect_candidate(c: &Candidate) -> Outcome {
    let (path, explicit) = match c {
        Candidate::Explicit(p) => (p, true),
        Candidate::Walked(p, _) => (p, false),
    };
    let fail = |error: String| {
        Outcome::Failed(FileError {
            path: path.display().to_string(),
            error,
        })
    };
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) => return fail(io_reason(&e)),
    };
    let mut magic = [0u8; 4];
    let n = match crate::files::read_full(&mut f, &mut magic) {
        Ok(n) => n,
        Err(e) => return fail(io_reason(&e)),
    };
    if n < 4 || &magic != b"\x7fELF" {
        if !explicit {
            return Outcome::NotElf;
        }
        return fail(
            if n == 0 {
                ElfError::Empty
            } else {
                ElfError::NotElf
            }
            .to_string(),
        );
    }
    let map = match crate::files::map(&f) {
        Ok(m) => m,
        Err(e) => return fail(io_reason(&e)),
    };
    if explicit {
        return match elf::parse_for_loader(&map) {
            Ok((profile, exports)) => {
                let mut r = report_for(path, profile);
                r.runtime_needs = elf::needs::runtime_needs(&map, &r.profile);
                r.toolchain = r.runtime_needs.toolchain.clone();
                r.module = elf::module::module_of(&r.profile, &exports);
                let p = &r.profile;
                if p.machine == "x86-64"
                    && (p.kind.is_program() || p.kind == elf::Kind::SharedObject)
                {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    r.catalog = Some(crate::catalog::compatibility(p, &exports, &name));
                }
                Outcome::Elf(Box::new(r))
            }
            Err(e) => fail(e.to_string()),
        };
    }
    match elf::parse(&map) {
        Ok(profile) => {
            let mut r = report_for(path, profile);
            // A walk meets thousands of files: their data is not scanned (see runtime_needs_quick).
            r.runtime_needs = elf::needs::runtime_needs_quick(&map, &r.profile);
            r.module = elf::module::module_of(&r.profile, &elf::ExportTable::default());
            Outcome::Elf(Box::new(r))
        }
        Err(e) => fail(e.to_string()),
    }
}

/// Attach the path and the `$ORIGIN` expansions to a profile.
pub fn report_for(path: &Path, profile: BinaryProfile) -> FileReport {
    let needs_origin = profile
        .rpath
        .iter()
        .chain(&profile.runpath)
        .any(|e| e.contains("ORIGIN"));
    if !needs_origin {
        return FileReport {
            path: path.display().to_string(),
            rpath_expanded: profile.rpath.clone(),
            runpath_expanded: profile.runpath.clone(),
            profile,
            runtime_needs: RuntimeNeeds::default(),
            toolchain: Default::default(),
            module: None,
            catalog: None,
        };
    }
    let dir = path
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .or_else(|| path.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let origin = dir.display().to_string();
    let expand = |v: &[String]| v.iter().map(|e| elf::expand_origin(e, &origin)).collect();
    FileReport {
        path: path.display().to_string(),
        rpath_expanded: expand(&profile.rpath),
        runpath_expanded: expand(&profile.runpath),
        profile,
        runtime_needs: RuntimeNeeds::default(),
        toolchain: Default::default(),
        module: None,
        catalog: None,
    }
}
