//! How a probe container receives the probe and the plan's files. Any daemon: uploaded into a
//! volume of the container's own, with the report key as a file the probe deletes. A daemon on
//! this machine (a unix socket): a private copy per container, written into the run's private
//! directory and mounted read-only, the key in the probe's environment — each container then
//! costs no upload and no volume, like `docker run -v`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::docker::{DockerError, upload};
use crate::probe;

use super::Plan;

pub enum Delivery {
    Upload,
    Mounted(Mounted),
}

/// The run's private directory (mode 0700: only libccheck enters it on the host), holding one
/// readable tree per container. A lock file held for the run's life tells `clean` it is live.
pub struct Mounted {
    /// Removed when the run ends, or when its future is dropped on Ctrl-C.
    dir: tempfile::TempDir,
    _lock: std::fs::File,
    next: AtomicUsize,
    /// Cleared once the daemon cannot mount or run from it (a daemon in a VM, SELinux labels):
    /// later containers upload instead.
    usable: AtomicBool,
}

/// One container's copy of the probe and the plan's files, removed when dropped. A copy per
/// container, never the user's own file: a program that locks its executable, or writes to it
/// on the host, must not reach another base's run.
pub struct ContainerFiles(PathBuf);

impl ContainerFiles {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ContainerFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Delivery {
    /// Mount where that is safe and possible: a local daemon, a program that does not run as root
    /// (a root program could read PID 1's environment, hence the key; with an upload the key is a
    /// file the probe deletes first), and a private directory libccheck could make.
    pub fn for_run(program_user: &str, docker_host: &str) -> Delivery {
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
        match private_dir() {
            Ok((dir, lock)) => {
                tracing::info!(
                    "mounting the probe's files read-only from {} (a daemon on this machine: no upload)",
                    dir.path().display()
                );
                Delivery::Mounted(Mounted {
                    dir,
                    _lock: lock,
                    next: AtomicUsize::new(0),
                    usable: AtomicBool::new(true),
                })
            }
            Err(e) => {
                tracing::info!("uploading the probe's files: no private directory ({e})");
                Delivery::Upload
            }
        }
    }

    /// A fresh copy of the probe and `plan`'s files for one container to mount, unless this run
    /// uploads (or the copy failed: that container uploads).
    pub async fn files_for(&self, plan: &Plan) -> Option<ContainerFiles> {
        let Delivery::Mounted(m) = self else {
            return None;
        };
        if !m.usable.load(Ordering::Relaxed) {
            return None;
        }
        let n = m.next.fetch_add(1, Ordering::Relaxed);
        let files = ContainerFiles(m.dir.path().join(format!("c{n}")));
        let (at, entries) = (files.0.clone(), super::container_files(plan));
        let written = tokio::task::spawn_blocking(move || write_tree(&at, &entries)).await;
        match written.map_err(std::io::Error::other).and_then(|r| r) {
            Ok(()) => Some(files),
            Err(e) => {
                tracing::info!("uploading instead of mounting: {e}");
                None
            }
        }
    }

    /// After a container failed with the mount: whether to try again with an upload — when the
    /// daemon could not create or start it, the mount is the likely cause — then stop mounting.
    pub fn fall_back_after(&self, e: &DockerError) -> bool {
        let mount_failure = matches!(
            e,
            DockerError::Api { op, .. } if *op == "container create" || *op == "container start"
        );
        mount_failure && self.stop_mounting(&e.to_string())
    }

    /// After a container with the mount ended: whether its init could not start the probe from
    /// the mount (SELinux labels, a `noexec` mount a rootless daemon keeps): then upload.
    pub fn fall_back_after_exit(&self, code: i64, out: &[u8], err: &[u8]) -> bool {
        let err = String::from_utf8_lossy(err);
        let not_started = matches!(code, 126 | 127)
            && out.is_empty()
            && err.contains(&format!("exec {}/probe failed", super::WORK_DIR))
            // A host that cannot run the image's platform: not the mount's doing.
            && !err.to_ascii_lowercase().contains("exec format error");
        not_started && self.stop_mounting(err.trim())
    }

