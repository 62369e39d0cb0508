//! The toolchain that built a binary, for fix hints that name its own flags: Go from its build
//! info, Rust, Zig, Clang and GCC from the compilers' lines in `.comment`, and from GCC's line the
//! distribution (and so the glibc) of the builder image.

use serde::{Deserialize, Serialize};

use super::GoBuild;
use super::layout::Layout;

/// What built a binary, most specific first (a Rust program's `.comment` also names the GCC of
/// its C runtime files; a Go program with cgo, the C compiler).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Toolchain {
    Go {
        /// `go1.19.8`
        version: Option<String>,
        cgo: Option<bool>,
    },
    Rust {
        /// `1.80.0`
        version: Option<String>,
    },
    Zig,
    Clang {
        version: Option<String>,
    },
    Gcc {
        /// `12.2.0`
        version: Option<String>,
        /// The builder's distribution when GCC's line names it: `Debian 12`, `Ubuntu 22.04`.
        distribution: Option<Builder>,
    },
    #[default]
    Unknown,
}

/// A distribution release whose GCC built the binary, and the glibc it ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Builder {
    /// `Debian 12`
    pub name: String,
    /// `debian:12` — the builder image of that release.
    pub image: String,
    /// `2.36`
    pub glibc: String,
}

/// GCC's packaged versions per release (Debian and Ubuntu package `gcc-N` as `N.x.y-…`): a
/// version prefix names the release. Sources: packages.debian.org and packages.ubuntu.com.
const GCC_RELEASES: &[(&str, &str, &str, &str, &str)] = &[
    // (distribution, GCC version prefix, release, image, glibc)
    ("Debian", "8.3.0", "Debian 10", "debian:10", "2.28"),
    ("Debian", "10.2.1", "Debian 11", "debian:11", "2.31"),
    ("Debian", "12.2.0", "Debian 12", "debian:12", "2.36"),
    ("Debian", "14.2.0", "Debian 13", "debian:13", "2.41"),
    ("Ubuntu", "9.4.0", "Ubuntu 20.04", "ubuntu:20.04", "2.31"),
    ("Ubuntu", "11.4.0", "Ubuntu 22.04", "ubuntu:22.04", "2.35"),
    ("Ubuntu", "13.2.0", "Ubuntu 24.04", "ubuntu:24.04", "2.39"),
];

/// The toolchain of a binary with these headers and (for Go) this build info.
pub(super) fn detect(layout: Option<&Layout<'_>>, go: Option<&GoBuild>) -> Toolchain {
    if let Some(g) = go {
        return Toolchain::Go {
            version: g.version.clone(),
            cgo: g.cgo,
        };
    }
    let lines = layout.map(comment_lines).unwrap_or_default();
    from_comment(&lines)
}

