//! x86-64 ISA levels (issue 20): the level a program's GNU property note asks for is a risk in
//! every prediction (the CPU that will run it is unknown), and a verdict where the run's CPU is
//! known. The runs are asserted against this machine's own `/proc/cpuinfo`, read here.

use serde_json::Value;

use crate::util::*;

/// The flags glibc requires for each level (sysdeps/x86/get-isa-level.h), in /proc/cpuinfo's
/// names; each level needs those below it.
const LEVELS: [(&str, &[&str]); 3] = [
    (
        "x86-64-v2",
        &[
            "cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2",
        ],
    ),
    (
        "x86-64-v3",
        &["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"],
    ),
    (
        "x86-64-v4",
        &["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"],
    ),
];

/// Does this machine's CPU have `level`? (The Docker daemon runs here: its containers see it.)
fn this_cpu_has(level: &str) -> bool {
    let info = std::fs::read_to_string("/proc/cpuinfo").expect("read /proc/cpuinfo");
    let flags: Vec<&str> = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .expect("a flags line")
        .split_whitespace()
        .collect();
    for (name, needs) in LEVELS {
        if !needs.iter().all(|f| flags.contains(f)) {
            return false;
        }
        if name == level {
            return true;
        }
    }
    unreachable!("unknown level {level}")
}

fn cpu_risk(base: &Value) -> &Value {
    base["prediction"]["risks"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["kind"] == "cpu_level"))
        .unwrap_or_else(|| panic!("no cpu_level risk: {base}"))
}

/// A check with these arguments, as JSON.
fn checked(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend(args);
    json(&all)
}

#[test]
fn a_level_above_the_baseline_is_a_risk_in_every_prediction() {
    // Offline: no Docker, no CPU known.
    let v3 = fixture("hello-x86-64-v3");
    let (code, v) = checked(&["--offline", "-b", "debian-slim", v3.to_str().unwrap()]);
    assert_eq!(code, 0, "a risk is not a failure: {v}");
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "ok");
    let r = cpu_risk(b);
    assert_eq!(r["severity"], "warning");
    let fact = r["base_fact"].as_str().unwrap();
    assert!(
        fact.starts_with("needs x86-64-v3: CPUs before Haswell (2013)"),
        "{fact}"
    );
    assert!(
        fact.contains("CPU ISA level is lower than required"),
        "{fact}"
    );
    assert!(
        r["evidence"]
            .as_str()
            .unwrap()
            .contains("x86-64-baseline, x86-64-v3"),
        "{r}"
    );
    assert!(
        r["fix"].as_str().unwrap().contains("-Wl,-z,x86-64-v3"),
        "{r}"
    );

    // The CPU decides it, not the base: it does not keep a base from being recommended.
    let (_, v) = checked(&[
        "--offline",
        "-b",
        "debian-slim,distroless-base",
        v3.to_str().unwrap(),
    ]);
    assert_eq!(v["summary"]["smallest"]["base"], "distroless-base", "{v}");

    // musl's loader ignores the note: the program starts, and dies of SIGILL where the CPU
    // lacks an instruction it runs.
    let musl = fixture("hello-isa-beyond-musl");
    let (_, v) = checked(&["--offline", "-b", "alpine", musl.to_str().unwrap()]);
    let fact = cpu_risk(&v["bases"][0])["base_fact"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(fact.contains("musl's loader ignores the note"), "{fact}");

    // A baseline program carries none.
    let hello = fixture("hello");
    let (_, v) = checked(&["--offline", "-b", "debian-slim", hello.to_str().unwrap()]);
    assert!(
        v["bases"][0]["prediction"]["risks"]
            .as_array()
            .is_none_or(|rs| rs.iter().all(|r| r["kind"] != "cpu_level"))
    );
}

#[test]
fn the_run_decides_by_this_cpus_flags() {
    if !docker() {
        return;
    }
    for (binary, level) in [
        ("hello-x86-64-v3", "x86-64-v3"),
        ("hello-x86-64-v4", "x86-64-v4"),
    ] {
        let bin = fixture(binary);
        let (code, v) = checked(&["-b", image("bookworm"), bin.to_str().unwrap(), "--exec"]);
        let b = &v["bases"][0];
        let has = this_cpu_has(level);
        let cpu = b["cpu_level"]
            .as_str()
            .unwrap_or_else(|| panic!("no cpu_level: {b}"));
        assert!(this_cpu_has(cpu), "{binary}: the run's CPU level {cpu}");
        if has {
            assert_eq!(
                (code, &b["verdict"]),
                (0, &Value::from("ok")),
                "{binary}: {b}"
            );
            let fact = cpu_risk(b)["base_fact"].as_str().unwrap();
            assert!(fact.contains("has it"), "{fact}");
        } else {
            assert_eq!(code, 1, "{binary}: {b}");
            assert_eq!(b["verdict"], "cpu_unsupported", "{binary}: {b}");
            assert_eq!(b["exec"]["verdict"], "cpu_unsupported", "{binary}: {b}");
            assert_eq!(
                b["prediction"]["verdict"], "cpu_unsupported",
                "{binary}: {b}"
            );
        }
        assert_eq!(b["agree"], true, "{binary}: {b}");
    }
}