    fn stop_mounting(&self, why: &str) -> bool {
        let Delivery::Mounted(m) = self else {
            return false;
        };
        if m.usable.swap(false, Ordering::Relaxed) {
            tracing::info!(
                "the daemon could not run libccheck's mounted files ({why}); uploading instead"
            );
        }
        true
    }
}

/// A run's private directory is `<temp dir>/libccheck-run-<pid>-<random>`.
const DIR_PREFIX: &str = "libccheck-run-";
/// Locked by the run for its whole life.
const LOCK_FILE: &str = "lock";

/// `unix://…` (or no DOCKER_HOST): a daemon on this machine, whose filesystem is ours. A daemon
/// in a VM (Docker Desktop) answers on a unix socket too; its mount fails and the run uploads.
fn daemon_is_local(host: &str) -> bool {
    host.starts_with("unix://")
}

/// The run's private directory (absolute: the daemon refuses a relative mount source), locked.
fn private_dir() -> std::io::Result<(tempfile::TempDir, std::fs::File)> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = std::path::absolute(std::env::temp_dir())?;
    let dir = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(tmp)?;
    let lock = std::fs::File::create(dir.path().join(LOCK_FILE))?;
    lock.try_lock().map_err(std::io::Error::other)?;
    Ok((dir, lock))
}

/// `entries` in a new directory `at` that the containers' users may read.
fn write_tree(at: &Path, entries: &[upload::Entry]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir(at)?;
    std::fs::set_permissions(at, std::fs::Permissions::from_mode(0o755))?;
    upload::write_dir(entries, at)
}

/// Remove the private directories in `tmp` of runs that are over (their lock is free); how
/// many. Symbolic links and directories of other names are left alone.
pub fn remove_stale_dirs(tmp: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| Some((run_pid(&e.file_name().to_string_lossy())?, e)))
        .filter(|(_, e)| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|(pid, e)| run_is_over(&e.path(), *pid))
        .filter(|(_, e)| std::fs::remove_dir_all(e.path()).is_ok())
        .count()
}

/// The pid in a private directory's name, `libccheck-run-<pid>-<random>`; `None` for any other
/// name.
fn run_pid(name: &str) -> Option<u32> {
    let (pid, _) = name.strip_prefix(DIR_PREFIX)?.split_once('-')?;
    pid.parse().ok()
}