/// The NUL-separated lines of `.comment`.
fn comment_lines(layout: &Layout<'_>) -> Vec<String> {
    let Some(s) = layout.section(".comment") else {
        return vec![];
    };
    layout
        .data(s)
        .split(|&b| b == 0)
        .filter(|l| !l.is_empty())
        .take(64)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

/// The most specific toolchain the `.comment` lines name.
fn from_comment(lines: &[String]) -> Toolchain {
    let find = |prefix: &str| lines.iter().find_map(|l| l.strip_prefix(prefix));
    let first_word = |s: &str| s.split_whitespace().next().map(String::from);
    if let Some(rest) = find("rustc version ") {
        return Toolchain::Rust {
            version: first_word(rest),
        };
    }
    if lines
        .iter()
        .any(|l| l.contains("Zig") || l.contains("zig "))
    {
        return Toolchain::Zig;
    }
    if let Some(l) = lines.iter().find(|l| l.contains("clang version ")) {
        let version = l.split("clang version ").nth(1).and_then(first_word);
        return Toolchain::Clang { version };
    }
    match find("GCC: ") {
        Some(rest) => gcc(rest),
        None => Toolchain::Unknown,
    }
}

/// `(Debian 12.2.0-14) 12.2.0` → GCC 12.2.0 built on Debian 12.
fn gcc(line: &str) -> Toolchain {
    let version = line.rsplit(' ').next().map(String::from);
    let package = line
        .strip_prefix('(')
        .and_then(|l| l.split_once(')'))
        .map(|(p, _)| p);
    let distribution = package.and_then(|p| {
        let (distro, package_version) = p.split_once(' ')?;
        GCC_RELEASES
            .iter()
            .find(|(d, prefix, ..)| *d == distro && package_version.starts_with(prefix))
            .map(|(_, _, name, image, glibc)| Builder {
                name: name.to_string(),
                image: image.to_string(),
                glibc: glibc.to_string(),
            })
    });
    Toolchain::Gcc {
        version,
        distribution,
    }
}

impl Toolchain {
    pub fn is_unknown(&self) -> bool {
        *self == Toolchain::Unknown
    }

    /// One line for `inspect`: `Go go1.19.8 (CGO_ENABLED=1)`, `GCC 12.2.0 on Debian 12
    /// (glibc 2.36)`.
    pub fn describe(&self) -> Option<String> {
        let v = |v: &Option<String>| v.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
        Some(match self {
            Toolchain::Go { version, cgo } => {
                let cgo = match cgo {
                    Some(true) => " (CGO_ENABLED=1)",
                    Some(false) => " (CGO_ENABLED=0)",
                    None => "",
                };
                format!("Go{}{cgo}", v(version))
            }
            Toolchain::Rust { version } => format!("Rust{}", v(version)),
            Toolchain::Zig => "Zig".into(),
            Toolchain::Clang { version } => format!("Clang{}", v(version)),
            Toolchain::Gcc {
                version,
                distribution,
            } => match distribution {
                Some(b) => format!("GCC{} on {} (glibc {})", v(version), b.name, b.glibc),
                None => format!("GCC{}", v(version)),
            },
            Toolchain::Unknown => return None,
        })
    }

    /// The builder image for a Go version: `go1.19.8` → `golang:1.19-alpine`.
    pub fn go_alpine_builder(&self) -> Option<String> {
        let Toolchain::Go {
            version: Some(v), ..
        } = self
        else {
            return None;
        };
        let mut parts = v.trim_start_matches("go").split('.');
        Some(format!("golang:{}.{}-alpine", parts.next()?, parts.next()?))
    }
}

/// The newest release of `GCC_RELEASES` whose glibc is at most `glibc`: an older builder image
/// whose programs run on a base with that glibc.
pub fn builder_for_glibc(glibc: &str) -> Option<(&'static str, &'static str)> {
    let at_most = crate::elf::version::dotted(glibc)?;
    // Reversed: of releases with the same glibc, the first listed (Debian) is kept.
    GCC_RELEASES
        .iter()
        .rev()
        .filter(|(.., g)| crate::elf::version::dotted(g).is_some_and(|g| g <= at_most))
        .max_by_key(|(.., g)| crate::elf::version::dotted(g))
        .map(|(_, _, name, image, _)| (*name, *image))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn gcc_lines_name_the_builders_release() {
        let t = from_comment(&lines(&["GCC: (Debian 12.2.0-14) 12.2.0"]));
        assert_eq!(
            t.describe().unwrap(),
            "GCC 12.2.0 on Debian 12 (glibc 2.36)"
        );
        // Point releases add suffixes; the prefix decides.
        let t = from_comment(&lines(&["GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"]));
        assert!(t.describe().unwrap().contains("Debian 12"));
        let t = from_comment(&lines(&["GCC: (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0"]));
        assert!(t.describe().unwrap().contains("Ubuntu 22.04 (glibc 2.35)"));
        let t = from_comment(&lines(&["GCC: (GNU) 13.1.0"]));
        assert_eq!(t.describe().unwrap(), "GCC 13.1.0");
    }

    #[test]
    fn the_most_specific_compiler_wins() {
        let rust = from_comment(&lines(&[
            "GCC: (Debian 12.2.0-14) 12.2.0",
            "rustc version 1.80.0 (051478957 2024-07-21)",
        ]));
        assert_eq!(
            rust,
            Toolchain::Rust {
                version: Some("1.80.0".into())
            }
        );
        let clang = from_comment(&lines(&["Debian clang version 14.0.6"]));
        assert_eq!(clang.describe().unwrap(), "Clang 14.0.6");
        assert_eq!(from_comment(&[]), Toolchain::Unknown);
    }

    #[test]
    fn go_builders_and_older_gcc_builders() {
        let go = Toolchain::Go {
            version: Some("go1.19.8".into()),
            cgo: Some(true),
        };
        assert_eq!(go.go_alpine_builder().unwrap(), "golang:1.19-alpine");
        assert_eq!(go.describe().unwrap(), "Go go1.19.8 (CGO_ENABLED=1)");
        assert_eq!(builder_for_glibc("2.31"), Some(("Debian 11", "debian:11")));
        assert_eq!(
            builder_for_glibc("2.35"),
            Some(("Ubuntu 22.04", "ubuntu:22.04"))
        );
        assert_eq!(builder_for_glibc("2.17"), None);
    }
}
