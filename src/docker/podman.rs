//! What changes when the Engine API is Podman's compatibility layer (`podman system service`)
//! instead of dockerd: where its socket is, how to tell it answered, and the settings it needs
//! that Docker does not. The differences met (Debian's podman 4.3, rootful) are listed in the
//! README's Podman section; each is handled where the request is made, with a comment naming it.
//! Everything here is pure, so that it is tested without a service.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Docker's socket: when it exists (and `DOCKER_HOST` is unset), it is the engine, as before.
pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// The rootful Podman service's usual socket (`podman.socket`, or `podman system service
/// --time=0 unix:///run/podman/podman.sock`).
pub const ROOTFUL_SOCKET: &str = "/run/podman/podman.sock";

/// The engine to use when `DOCKER_HOST` does not say: Docker's socket when it exists, else the
/// first Podman socket that exists — the rootless one (`$XDG_RUNTIME_DIR/podman/podman.sock`)
/// first for a user other than root, whose rootful socket is root's alone — else Docker's socket,
/// so that the error names the default.
pub fn default_host(
    docker_host: Option<&str>,
    xdg_runtime_dir: Option<&str>,
    is_root: bool,
    exists: impl Fn(&Path) -> bool,
) -> String {
    if let Some(h) = docker_host.filter(|h| !h.is_empty()) {
        return h.to_string();
    }
    if exists(Path::new(DOCKER_SOCKET)) {
        return format!("unix://{DOCKER_SOCKET}");
    }
    let rootless = xdg_runtime_dir
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join("podman/podman.sock"));
    let rootful = Some(PathBuf::from(ROOTFUL_SOCKET));
    let order = if is_root {
        [rootful, rootless]
    } else {
        [rootless, rootful]
    };
    order
        .into_iter()
        .flatten()
        .find(|p| exists(p))
        .map(|p| format!("unix://{}", p.display()))
        .unwrap_or_else(|| format!("unix://{DOCKER_SOCKET}"))
}

/// Does libccheck run as root (the owner of `/proc/self`)?
pub fn runs_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Does `host` name a Podman socket? Only said of the socket's path: an error that occurs before
/// the engine answered cannot ask it.
pub fn names_podman(host: &str) -> bool {
    host.starts_with("unix://") && host.contains("podman")
}

/// The engine's name in messages about `host`.
pub fn engine_name(host: &str) -> &'static str {
    if names_podman(host) {
        "Podman service"
    } else {
        "Docker daemon"
    }
}

/// What to do when nothing answers at `host`.
pub fn start_advice(host: &str) -> String {
    match host.strip_prefix("unix://").filter(|_| names_podman(host)) {
        Some(path) => format!(
            "is it running? `podman system service --time=0 unix://{path}` starts it; DOCKER_HOST selects another engine"
        ),
        None => "is dockerd running? DOCKER_HOST selects another daemon".into(),
    }
}

/// What to do when the socket at `host` refuses this user.
pub fn permission_advice(host: &str) -> &'static str {
    if names_podman(host) {
        "the rootful service's socket is root's: run as root, or use your own rootless service at $XDG_RUNTIME_DIR/podman/podman.sock"
    } else {
        "add your user to the `docker` group, or use a daemon you may access"
    }
}

/// Did the engine that answered `GET /_ping` say it is Podman? Its compatibility layer adds
/// `Libpod-Api-Version` and `Server: Libpod/…` to every answer (dockerd sends `Server: Docker/…`).
pub fn is_podman_answer(head: &str) -> bool {
    head.split("\r\n").skip(1).any(|line| {
        let Some((k, v)) = line.split_once(':') else {
            return false;
        };
        let (k, v) = (k.trim(), v.trim());
        k.eq_ignore_ascii_case("libpod-api-version")
            || (k.eq_ignore_ascii_case("server") && v.starts_with("Libpod/"))
    })
}

/// A resource limit for a container: `RLIMIT_*` name as the API spells it, soft, hard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    pub name: &'static str,
    pub soft: i64,
    pub hard: i64,
}

/// The limits a Podman container gets, from a `/proc/<pid>/limits` (the service's own, as
/// dockerd passes on its own).
///
/// Why: rootful Podman sets `nofile` (1048576) and `nproc` of every container itself, where
/// dockerd passes on its own limits. Raising a hard limit needs
/// `CAP_SYS_RESOURCE`; a service that lacks it (Podman inside a container or a CI sandbox) then
/// fails every container at start ("error setting rlimit type 7: operation not permitted").
/// Unlimited values are left to the service. `nproc` is capped at `pid_max` (a larger limit
/// allows nothing more): a service reached over TCP has limits libccheck cannot read, and
/// libccheck's own may exceed what the service (here 32768, the kernel's `pid_max`) could grant.
pub fn ulimits(proc_limits: &str, pid_max: Option<i64>) -> Vec<Ulimit> {
    const WANTED: [(&str, &str); 2] = [("Max open files", "nofile"), ("Max processes", "nproc")];
    WANTED
        .iter()
        .filter_map(|(label, name)| {
            let rest = proc_limits
                .lines()
                .find_map(|l| l.strip_prefix(label))?
                .split_whitespace()
                .collect::<Vec<_>>();
            let cap = |v: i64| match (*name, pid_max) {
                ("nproc", Some(m)) => v.min(m),
                _ => v,
            };
            Some(Ulimit {
                name,
                soft: cap(rest.first()?.parse().ok()?),
                hard: cap(rest.get(1)?.parse().ok()?),
            })
        })
        .collect()
}

