//! `--offline`: predictions from the built-in catalog, no Docker. Its Debian, distroless and
//! Alpine entries must say what the fixture bases really do (fixtures/expected.tsv).

use crate::util::*;

/// Fixture base (column of expected.tsv) → the catalog entry that describes the same thing.
const CATALOG_FOR: [(&str, &str); 10] = [
    ("musl", "alpine-3.22"),
    ("bullseye", "debian-11"),
    ("bookworm", "debian-12"),
    ("trixie", "debian-13"),
    ("distroless-static", "distroless-static-debian12"),
    ("distroless-base", "distroless-base-debian12"),
    ("distroless-cc", "distroless-cc-debian12"),
    ("distroless-static-trixie", "distroless-static-debian13"),
    ("distroless-base-trixie", "distroless-base-debian13"),
    ("distroless-cc-trixie", "distroless-cc-debian13"),
];

/// Every load cell of `platform`'s block of expected.tsv, predicted offline from the catalog
/// entry `catalog_for` pairs with its fixture base (`bases` names the block's columns), with no
/// daemon reachable: how many cells, and those where the catalog says otherwise.
fn catalog_disagreements(
    platform: &str,
    programs: &std::path::Path,
    bases: &[(&str, &str)],
    catalog_for: &[(&str, &str)],
) -> (usize, Vec<String>) {
    let entries: Vec<&str> = catalog_for.iter().map(|(_, c)| *c).collect();
    let (mut cells, mut errs) = (0, Vec::new());
    for line in expected_lines(platform) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f[1] != "load" {
            continue;
        }
        let bin = programs.join(f[0]);
        // No daemon is needed: point DOCKER_HOST nowhere.
        let o = libccheck()
            .env("DOCKER_HOST", "unix:///nonexistent.sock")
            .args(["--offline", "--format", "json", "-b", &entries.join(",")])
            .arg(&bin)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
        for (i, (short, entry)) in catalog_for.iter().enumerate() {
            let col = bases.iter().position(|(s, _)| s == short).unwrap();
            let want = f[2 + col].split(':').next().unwrap();
            let b = &v["bases"][i];
            assert_eq!(b["base"], *entry);
            cells += 1;
            if b["verdict"] != want {
                errs.push(format!(
                    "{} on {entry} ({platform}): catalog predicts {}, {short} really gives {want} ({})",
                    f[0], b["verdict"], b["reason"]
                ));
            }
        }
    }
    (cells, errs)
}

#[test]
fn offline_predictions_match_the_fixture_bases() {
    let (cells, errs) = catalog_disagreements("linux/amd64", fixtures(), &BASES, &CATALOG_FOR);
    assert!(cells >= 100, "{cells}");
    assert!(
        errs.is_empty(),
        "{} of {cells} cells differ:\n{}",
        errs.len(),
        errs.join("\n")
    );
}

