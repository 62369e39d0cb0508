//! The fixture base images are what they claim: loader, libc version, shell or none, package
//! sets — read from each image itself (its exported filesystem, and libccheck's own probe).

use std::collections::HashMap;
use std::process::Command;

use crate::util::*;

/// Path → (is symlink, link target) for every entry of the image's filesystem.
fn files(image: &str) -> HashMap<String, Option<String>> {
    let out = Command::new("docker")
        .args(["create", image, "/none"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let tar = Command::new("docker")
        .args(["export", &id])
        .output()
        .unwrap();
    Command::new("docker").args(["rm", &id]).output().unwrap();
    let mut a = tar::Archive::new(&tar.stdout[..]);
    let mut m = HashMap::new();
    for e in a.entries().unwrap() {
        let e = e.unwrap();
        let p = e
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        let link = e
            .link_name()
            .unwrap()
            .map(|l| l.to_string_lossy().into_owned());
        m.insert(p, link);
    }
    m
}

fn has(f: &HashMap<String, Option<String>>, p: &str) -> bool {
    // Follow merged-/usr directory links (bin → usr/bin, lib → usr/lib).
    let mut p = p.to_string();
    for (from, to) in [
        ("bin/", "usr/bin/"),
        ("lib/", "usr/lib/"),
        ("lib64/", "usr/lib64/"),
        ("sbin/", "usr/sbin/"),
    ] {
        if p.starts_with(from)
            && f.get(from.trim_end_matches('/'))
                .is_some_and(|l| l.is_some())
        {
            p = format!("{to}{}", &p[from.len()..]);
        }
    }
    f.contains_key(&p)
}

fn libc_reported(short: &str) -> String {
    let (_, v) = json(&[
        "--format",
        "json",
        "-b",
        image(short),
        fixture("hello-static").to_str().unwrap(),
    ]);
    v["bases"][0]["libc"].as_str().unwrap().to_string()
}

#[test]
fn fixture_images_are_what_they_claim() {
    if !docker() {
        return;
    }
    let shells = ["bin/sh", "bin/bash", "bin/dash", "bin/busybox"];
    for (short, img) in BASES {
        let f = files(img);
        let label = Command::new("docker")
            .args([
                "image",
                "inspect",
                "-f",
                "{{ index .Config.Labels \"org.libccheck.fixture\" }}",
                img,
            ])
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&label.stdout).trim().is_empty(),
            "{img} has no org.libccheck.fixture label"
        );
        let glibc_libc = has(&f, "lib/x86_64-linux-gnu/libc.so.6");
        let glibc_loader = has(&f, "lib64/ld-linux-x86-64.so.2");
        let musl_loader = has(&f, "lib/ld-musl-x86_64.so.1");
        match short {
            "musl" => {
                assert!(
                    musl_loader && !glibc_libc && !glibc_loader,
                    "{img}: musl only"
                );
                assert_eq!(
                    f["lib/libc.musl-x86_64.so.1"].as_deref(),
                    Some("ld-musl-x86_64.so.1")
                );
                assert_eq!(f["bin/sh"].as_deref(), Some("busybox"));
                assert!(has(&f, "etc/passwd"));
                assert!(
                    !f.keys()
                        .any(|k| k.contains("libc.so.6") || k.contains("ld-linux")),
                    "{img}: glibc file present"
                );
                assert_eq!(libc_reported(short), "musl 1.2.5");
            }
            "bullseye" | "bookworm" | "trixie" => {
                assert!(glibc_libc && glibc_loader && !musl_loader, "{img}");
                assert!(
                    has(&f, "bin/sh") && has(&f, "usr/bin/apt-get"),
                    "{img}: a slim image keeps shell and apt"
                );
                assert!(
                    !f.keys().any(|k| k.starts_with("usr/share/doc/")
                        && f[k].is_none()
                        && !k.ends_with("doc")),
                    "{img}: docs left"
                );
                assert!(
                    !f.keys().any(|k| k.starts_with("var/lib/apt/lists/")
                        && k.len() > 18
                        && !k.ends_with("partial")),
                    "{img}: apt lists left"
                );
                let want = match short {
                    "bullseye" => "glibc 2.31",
                    "bookworm" => "glibc 2.36",
                    _ => "glibc 2.41",
                };
                assert_eq!(libc_reported(short), want);
            }
            _ => {
                for s in shells {
                    assert!(
                        !has(&f, s),
                        "{img}: distroless must have no shell, found {s}"
                    );
                }
                assert!(
                    !f.keys()
                        .any(|k| k.starts_with("usr/bin/") && f[k].is_none()),
                    "{img}: binaries in usr/bin"
                );
                assert!(
                    has(&f, "etc/passwd")
                        && has(&f, "etc/ssl/certs/ca-certificates.crt")
                        && has(&f, "usr/share/zoneinfo/UTC"),
                    "{img}"
                );
                let libstdcxx = has(&f, "usr/lib/x86_64-linux-gnu/libstdc++.so.6");
                let libssl = has(&f, "usr/lib/x86_64-linux-gnu/libssl.so.3");
                let want_glibc = if short.ends_with("trixie") {
                    "glibc 2.41"
                } else {
                    "glibc 2.36"
                };
                match short.trim_end_matches("-trixie") {
                    "distroless-static" => {
                        assert!(
                            !glibc_libc && !glibc_loader && !musl_loader && !libssl,
                            "{img}"
                        );
                        assert_eq!(libc_reported(short), "none");
                    }
                    "distroless-base" => {
                        assert!(glibc_libc && glibc_loader && libssl && !libstdcxx, "{img}");
                        assert!(
                            !has(&f, "lib/x86_64-linux-gnu/libgcc_s.so.1"),
                            "{img}: libgcc_s belongs to cc"
                        );
                        assert_eq!(libc_reported(short), want_glibc);
                    }
                    _ => {
                        assert!(
                            glibc_libc
                                && libssl
                                && libstdcxx
                                && has(&f, "usr/lib/x86_64-linux-gnu/libgomp.so.1"),
                            "{img}"
                        );
                        assert!(has(&f, "lib/x86_64-linux-gnu/libgcc_s.so.1"), "{img}");
                        assert_eq!(libc_reported(short), want_glibc);
                    }
                }
            }
        }
    }
}