/// A message of Podman's that says more with a word of ours: its `Init` needs catatonit, a
/// separate Debian package that `podman` only recommends; and it pulls over HTTPS from every
/// registry, 127.0.0.1 included, where Docker uses plain HTTP for loopback registries.
pub fn explain(message: &str) -> String {
    if message.contains("catatonit") && message.contains("no such file") {
        format!(
            "{message} (Podman runs `--init` containers under catatonit: install the catatonit package)"
        )
    } else if message.contains("server gave HTTP response to HTTPS client") {
        format!(
            "{message} (Podman pulls over plain HTTP only from registries /etc/containers/registries.conf marks `insecure = true`; Docker does so for 127.0.0.1 by itself)"
        )
    } else {
        message.to_string()
    }
}

/// Copy the tar of a Podman container's export to `out` as Docker would have exported the same
/// container: with Docker's init layer, whose entries replace the image's at those paths, and
/// each hard link as a copy of its target (`copy_of(path)` is the engine's archive of that one
/// file, a tar).
///
/// Why: Docker's export shows its init layer (`/.dockerenv`, empty `/etc/hosts`, `/etc/mtab` →
/// `/proc/mounts`, `/proc`, …); Podman's shows the image's files alone (it mounts those at
/// start). And Podman's export keeps hard links (`usr/bin/perl5.36.0` → `usr/bin/perl`) where
/// Docker's (on fuse-overlayfs) writes every name as a regular file. Profiles are cached by image
/// ID whichever engine made them, so both must read the same filesystem: Docker's, which is what
/// the profiles and tests were made from. Hard links are few (a dozen in a Debian base): each
/// costs one more request, never a copy of the export in memory.
pub fn with_docker_init_layer(
    input: impl Read,
    out: impl Write,
    mut copy_of: impl FnMut(&str) -> std::io::Result<Box<dyn Read>>,
) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(out);
    tar.mode(tar::HeaderMode::Complete);
    super::init_layer::append(&mut tar)?;
    let mut archive = tar::Archive::new(input);
    for entry in archive.entries()? {
        let entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let path = path
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/');
        if path.is_empty() || super::init_layer::holds(path) {
            continue;
        }
        let mut h = entry.header().clone();
        let kind = h.entry_type();
        if kind.is_hard_link() {
            let target = entry.link_name()?.unwrap_or_default().into_owned();
            let target = format!("/{}", target.to_string_lossy().trim_start_matches('/'));
            let mut copy = tar::Archive::new(copy_of(&target)?);
            let mut file = copy.entries()?.next().ok_or_else(|| {
                std::io::Error::other(format!("{path}: its hard link target {target} is missing"))
            })??;
            h.set_entry_type(tar::EntryType::Regular);
            h.as_old_mut().linkname = [0; 100];
            h.set_size(file.header().size()?);
            tar.append_data(&mut h, path, &mut file)?;
        } else if kind.is_symlink() {
            let target = entry.link_name()?.unwrap_or_default().into_owned();
            tar.append_link(&mut h, path, target)?;
        } else {
            tar.append_data(&mut h, path, entry)?;
        }
    }
    tar.into_inner()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(paths: &'static [&'static str]) -> impl Fn(&Path) -> bool {
        move |p| paths.iter().any(|q| Path::new(q) == p)
    }

    #[test]
    fn docker_host_wins_then_docker_then_podman() {
        let all = only(&[
            DOCKER_SOCKET,
            ROOTFUL_SOCKET,
            "/run/user/1000/podman/podman.sock",
        ]);
        assert_eq!(
            default_host(Some("tcp://h:1"), None, true, &all),
            "tcp://h:1"
        );
        assert_eq!(
            default_host(None, Some("/run/user/1000"), false, &all),
            "unix:///var/run/docker.sock"
        );
        let podman = only(&[ROOTFUL_SOCKET, "/run/user/1000/podman/podman.sock"]);
        assert_eq!(
            default_host(Some(""), Some("/run/user/1000"), true, &podman),
            "unix:///run/podman/podman.sock"
        );
        assert_eq!(
            default_host(None, Some("/run/user/1000"), false, &podman),
            "unix:///run/user/1000/podman/podman.sock"
        );
        assert_eq!(
            default_host(None, None, false, &podman),
            "unix:///run/podman/podman.sock"
        );
        assert_eq!(
            default_host(None, Some("/run/user/1000"), false, only(&[])),
            "unix:///var/run/docker.sock"
        );
    }

    #[test]
    fn messages_name_the_engine_by_its_socket() {
        let p = "unix:///run/podman/podman.sock";
        assert_eq!(engine_name(p), "Podman service");
        assert!(
            start_advice(p)
                .contains("podman system service --time=0 unix:///run/podman/podman.sock")
        );
        assert_eq!(engine_name("unix:///var/run/docker.sock"), "Docker daemon");
        assert_eq!(engine_name("tcp://podman:8080"), "Docker daemon");
        assert!(start_advice("tcp://podman:8080").contains("dockerd"));
    }

    #[test]
    fn podman_is_told_by_its_ping_headers() {
        let podman = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nLibpod-Api-Version: 4.3.1\r\nServer: Libpod/4.3.1 (linux)";
        assert!(is_podman_answer(podman));
        assert!(is_podman_answer("HTTP/1.1 200 OK\r\nserver: Libpod/5.0"));
        let docker =
            "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nServer: Docker/20.10.24+dfsg1 (linux)";
        assert!(!is_podman_answer(docker));
    }

    #[test]
    fn limits_are_read_from_proc() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max processes             96363                96363                processes \n\
