//! Who made a container, written on it as labels, so that `libccheck clean` can tell the
//! leftovers of a killed run from a run still going — on this machine or on another one sharing
//! the daemon. A hostname and a pid are not enough: hosts share names (CI runners, containers
//! from one image) and pids are reused.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::docker::{HOST_LABEL, PID_LABEL, RUN_LABEL};

/// This machine and boot (machine-id, boot id and hostname together).
pub const MACHINE_LABEL: &str = "org.libccheck.machine";
/// The creating process's start time (clock ticks since boot): a reused pid has another.
pub const START_LABEL: &str = "org.libccheck.pid-start";
/// Unix seconds until which the run may legitimately still be going (its own time limit).
pub const UNTIL_LABEL: &str = "org.libccheck.until";

/// The labels of a container made by this process for run `run_id`, which ends within `lifetime`.
pub fn labels(run_id: &str, lifetime: Duration) -> HashMap<String, String> {
    HashMap::from([
        (RUN_LABEL.to_string(), run_id.to_string()),
        (HOST_LABEL.to_string(), hostname()),
        (PID_LABEL.to_string(), std::process::id().to_string()),
        (MACHINE_LABEL.to_string(), machine()),
        (
            START_LABEL.to_string(),
            start_ticks(std::process::id()).unwrap_or_default(),
        ),
        (
            UNTIL_LABEL.to_string(),
            (now_secs() + lifetime.as_secs()).to_string(),
        ),
    ])
}

/// Is the run that made a container with these labels still going? `here` is this machine's
/// identity, `now` unix seconds, `started(pid)` the start time of a live process of this machine.
/// A run of this machine is live while its process is; a run of another machine (which cannot be
/// checked from here) until its own time limit has passed. Containers of older libccheck versions
/// (no machine label) are judged by hostname and pid, as those versions did.
pub fn is_live(
    labels: &HashMap<String, String>,
    here: &str,
    hostname: &str,
    now: u64,
    started: impl Fn(&str) -> Option<String>,
) -> bool {
    let get = |k: &str| labels.get(k).map(String::as_str);
    let Some(machine) = get(MACHINE_LABEL) else {
        return get(HOST_LABEL) == Some(hostname)
            && get(PID_LABEL).is_some_and(|pid| started(pid).is_some());
    };
    let within_limit = || {
        get(UNTIL_LABEL)
            .and_then(|u| u.parse::<u64>().ok())
            .is_some_and(|until| now < until)
    };
    match (machine == here, get(PID_LABEL), get(START_LABEL)) {
        (true, Some(pid), Some(start)) if !start.is_empty() => {
            started(pid).as_deref() == Some(start)
        }
        // Another machine's, or ours without a start time to check: until its own limit.
        _ => within_limit(),
    }
}

/// [`is_live`] for this machine and this moment.
pub fn is_live_now(labels: &HashMap<String, String>) -> bool {
    // The pid and its start time identify the process, whatever its binary is called.
    is_live(labels, &machine(), &hostname(), now_secs(), |pid| {
        start_ticks(pid.parse().ok()?)
    })
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// This machine and boot: machine-id (two hosts cloned from one image share it), the boot id
/// (changes on reboot, when every process is gone anyway) and the hostname (containers on one
/// kernel share the boot id).
fn machine() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{}/{}/{}",
        read("/etc/machine-id"),
        read("/proc/sys/kernel/random/boot_id"),
        hostname()
    )
}

/// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot.
fn start_ticks(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count after its last ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(19).map(str::to_string)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const HERE: &str = "m1/b1/ci";

    #[test]
    fn a_run_of_another_machine_with_the_same_hostname_is_live_until_its_limit() {
        let other = labels_of(&[
            (HOST_LABEL, "ci"),
            (PID_LABEL, "42"),
            (MACHINE_LABEL, "m2/b2/ci"),
            (START_LABEL, "100"),
            (UNTIL_LABEL, "1000"),
        ]);
        // Our pid 42 is another process: it does not make their run ours, or dead.
        let ours_42 = |pid: &str| (pid == "42").then(|| "555".to_string());
        assert!(is_live(&other, HERE, "ci", 999, ours_42));
        assert!(!is_live(&other, HERE, "ci", 1000, ours_42));
    }

    #[test]
    fn a_run_of_this_machine_is_live_while_its_process_is() {
        let mine = labels_of(&[
            (PID_LABEL, "42"),
            (MACHINE_LABEL, HERE),
            (START_LABEL, "100"),
            (UNTIL_LABEL, "1000"),
        ]);
        assert!(is_live(&mine, HERE, "ci", 10, |_| Some("100".into())));
        // Killed: gone, or its pid reused by a later process. Its time limit does not matter.
        assert!(!is_live(&mine, HERE, "ci", 10, |_| None));
        assert!(!is_live(&mine, HERE, "ci", 10, |_| Some("300".into())));
        // No start time recorded: live until its own limit.
        let mut unknown = mine.clone();
        unknown.insert(START_LABEL.into(), String::new());
        assert!(is_live(&unknown, HERE, "ci", 999, |_| None));
        assert!(!is_live(&unknown, HERE, "ci", 1000, |_| None));
    }

    #[test]
    fn containers_of_older_versions_are_judged_by_host_and_pid() {
        let old = labels_of(&[(HOST_LABEL, "ci"), (PID_LABEL, "42")]);
        assert!(is_live(&old, HERE, "ci", 10, |_| Some("1".into())));
        assert!(!is_live(&old, HERE, "other", 10, |_| Some("1".into())));
        assert!(!is_live(&old, HERE, "ci", 10, |_| None));
    }

    #[test]
    fn this_process_is_live_by_its_own_labels() {
        let l = labels(
            &format!("{}-1", std::process::id()),
            Duration::from_secs(60),
        );
        // The unit-test binary is not called libccheck, so check the pure rule with our start time.
        let start = start_ticks(std::process::id()).unwrap();
        assert!(is_live(&l, &machine(), &hostname(), now_secs(), |_| Some(
            start.clone()
        )));
        assert!(start.parse::<u64>().is_ok(), "{start}");
    }
}
