//! Base-image aliases. One table, following the public images' own tags (Docker Hub library
//! images, gcr.io/distroless, Red Hat's registry).
//! The libc flavour and version of a base always come from the image itself, never from here.

/// An alias users type (`-b alpine`) and the image it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Alias {
    pub name: &'static str,
    pub image: &'static str,
    /// What the public image ships, for `libccheck bases` (informational only).
    pub libc: &'static str,
    /// Its entry in the offline catalog.
    pub catalog: &'static str,
}

pub const ALIASES: &[Alias] = &[
    Alias {
        name: "alpine",
        image: "alpine:3.22",
        libc: "musl 1.2.5",
        catalog: "alpine-3.22",
    },
    Alias {
        name: "debian-slim",
        image: "debian:13-slim",
        libc: "glibc 2.41",
        catalog: "debian-13",
    },
    Alias {
        name: "debian12-slim",
        image: "debian:12-slim",
        libc: "glibc 2.36",
        catalog: "debian-12",
    },
    Alias {
        name: "distroless-static",
        image: "gcr.io/distroless/static-debian13",
        libc: "none (static binaries only)",
        catalog: "distroless-static-debian13",
    },
    Alias {
        name: "distroless-base",
        image: "gcr.io/distroless/base-debian13",
        libc: "glibc 2.41, libssl",
        catalog: "distroless-base-debian13",
    },
    Alias {
        name: "distroless-cc",
        image: "gcr.io/distroless/cc-debian13",
        libc: "glibc 2.41, libstdc++, libgcc_s",
        catalog: "distroless-cc-debian13",
    },
    Alias {
        name: "ubuntu",
        image: "ubuntu:24.04",
        libc: "glibc 2.39",
        catalog: "ubuntu-24.04",
    },
    Alias {
        name: "ubi9-minimal",
        image: "registry.access.redhat.com/ubi9/ubi-minimal",
        libc: "glibc 2.34",
        catalog: "ubi-9",
    },
];

/// The bases checked when none is given.
pub const DEFAULT_MATRIX: &[&str] = &[
    "alpine",
    "debian-slim",
    "distroless-static",
    "distroless-base",
    "distroless-cc",
];

/// A base to check: the name the user gave and the image reference it means.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Base {
    pub name: String,
    pub image: String,
}

/// Names a base can be given by besides the alias table: the mirrors of `[aliases]` in
/// libccheck.toml (an alias or catalog name → another image) and the offline catalog's entries
/// (a catalog name → the public image it describes). Filled by the caller: the catalog sits
/// above this module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Name → image reference, consulted first.
    pub mirrors: std::collections::BTreeMap<String, String>,
    /// Catalog name → its public image, consulted after the alias table.
    pub catalog: Vec<(String, String)>,
}

/// Is `s` something Docker could take as an image reference?
pub fn is_image_reference(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@+".contains(c))
        && !s.starts_with(['-', '.', '/', ':'])
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Resolve an alias or pass an image reference through. Rejects what cannot be an image reference.
pub fn resolve(s: &str) -> Result<Base, String> {
    resolve_in(s, &Names::default())
}

/// Resolve a mirrored name, an alias, a catalog name, or pass an image reference through.
pub fn resolve_in(s: &str, names: &Names) -> Result<Base, String> {
    let s = s.trim();
    let named = |image: &str| Base {
        name: s.into(),
        image: image.into(),
    };
    if let Some(image) = names.mirrors.get(s) {
        return Ok(named(image));
    }
    if let Some(a) = ALIASES.iter().find(|a| a.name == s) {
        return Ok(named(a.image));
    }
    if let Some((_, image)) = names.catalog.iter().find(|(n, _)| n == s) {
        return Ok(named(image));
    }
    match super::source::Source::parse(s)? {
        super::source::Source::Daemon(r) if r != s && is_image_reference(&r) => {
            return Ok(named(&r));
        }
        super::source::Source::Daemon(_) => {}
        _ => return Ok(named(s)),
    }
    if !is_image_reference(s) {
        let names: Vec<&str> = ALIASES.iter().map(|a| a.name).collect();
        return Err(format!(
            "unknown base {s:?}: not an alias ({}) nor an image reference (nor an image source: {})",
            names.join(", "),
            super::source::TRANSPORTS
        ));
    }
    Ok(Base {
        name: s.into(),
        image: s.into(),
    })
}

/// Split repeated and comma-separated `--base` values, resolve each, drop duplicates.
pub fn resolve_all(values: &[String]) -> Result<Vec<Base>, String> {
    resolve_all_in(values, &Names::default())
}

/// [`resolve_all`] with mirrors and catalog names.
pub fn resolve_all_in(values: &[String], names: &Names) -> Result<Vec<Base>, String> {
    let mut out: Vec<Base> = Vec::new();
    for v in values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|v| !v.trim().is_empty())
    {
        let b = resolve_in(v, names)?;
        if !out.iter().any(|o| o.name == b.name) {
            out.push(b);
        }
    }
    if out.is_empty() {
        // An empty CI matrix variable must not make a gate that checks nothing and passes.
        return Err(format!(
            "no base given: {:?} names none (an empty -b/--base or --to, `bases = []` in libccheck.toml, or an empty CI matrix variable?)",
            values.join(",")
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_base_list_is_refused() {
        for empty in [
            vec![],
            vec!["".to_string()],
            vec![",".to_string()],
            vec![" , ".to_string()],
        ] {
            let e = resolve_all(&empty).unwrap_err();
            assert!(e.starts_with("no base given"), "{e}");
        }
        assert_eq!(resolve_all(&["alpine,".to_string()]).unwrap().len(), 1);
    }

    #[test]
    fn aliases_and_references() {
        assert_eq!(resolve("alpine").unwrap().image, "alpine:3.22");
        assert_eq!(
            resolve("libccheck-fixture/musl:latest").unwrap().image,
            "libccheck-fixture/musl:latest"
        );
        assert!(
            resolve("no such thing")
                .unwrap_err()
                .contains("unknown base")
        );
        assert!(resolve("-x").is_err());
        let v = resolve_all(&["alpine,debian-slim".into(), "alpine".into()]).unwrap();
        assert_eq!(
            v.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
            ["alpine", "debian-slim"]
        );
        let names = Names {
            mirrors: [(
                "alpine".to_string(),
                "mirror.example/alpine:3.22".to_string(),
            )]
            .into(),
            catalog: vec![("debian-12".into(), "debian:12-slim".into())],
        };
        let v = resolve_all_in(&["alpine,debian-12,debian-slim".into()], &names).unwrap();
        assert_eq!(
            v.iter()
                .map(|b| (b.name.as_str(), b.image.as_str()))
                .collect::<Vec<_>>(),
            [
                ("alpine", "mirror.example/alpine:3.22"),
                ("debian-12", "debian:12-slim"),
                ("debian-slim", "debian:13-slim")
            ]
        );
        // Without the catalog's names, a catalog name is an image reference of that name.
        assert_eq!(resolve("debian-12").unwrap().image, "debian-12");
        for d in DEFAULT_MATRIX {
            assert!(ALIASES.iter().any(|a| a.name == *d));
        }
    }
}