Max open files            1024                 20000                files     \n";
        assert_eq!(
            ulimits(text, None),
            vec![
                Ulimit {
                    name: "nofile",
                    soft: 1024,
                    hard: 20000
                },
                Ulimit {
                    name: "nproc",
                    soft: 96363,
                    hard: 96363
                },
            ]
        );
        let unlimited =
            "Max processes             unlimited            unlimited            processes \n";
        assert!(ulimits(unlimited, Some(32768)).is_empty());
        assert_eq!(ulimits(text, Some(32768))[1].hard, 32768);
    }

    #[test]
    fn a_missing_catatonit_says_which_package() {
        let m = "container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory";
        assert!(explain(m).ends_with("install the catatonit package)"));
        assert_eq!(explain("other"), "other");
        let http = "pinging container registry 127.0.0.1:5000: Get \"https://127.0.0.1:5000/v2/\": http: server gave HTTP response to HTTPS client";
        assert!(explain(http).contains("registries.conf marks `insecure = true`"));
    }

    fn listing(tar_bytes: &[u8]) -> Vec<(String, String, u32, Vec<u8>)> {
        let mut a = tar::Archive::new(tar_bytes);
        let mut v: Vec<_> = a
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                let link = e
                    .link_name()
                    .unwrap()
                    .map(|l| l.to_string_lossy().into_owned());
                let mode = e.header().mode().unwrap();
                let mut data = vec![];
                e.read_to_end(&mut data).unwrap();
                (path, link.unwrap_or_default(), mode, data)
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_podman_export_gets_dockers_init_layer() {
        let mut b = tar::Builder::new(vec![]);
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(9);
        b.append_data(&mut h.clone(), "etc/hosts", &b"127.0.0.1"[..])
            .unwrap();
        b.append_data(&mut h.clone(), "etc/os-release", &b"ID=debian"[..])
            .unwrap();
        let long = format!("usr/lib/{}/libx.so.1", "d".repeat(120));
        b.append_data(&mut h.clone(), &long, &b"ELFdata!!"[..])
            .unwrap();
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Symlink);
        l.set_mode(0o777);
        l.set_size(0);
        b.append_link(&mut l, "lib/libx.so", format!("/{long}"))
            .unwrap();
        let mut hard = tar::Header::new_gnu();
        hard.set_entry_type(tar::EntryType::Link);
        hard.set_mode(0o644);
        hard.set_size(0);
        b.append_link(&mut hard, "etc/os-release.again", "etc/os-release")
            .unwrap();
        let podman = b.into_inner().unwrap();
        let mut asked = vec![];
        let mut docker = vec![];
        with_docker_init_layer(&podman[..], &mut docker, |path| {
            asked.push(path.to_string());
            let mut one = tar::Builder::new(vec![]);
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_size(9);
            one.append_data(&mut h, "os-release", &b"ID=debian"[..])
                .unwrap();
            Ok(Box::new(std::io::Cursor::new(one.into_inner().unwrap())))
        })
        .unwrap();
        assert_eq!(asked, ["/etc/os-release"]);
        let got = listing(&docker);
        let find = |p: &str| {
            got.iter()
                .find(|e| e.0 == p)
                .unwrap_or_else(|| panic!("{p}: {got:?}"))
        };
        assert_eq!(find("etc/hosts").3, b"", "the init layer's empty file wins");
        assert_eq!(find("etc/hosts").2, 0o755);
        assert_eq!(find("etc/os-release").3, b"ID=debian");
        assert_eq!(find(&long).3, b"ELFdata!!", "long names survive");
        assert_eq!(
            find("lib/libx.so").1,
            format!("/{long}"),
            "long link targets survive"
        );
        assert_eq!(find("etc/mtab").1, "/proc/mounts");
        assert!(find(".dockerenv").3.is_empty());
        assert_eq!(got.iter().filter(|e| e.0 == "etc/hosts").count(), 1);
        let again = find("etc/os-release.again");
        assert_eq!(
            (again.1.as_str(), &again.3[..]),
            ("", &b"ID=debian"[..]),
            "a hard link is a copy"
        );
        assert_eq!(got.len(), 6 + 5 + 1 + 4);
    }
}
