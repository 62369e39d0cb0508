//! How a probe container receives the probe and the plan's files. Any daemon: uploaded into a
//! volume of the container's own, with the report key as a file the probe deletes. A daemon on
//! this machine (a unix socket): one private directory written once per run and mounted
//! read-only into every container, the key in the probe's environment — each container then
//! costs no upload and no volume, like `docker run -v`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::docker::{DockerError, upload};
use crate::probe;

use super::Plan;

pub enum Delivery {
    Upload,
    Mounted(Mounted),
}

/// The run's private directory: the mounted tree is its `files/`, so that only libccheck may
/// enter it on the host while the containers' users may read what is mounted.
pub struct Mounted {
    /// Removed when the run ends, or when its future is dropped on Ctrl-C.
    dir: tempfile::TempDir,
    /// Cleared once the daemon cannot mount it (a daemon in a VM, SELinux labels): later
    /// containers upload instead.
    usable: AtomicBool,
}

impl Delivery {
    /// Mount where that is safe and possible: a local daemon, a program that does not run as root
    /// (a root program could read PID 1's environment, hence the key; with an upload the key is a
    /// file the probe deletes first), and a private directory libccheck could write.
    pub fn for_run(plan: &Plan, program_user: &str, docker_host: &str) -> Delivery {
        if !daemon_is_local(docker_host) {
            tracing::info!(
                "uploading the probe's files into each container (the daemon at {docker_host} may not share this machine's files)"
            );
            return Delivery::Upload;
        }
        if probe::runs_as_root(program_user) {
            tracing::info!(
                "uploading the probe's files into each container (the program runs as root)"
            );
            return Delivery::Upload;
        }
        match write_private_tree(plan) {
            Ok(dir) => {
                tracing::info!(
                    "mounting the probe's files read-only from {} (a daemon on this machine: no upload)",
                    dir.path().join(FILES).display()
                );
                Delivery::Mounted(Mounted {
                    dir,
                    usable: AtomicBool::new(true),
                })
            }
            Err(e) => {
                tracing::info!("uploading the probe's files: no private directory ({e})");
                Delivery::Upload
            }
        }
    }

    /// The directory to mount, unless this run uploads.
    pub fn mount_dir(&self) -> Option<std::path::PathBuf> {
        match self {
            Delivery::Mounted(m) if m.usable.load(Ordering::Relaxed) => {
                Some(m.dir.path().join(FILES))
            }
            _ => None,
        }
    }

    /// After a container failed with the mount: whether to try again with an upload (the daemon
    /// could not create or start it, so the mount is the likely cause) — then stop mounting.
    pub fn fall_back_after(&self, e: &DockerError) -> bool {
        let Delivery::Mounted(m) = self else {
            return false;
        };
        let mount_failure = matches!(
            e,
            DockerError::Api { op, .. } if *op == "container create" || *op == "container start"
        );
        if mount_failure && m.usable.swap(false, Ordering::Relaxed) {
            tracing::info!("the daemon could not mount libccheck's files ({e}); uploading instead");
        }
        mount_failure
    }
}

const FILES: &str = "files";
/// A run's private directory is `<temp dir>/libccheck-run-<pid>-<random>`: `clean` removes those
/// of processes that are gone (a run killed with SIGKILL cannot remove its own).
const DIR_PREFIX: &str = "libccheck-run-";

/// Remove the private directories in `tmp` of runs whose process is gone; how many.
pub fn remove_stale_dirs(tmp: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let pid = name
                .to_str()
                .and_then(|n| n.strip_prefix(DIR_PREFIX))
                .and_then(|r| r.split('-').next());
            pid.is_some_and(|p| !Path::new("/proc").join(p).exists())
        })
        .filter(|e| std::fs::remove_dir_all(e.path()).is_ok())
        .count()
}

/// `unix://…` (or no DOCKER_HOST): a daemon on this machine, whose filesystem is ours. A daemon
/// in a VM (Docker Desktop) answers on a unix socket too; its mount fails and the run uploads.
fn daemon_is_local(host: &str) -> bool {
    host.starts_with("unix://")
}

