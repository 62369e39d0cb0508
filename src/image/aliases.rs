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

/// Resolve an alias or pass an image reference through. Rejects what cannot be an image reference.
pub fn resolve(s: &str) -> Result<Base, String> {
    let s = s.trim();
    if let Some(a) = ALIASES.iter().find(|a| a.name == s) {
        return Ok(Base {
            name: a.name.into(),
            image: a.image.into(),
        });
    }
    let valid = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@+".contains(c))
        && !s.starts_with(['-', '.', '/', ':'])
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !valid {
        let names: Vec<&str> = ALIASES.iter().map(|a| a.name).collect();
        return Err(format!(
            "unknown base {s:?}: not an alias ({}) nor an image reference",
            names.join(", ")
        ));
    }
    Ok(Base {
        name: s.into(),
        image: s.into(),
    })
}

/// Split repeated and comma-separated `--base` values, resolve each, drop duplicates.
pub fn resolve_all(values: &[String]) -> Result<Vec<Base>, String> {
    let mut out: Vec<Base> = Vec::new();
    for v in values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|v| !v.trim().is_empty())
    {
        let b = resolve(v)?;
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
        for d in DEFAULT_MATRIX {
            assert!(ALIASES.iter().any(|a| a.name == *d));
        }
    }
}