#[test]
fn a_level_no_cpu_has_is_refused_by_glibc_and_ignored_by_musl() {
    if !docker() {
        return;
    }
    // Without the exec probe: glibc's trace mode loads it, the CPU's flags and glibc's rule decide.
    let bin = fixture("hello-isa-beyond");
    let (code, v) = checked(&["-b", image("bookworm"), bin.to_str().unwrap()]);
    let b = &v["bases"][0];
    assert_eq!(code, 1);
    assert_eq!(b["load"]["verdict"], "ok", "{b}");
    assert_eq!(b["verdict"], "cpu_unsupported", "{b}");
    assert_eq!(b["agree"], true, "{b}");
    assert!(
        b["reason"]
            .as_str()
            .unwrap()
            .contains("trace mode does not check"),
        "{b}"
    );
    let p = &b["prediction"]["problems"][0];
    assert_eq!(p["kind"], "cpu_unsupported");
    assert_eq!(p["level"], "x86-64 ISA bit 0x10");

    assert_eq!(
        crate::schemas::invalid(std::slice::from_ref(&v)),
        Vec::<String>::new()
    );

    // Started: glibc's own message.
    let (_, v) = checked(&["-b", image("bookworm"), bin.to_str().unwrap(), "--exec"]);
    assert_eq!(
        crate::schemas::invalid(std::slice::from_ref(&v)),
        Vec::<String>::new()
    );
    let e = &v["bases"][0]["exec"];
    assert_eq!(e["verdict"], "cpu_unsupported", "{e}");
    assert_eq!(
        e["evidence"],
        "/libccheck/app/hello-isa-beyond: CPU ISA level is lower than required"
    );
    assert_eq!(e["exit_code"], 127);

    // musl's loader ignores the note: the same request runs, and the risk says this CPU lacks it.
    let musl = fixture("hello-isa-beyond-musl");
    let (code, v) = checked(&["-b", image("musl"), musl.to_str().unwrap(), "--exec"]);
    let b = &v["bases"][0];
    assert_eq!((code, &b["verdict"]), (0, &Value::from("ok")), "{b}");
    let fact = cpu_risk(b)["base_fact"].as_str().unwrap();
    assert!(fact.contains("musl's loader ignores the note"), "{fact}");
    assert!(fact.contains("lacks it: the program starts here"), "{fact}");
}

/// glibc before 2.33 ignores the note: bullseye (2.31) runs what bookworm refuses.
#[test]
fn glibc_before_the_check_runs_it() {
    if !docker() {
        return;
    }
    let bin = fixture("hello-isa-beyond-nocrt");
    let bases = format!("{},{}", image("bullseye"), image("bookworm"));
    let (code, v) = checked(&["-b", &bases, bin.to_str().unwrap(), "--exec"]);
    assert_eq!(code, 1, "{v}");
    let bullseye = &v["bases"][0];
    assert_eq!(bullseye["verdict"], "ok", "{bullseye}");
    assert_eq!(bullseye["exec"]["stdout"], "hello\n");
    let fact = cpu_risk(bullseye)["base_fact"].as_str().unwrap();
    assert!(
        fact.contains("glibc 2.31's loader predates the check (glibc 2.33) and ignores the note"),
        "{fact}"
    );
    assert!(fact.contains("lacks it: the program starts here"), "{fact}");
    assert_eq!(v["bases"][1]["verdict"], "cpu_unsupported");
    assert_eq!(v["bases"][1]["agree"], true);
}

/// glibc-hwcaps: the hwcaps fixture holds libgreet.so.1 and, under glibc-hwcaps/x86-64-v3, a copy
/// that greets differently. The prediction notes the copy; the run loads it where this CPU has
/// x86-64-v3 (glibc searches the subdirectory first), the plain one where it does not.
#[test]
fn a_glibc_hwcaps_copy_is_noted_and_loads_by_this_cpus_level() {
    if !docker() {
        return;
    }
    let st = std::process::Command::new(root().join("fixtures/build-hwcaps-image.sh"))
        .arg(fixtures())
        .status()
        .expect("run fixtures/build-hwcaps-image.sh");
    assert!(st.success(), "fixtures/build-hwcaps-image.sh failed");
    let bin = fixture("app-greet");
    let (code, v) = checked(&[
        "-b",
        "libccheck-fixture/hwcaps:bookworm",
        bin.to_str().unwrap(),
        "--exec",
    ]);
    let b = &v["bases"][0];
    assert_eq!(
        (code, &b["verdict"], &b["agree"]),
        (0, &Value::from("ok"), &Value::from(true)),
        "{b}"
    );
    let note = b["prediction"]["risks"]
        .as_array()
        .and_then(|rs| {
            rs.iter()
                .find(|r| r["kind"] == "cpu_level" && r["severity"] == "note")
        })
        .unwrap_or_else(|| panic!("no glibc-hwcaps note: {b}"));
    assert!(
        note["base_fact"].as_str().unwrap().contains(
            "on CPUs with x86-64-v3 glibc loads /usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libgreet.so.1 instead"
        ),
        "{note}"
    );
    // The prediction holds on every CPU with the plain library.
    assert_eq!(
        b["prediction"]["loaded"][0][1],
        "/usr/lib/x86_64-linux-gnu/libgreet.so.1"
    );
    let out = b["exec"]["stdout"].as_str().unwrap();
    if this_cpu_has("x86-64-v3") {
        assert_eq!(out, "greetings from the x86-64-v3 copy, system\n");
    } else {
        assert_eq!(out, "greetings, system\n");
    }
}