/// A run holds its directory's lock while it lasts, whatever its pid namespace. A directory
/// without a lock file is still being made, unless its process (`pid`) is gone.
fn run_is_over(dir: &Path, pid: u32) -> bool {
    match std::fs::File::open(dir.join(LOCK_FILE)) {
        Ok(f) => f.try_lock().is_ok(),
        Err(_) => !Path::new("/proc").join(pid.to_string()).exists(),
    }
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
            platform: &crate::elf::arch::ARCHES[0],
        }
    }

    #[tokio::test]
    async fn each_container_mounts_its_own_copy_that_goes_with_it() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("prog");
        std::fs::write(&bin, b"\x7fELF").unwrap();
        let plan = plan_of(&bin);
        let unix = "unix:///var/run/docker.sock";
        let delivery = Delivery::for_run("65532:65532", unix);
        let (a, b) = (
            delivery.files_for(&plan).await.unwrap(),
            delivery.files_for(&plan).await.unwrap(),
        );
        assert_eq!(
            std::fs::read(a.path().join("app/prog")).unwrap(),
            b"\x7fELF"
        );
        assert_eq!(
            std::fs::read(a.path().join("probe")).unwrap(),
            probe::PROBE_BINARY
        );
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert_ne!(
            ino(&a.path().join("app/prog")),
            ino(&b.path().join("app/prog"))
        );
        assert_ne!(ino(&a.path().join("app/prog")), ino(&bin));
        // Only libccheck may enter the private directory; each tree is readable.
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let private = a.path().parent().unwrap().to_path_buf();
        assert_eq!(mode(&private), 0o700);
        assert_eq!(mode(a.path()), 0o755);
        // A container's copy goes when it is done.
        let gone = a.path().to_path_buf();
        drop(a);
        assert!(!gone.exists());
        // A live run's directory is not clean's to remove.
        assert_eq!(remove_stale_dirs(private.parent().unwrap()), 0);
        drop(b);
        drop(delivery);
        assert!(
            !private.exists(),
            "the private directory is removed with the run"
        );
        // A program that runs as root, or a daemon elsewhere: uploads.
        assert!(
            Delivery::for_run("0:0", unix)
                .files_for(&plan)
                .await
                .is_none()
        );
        let remote = Delivery::for_run("65532:65532", "tcp://10.0.0.2:2375");
        assert!(remote.files_for(&plan).await.is_none());
    }

    #[tokio::test]
    async fn a_daemon_that_cannot_mount_or_run_from_the_mount_gets_uploads() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("prog");
        std::fs::write(&bin, b"x").unwrap();
        let plan = plan_of(&bin);
        let delivery = Delivery::for_run("65532:65532", "unix:///x.sock");
        // Errors that say nothing of the mount change nothing.
        let logs = DockerError::Api {
            op: "logs",
            message: "gone".into(),
        };
        assert!(!delivery.fall_back_after(&logs));
        assert!(!delivery.fall_back_after_exit(1, b"", b"exec /libccheck/probe failed"));
        assert!(!delivery.fall_back_after_exit(126, b"LIBCCHECK-PROBE", b""));
        assert!(delivery.files_for(&plan).await.is_some());
        // tini could not start the probe from the mount (SELinux): upload from now on.
        let tini = b"[FATAL tini (7)] exec /libccheck/probe failed: Permission denied\n";
        let no_emulation = b"[FATAL tini (7)] exec /libccheck/probe failed: Exec format error\n";
        assert!(!delivery.fall_back_after_exit(127, b"", no_emulation));
        assert!(delivery.files_for(&plan).await.is_some());
        assert!(delivery.fall_back_after_exit(126, b"", tini));
        assert!(delivery.files_for(&plan).await.is_none());
        let delivery = Delivery::for_run("65532:65532", "unix:///x.sock");
        let refused = DockerError::Api {
            op: "container create",
            message: "invalid mount config for type \"bind\": bind source path does not exist"
                .into(),
        };
        assert!(delivery.fall_back_after(&refused));
        assert!(delivery.files_for(&plan).await.is_none());
        assert!(!Delivery::Upload.fall_back_after(&refused));
    }

    #[test]
    fn clean_removes_only_the_directories_of_runs_that_are_over() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = |name: &str| {
            let d = tmp.path().join(name);
            std::fs::create_dir_all(d.join("c0/app")).unwrap();
            d
        };
        // Over: a free lock, or no lock and no such process.
        let free = dir("libccheck-run-1-free");
        std::fs::write(free.join(LOCK_FILE), b"").unwrap();
        let dead = dir("libccheck-run-999999999-dead");
        // Live: a held lock (any pid, any namespace), or no lock yet and a live process.
        let held = dir("libccheck-run-999999998-held");
        let lock = std::fs::File::create(held.join(LOCK_FILE)).unwrap();
        lock.try_lock().unwrap();
        let young = dir(&format!("libccheck-run-{}-young", std::process::id()));
        // Not ours: other names, a symbolic link.
        let other = dir("libccheck-run-abc-x");
        let victim = dir("victim");
        std::os::unix::fs::symlink(&victim, tmp.path().join("libccheck-run-999999997-link"))
            .unwrap();
        assert_eq!(remove_stale_dirs(tmp.path()), 2);
        assert!(!free.exists() && !dead.exists());
        assert!(held.exists() && young.exists() && other.exists() && victim.join("c0").exists());
    }
}