#[test]
fn nonroot_user_exists_in_distroless() {
    if !docker() {
        return;
    }
    let out = Command::new("docker")
        .args(["create", image("distroless-base"), "/none"])
        .output()
        .unwrap();
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let o = Command::new("docker")
        .args(["cp", &format!("{id}:/etc/passwd"), "-"])
        .output()
        .unwrap();
    Command::new("docker").args(["rm", &id]).output().unwrap();
    let mut a = tar::Archive::new(&o.stdout[..]);
    let mut passwd = String::new();
    for e in a.entries().unwrap() {
        std::io::Read::read_to_string(&mut e.unwrap(), &mut passwd).unwrap();
    }
    assert!(passwd.contains("nonroot:x:65532:65532:"), "{passwd}");
    assert!(passwd.contains("root:x:0:0:"));
}

/// The Alpine stand-in has a working shell, as Alpine does (its busybox once was a 16-byte
/// initramfs hook picked by mistake, so /bin/sh existed but could not run).
#[test]
fn the_musl_base_has_a_working_shell() {
    if !docker() {
        return;
    }
    let o = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            image("musl"),
            "/bin/sh",
            "-c",
            "echo shell works",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "shell works\n", "{o:?}");
}

/// What each fixture base provides at run time, as libccheck reads it from the image's files
/// (`catalog-entry` prints a profile's facts): the facts the run-time risks are judged against.
#[test]
fn runtime_facts_of_the_fixture_bases() {
    if !docker() {
        return;
    }
    let variants = [
        ("musl:locked-tmp", "libccheck-fixture/musl:locked-tmp"),
        ("musl:no-tmp", "libccheck-fixture/musl:no-tmp"),
    ];
    for (short, img) in BASES.iter().chain(variants.iter()) {
        let (code, e) = json(&[
            "catalog-entry",
            "--image",
            img,
            "--name",
            short,
            "--public",
            "-",
            "--source",
            "test",
        ]);
        assert_eq!(code, 0, "{short}");
        let r = &e["runtime"];
        let uids: Vec<u64> = r["passwd"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[1].as_u64().unwrap())
            .collect();
        let distroless = short.starts_with("distroless");
        let slim = ["bullseye", "bookworm", "trixie"].contains(short);
        // Only the assembled distroless bases have a CA bundle; minbase and musl have none.
        let ca = distroless.then_some("/etc/ssl/certs/ca-certificates.crt");
        assert_eq!(r["ca_bundle"].as_str(), ca, "{short}");
        // tzdata: in Debian's minbase and the distroless package set, not on the musl base.
        let zones = r["zoneinfo"].as_u64().unwrap();
        assert_eq!(zones > 400, distroless || slim, "{short}: {zones} zones");
        // /etc/localtime, C.UTF-8, gconv and nsswitch.conf only where libc-bin/tzdata configured
        // them (debootstrap); the assembled images have no maintainer scripts run.
        assert_eq!(r["localtime"], slim, "{short}");
        assert_eq!(r["gconv"], slim, "{short}");
        assert_eq!(r["nsswitch"], slim, "{short}");
        assert_eq!(r["locale_archive"], false, "{short}");
        let locales = r["locales"].as_array().unwrap();
        match *short {
            "bullseye" => assert_eq!(locales, &["C.UTF-8"], "{short}"),
            "bookworm" | "trixie" => assert_eq!(locales, &["C.utf8"], "{short}"),
            _ => assert!(locales.is_empty(), "{short}"),
        }
        assert!(
            uids.contains(&0) && uids.contains(&65534),
            "{short}: {uids:?}"
        );
        assert_eq!(uids.contains(&65532), !slim, "{short}: {uids:?}");
        assert_eq!(r["passwd"]["malformed"], 0);
        let tmp = (r["tmp_mode"].as_u64(), r["tmp_owner"].as_u64());
        match *short {
            "musl:locked-tmp" => assert_eq!(tmp, (Some(0o700), Some(1))),
            "musl:no-tmp" => assert_eq!(tmp, (None, None)),
            _ => assert_eq!(tmp, (Some(0o1777), Some(0)), "{short}"),
        }
    }
}
