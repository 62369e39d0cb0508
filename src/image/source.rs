//! Where an image's files come from, in the transport syntax skopeo and syft use:
//! `docker-daemon:REF` (the Docker daemon; plain references mean this), `docker-archive:PATH`
//! (`docker save` output), `oci:PATH` and `oci-archive:PATH` (OCI image layouts, a directory or a
//! tar of one), `registry:REF` / `docker://REF` (straight from a registry). Parsing only; the
//! readers are [`super::archive`] and [`super::registry`].

use std::path::PathBuf;

/// An image and where it is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Through the Docker Engine API (exported from a created container).
    Daemon(String),
    /// A `docker save` tar; the image within it (a `RepoTags` entry) when it holds several.
    DockerArchive {
        path: PathBuf,
        reference: Option<String>,
    },
    /// An OCI image layout directory; the image within it (`org.opencontainers.image.ref.name`).
    Oci {
        path: PathBuf,
        reference: Option<String>,
    },
    /// A tar of an OCI image layout.
    OciArchive {
        path: PathBuf,
        reference: Option<String>,
    },
    /// A registry, through the OCI distribution API.
    Registry(String),
}

/// The transports, as users type them (for `--help` and errors).
pub const TRANSPORTS: &str = "docker-daemon:REF, registry:REF (or docker://REF), docker-archive:PATH, oci:PATH, oci-archive:PATH";

impl Source {
    /// The source a name means: a transport prefix, or a plain reference (the daemon's).
    /// `Err` for a transport prefix with nothing after it.
    pub fn parse(s: &str) -> Result<Source, String> {
        let (transport, rest) = match s.strip_prefix("docker://") {
            Some(rest) => ("registry", rest),
            None => match s.split_once(':') {
                Some((t, rest)) if is_transport(t) => (t, rest),
                _ => return Ok(Source::Daemon(s.to_string())),
            },
        };
        if rest.is_empty() {
            return Err(format!(
                "{s:?}: nothing after {transport}: (image sources: {TRANSPORTS})"
            ));
        }
        let (path, reference) = match rest.split_once(':') {
            Some((p, r)) if !r.is_empty() => (PathBuf::from(p), Some(r.to_string())),
            _ => (PathBuf::from(rest.trim_end_matches(':')), None),
        };
        Ok(match transport {
            "docker-daemon" => Source::Daemon(rest.to_string()),
            "registry" => Source::Registry(rest.to_string()),
            "docker-archive" => Source::DockerArchive { path, reference },
            "oci" => Source::Oci { path, reference },
            _ => Source::OciArchive { path, reference },
        })
    }

    /// Is this read without a daemon?
    pub fn is_daemon(&self) -> bool {
        matches!(self, Source::Daemon(_))
    }

    /// The transport's name, as the JSON reports' `source` field says it.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Daemon(_) => "docker-daemon",
            Source::DockerArchive { .. } => "docker-archive",
            Source::Oci { .. } => "oci",
            Source::OciArchive { .. } => "oci-archive",
            Source::Registry(_) => "registry",
        }
    }
}

/// A name with a transport other than the daemon's (`registry:…`, `oci:…`): read without one.
pub fn is_daemonless(s: &str) -> bool {
    Source::parse(s).is_ok_and(|src| !src.is_daemon())
}

/// The transport of a name (`docker-daemon` for a plain reference).
pub fn kind_of(s: &str) -> &'static str {
    Source::parse(s).map_or("docker-daemon", |src| src.kind())
}

fn is_transport(t: &str) -> bool {
    matches!(
        t,
        "docker-daemon" | "registry" | "docker-archive" | "oci" | "oci-archive"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_parse_as_skopeo_writes_them() {
        assert_eq!(
            Source::parse("alpine:3.22").unwrap(),
            Source::Daemon("alpine:3.22".into())
        );
        assert_eq!(
            Source::parse("127.0.0.1:5000/x:1").unwrap(),
            Source::Daemon("127.0.0.1:5000/x:1".into())
        );
        assert_eq!(
            Source::parse("docker-daemon:alpine:3.22").unwrap(),
            Source::Daemon("alpine:3.22".into())
        );
        assert_eq!(
            Source::parse("registry:127.0.0.1:5000/x:1").unwrap(),
            Source::Registry("127.0.0.1:5000/x:1".into())
        );
        assert_eq!(
            Source::parse("docker://127.0.0.1:5000/x:1").unwrap(),
            Source::Registry("127.0.0.1:5000/x:1".into())
        );
        assert_eq!(
            Source::parse("docker-archive:/tmp/a.tar").unwrap(),
            Source::DockerArchive {
                path: "/tmp/a.tar".into(),
                reference: None
            }
        );
        assert_eq!(
            Source::parse("oci:/tmp/layout:musl").unwrap(),
            Source::Oci {
                path: "/tmp/layout".into(),
                reference: Some("musl".into())
            }
        );
        assert_eq!(
            Source::parse("oci-archive:img.tar").unwrap(),
            Source::OciArchive {
                path: "img.tar".into(),
                reference: None
            }
        );
        assert!(
            Source::parse("oci:")
                .unwrap_err()
                .contains("nothing after oci:")
        );
        assert!(is_daemonless("registry:x/y:1") && !is_daemonless("x/y:1"));
    }
}