/// The probe and the plan's files, as an upload would lay them out, in a fresh private directory.
fn write_private_tree(plan: &Plan) -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()?;
    let files = dir.path().join(FILES);
    std::fs::create_dir(&files)?;
    std::fs::set_permissions(&files, std::fs::Permissions::from_mode(0o755))?;
    let mut entries = vec![upload::Entry::bytes("probe", 0o755, probe::PROBE_BINARY)];
    entries.extend(plan.files.iter().cloned());
    upload::write_dir(&entries, &files)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_daemon_on_a_unix_socket_shares_our_files() {
        assert!(daemon_is_local("unix:///var/run/docker.sock"));
        assert!(!daemon_is_local("tcp://127.0.0.1:2375"));
        assert!(!daemon_is_local("ssh://build-host"));
    }

    fn plan_of(binary: &std::path::Path) -> Plan {
        Plan {
            binary_name: "prog".into(),
            files: vec![
                upload::Entry::dir("app"),
                upload::Entry::host("app/prog", 0o755, binary.to_path_buf()),
            ],
            jobs: vec![],
            sidecars: Default::default(),
        }
    }

    #[test]
    fn a_local_run_mounts_a_private_tree_that_goes_with_it() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("prog");
        std::fs::write(&bin, b"\x7fELF").unwrap();
        let plan = plan_of(&bin);
        let unix = "unix:///var/run/docker.sock";
        let delivery = Delivery::for_run(&plan, "65532:65532", unix);
        let files = delivery.mount_dir().expect("mounted");
        assert_eq!(std::fs::read(files.join("app/prog")).unwrap(), b"\x7fELF");
        assert_eq!(
            std::fs::read(files.join("probe")).unwrap(),
            probe::PROBE_BINARY
        );
        // Only libccheck may enter the private directory; the mounted tree is readable.
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(files.parent().unwrap()), 0o700);
        assert_eq!(mode(&files), 0o755);
        // A daemon that cannot create the container with it: later containers upload.
        let refused = DockerError::Api {
            op: "container create",
            message: "invalid mount config for type \"bind\": bind source path does not exist"
                .into(),
        };
        assert!(delivery.fall_back_after(&refused));
        assert!(delivery.mount_dir().is_none());
        let private = files.parent().unwrap().to_path_buf();
        drop(delivery);
        assert!(
            !private.exists(),
            "the private directory is removed with the run"
        );
        // A program that runs as root, or a daemon elsewhere: uploads.
        assert!(Delivery::for_run(&plan, "0:0", unix).mount_dir().is_none());
        assert!(
            Delivery::for_run(&plan, "65532:65532", "tcp://10.0.0.2:2375")
                .mount_dir()
                .is_none()
        );
    }

    #[test]
    fn clean_removes_the_directories_of_runs_that_are_gone() {
        let tmp = tempfile::tempdir().unwrap();
        let dead = tmp.path().join("libccheck-run-999999999-abc");
        let live = tmp
            .path()
            .join(format!("libccheck-run-{}-def", std::process::id()));
        let other = tmp.path().join("libccheck-other-1");
        for d in [&dead, &live, &other] {
            std::fs::create_dir_all(d.join("files/app")).unwrap();
        }
        assert_eq!(remove_stale_dirs(tmp.path()), 1);
        assert!(!dead.exists() && live.exists() && other.exists());
    }

    #[test]
    fn only_create_and_start_failures_fall_back() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("prog");
        std::fs::write(&bin, b"x").unwrap();
        let delivery = Delivery::for_run(&plan_of(&bin), "65532:65532", "unix:///x.sock");
        let logs = DockerError::Api {
            op: "logs",
            message: "gone".into(),
        };
        assert!(!delivery.fall_back_after(&logs));
        assert!(delivery.mount_dir().is_some());
        assert!(!Delivery::Upload.fall_back_after(&logs));
    }
}