#[test]
fn offline_knows_the_public_bases_and_refuses_others() {
    let hello = fixture("hello");
    let (code, v) = json(&[
        "--offline",
        "--format",
        "json",
        "-b",
        "ubuntu-20.04,ubuntu-22.04,ubi-8,ubi-9,alpine-3.18",
        hello.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let verdicts: Vec<&str> = v["bases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        [
            "missing_version",
            "ok",
            "missing_version",
            "ok",
            "no_interpreter"
        ]
    );
    assert_eq!(v["bases"][4]["prediction"]["musl_compat"]["runs"], true);
    // The default matrix works offline through the aliases.
    let (code, v) = json(&[
        "--offline",
        "--format",
        "json",
        fixture("hello-static").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["bases"].as_array().unwrap().len(), 5);
    assert_eq!(v["bases"][0]["image"], "alpine:3.22");
    let o = run(&[
        "--offline",
        "-b",
        "libccheck-fixture/musl",
        hello.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2);
    assert!(
        o.stdout.contains("not in the offline catalog"),
        "{}",
        o.stdout
    );
}

#[test]
fn inspect_ends_with_the_catalog_summary() {
    let o = run(&["inspect", fixture("newer-glibc").to_str().unwrap()]);
    let last = o.stdout.lines().rfind(|l| !l.is_empty()).unwrap();
    assert!(last.starts_with("  catalog:   loads on debian-13, distroless-base-debian13, distroless-cc-debian13, ubuntu-24.04;"), "{last}");
    assert!(last.contains("not on debian-12, distroless-base-debian12, distroless-cc-debian12, ubi-9, ubuntu-22.04 (GLIBC_2.38 not found in libc.so.6)"), "{last}");
    assert!(
        last.contains("alpine-3.18…3.22 (no glibc loader; runs with gcompat)"),
        "{last}"
    );
    let (_, v) = json(&[
        "inspect",
        "--format",
        "json",
        fixture("glibc-only").to_str().unwrap(),
    ]);
    let fails = v["files"][0]["catalog"]["fails"].as_array().unwrap();
    let alpine = fails
        .iter()
        .find(|f| f["bases"][0] == "alpine-3.18")
        .unwrap();
    assert!(
        alpine["reason"]
            .as_str()
            .unwrap()
            .contains("needs glibc: `__snprintf_chk`"),
        "{alpine}"
    );
}

#[test]
fn bases_lists_aliases_and_catalog() {
    let o = run(&["bases"]);
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.contains("alpine             alpine:3.22"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("ubuntu-22.04"), "{}", o.stdout);
    assert!(
        o.stdout.contains(
            "    provides: thread stacks 128 KiB, CA bundle, nsswitch.conf, /bin/sh, /tmp 1777, users root, nobody(65534); no tzdata, no /etc/localtime\n"
        ),
        "{}",
        o.stdout
    );
    let (_, v) = json(&["bases", "--format", "json"]);
    assert_eq!(v["schema"], "libccheck/bases/v1");
    assert!(v["catalog"].as_array().unwrap().len() >= 19);
    assert!(
        v["catalog"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !e["source"].as_str().unwrap().is_empty())
    );
    let cc = v["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "distroless-cc-debian13")
        .unwrap();
    assert_eq!(
        cc["runtime"]["ca_bundle"],
        "/etc/ssl/certs/ca-certificates.crt"
    );
    assert_eq!(cc["runtime"]["tmp_mode"], 0o1777);
}

/// arm64 fixture base (column of expected.tsv's arm64 block) → the arm64 catalog entry.
const ARM64_CATALOG_FOR: [(&str, &str); 6] = [
    ("musl", "alpine-3.22"),
    ("bookworm", "debian-12"),
    ("trixie", "debian-13"),
    ("distroless-static", "distroless-static-debian13"),
    ("distroless-base", "distroless-base-debian13"),
    ("distroless-cc", "distroless-cc-debian13"),
];

/// The arm64 catalog (catalog/catalog-arm64.json) says what the arm64 fixture bases really do:
/// every load cell of expected.tsv's arm64 block, offline, for the aarch64 programs (their own
/// platform, so no --platform), and the default matrix through the aliases.
#[test]
fn offline_arm64_predictions_match_the_arm64_fixture_bases() {
    let (_, errs) = catalog_disagreements(
        "linux/arm64",
        fixtures_arm64(),
        &ARM64_BASES,
        &ARM64_CATALOG_FOR,
    );
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    let (code, v) = json(&[
        "--offline",
        "--format",
        "json",
        fixtures_arm64().join("hello-a64").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{v}");
    let verdicts: Vec<&str> = v["bases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["no_interpreter", "ok", "no_interpreter", "ok", "ok"]
    );
    // An x86-64 program on the arm64 entries: the wrong architecture.
    let (_, v) = json(&[
        "--offline",
        "--platform",
        "linux/arm64",
        "--format",
        "json",
        "-b",
        "debian-slim",
        fixture("hello").to_str().unwrap(),
    ]);
    assert_eq!(v["bases"][0]["verdict"], "wrong_arch", "{v}");
    // No 386 entries.
    let o = run(&[
        "--offline",
        "--platform",
        "linux/386",
        fixture("hello").to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("the offline catalog has no linux/386 entries"),
        "{}",
        o.stderr
    );
}
