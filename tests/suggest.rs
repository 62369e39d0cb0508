//! Smaller bases: the checked bases ranked by image size and the smallest one where the program
//! works, from the local images' sizes (Docker's own figures) and, offline, from the catalog's.

use std::process::Command;

use libccheck::suggest::size_text;
use serde_json::Value;

use crate::util::*;

/// `docker image inspect`'s size of a local image: the figure libccheck must use.
fn docker_size(image: &str) -> u64 {
    let o = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Size}}", image])
        .output()
        .unwrap();
    assert!(o.status.success(), "docker image inspect {image}");
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

/// The bases of a C++ program's move to something smaller: slim, and the three distroless
/// stand-ins.
fn cxx_bases() -> Vec<&'static str> {
    [
        "bookworm",
        "distroless-cc",
        "distroless-base",
        "distroless-static",
    ]
    .iter()
    .map(|s| image(s))
    .collect()
}

fn field<'a>(v: &'a Value, base: &str) -> &'a Value {
    v["bases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["base"] == base)
        .unwrap_or_else(|| panic!("no base {base}"))
}

fn ranked_names(v: &Value) -> Vec<String> {
    v["summary"]["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["base"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_smallest_base_that_works_comes_from_the_local_images_sizes() {
    if !docker() {
        return;
    }
    let bases = cxx_bases();
    let cxx = fixture("hello-cxx");
    let (code, v) = json(&[
        "--suggest",
        "--format",
        "json",
        "-b",
        &bases.join(","),
        cxx.to_str().unwrap(),
        "--",
        "--version",
    ]);
    assert_eq!(code, 1);
    // Each base's size is Docker's figure for that image.
    for b in &bases {
        let size = &field(&v, b)["size"];
        assert_eq!(size["from"], "local", "{b}");
        assert_eq!(size["bytes"].as_u64(), Some(docker_size(b)), "{b}");
    }
    // The run decides where it works; the sizes decide which of those is the smallest.
    let works: Vec<&str> = bases
        .iter()
        .copied()
        .filter(|b| field(&v, b)["verdict"] == "ok")
        .collect();
    assert_eq!(works, [image("bookworm"), image("distroless-cc")]);
    let expected = *works.iter().min_by_key(|b| docker_size(b)).unwrap();
    assert_eq!(expected, image("distroless-cc"));
    let smallest = &v["summary"]["smallest"];
    assert_eq!(smallest["base"], expected);
    assert_eq!(smallest["works"], true);
    // The ranking lists every base by its size, smallest first, working or not.
    let mut by_size: Vec<&str> = bases.clone();
    by_size.sort_by_key(|b| docker_size(b));
    assert_eq!(ranked_names(&v), by_size);
    let ranking = v["summary"]["ranking"].as_array().unwrap();
    assert_eq!(
        ranking
            .iter()
            .map(|r| r["works"] == true)
            .collect::<Vec<_>>(),
        by_size
            .iter()
            .map(|b| works.contains(b))
            .collect::<Vec<_>>()
    );

    // The human report says it after the summary line, and --suggest lists the ranking.
    let o = run(&["--suggest", "-b", &bases.join(","), cxx.to_str().unwrap()]);
    let size = size_text(docker_size(expected));
    assert!(
        o.stdout.ends_with(&format!(
            "\nsmallest base that works: {expected} ({size})\n"
        )),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("\nbases by image size, smallest first:\n"),
        "{}",
        o.stdout
    );
    let (_, ranking) = o
        .stdout
        .split_once("\nbases by image size, smallest first:\n")
        .unwrap();
    let row = ranking
        .lines()
        .find(|l| l.contains(image("distroless-base")) && l.contains("missing_library"))
        .unwrap_or_else(|| panic!("no ranking row for distroless-base:\n{}", o.stdout));
    assert!(
        row.starts_with(&format!(
            "  {}",
            size_text(docker_size(image("distroless-base")))
        )),
        "{row}"
    );
    assert!(row.contains(" local "), "{row}");

    // Predicted only, the same answer; Markdown says it too.
    let o = run(&[
        "--no-run",
        "--format",
        "markdown",
        "-b",
        &bases.join(","),
        cxx.to_str().unwrap(),
    ]);
    assert!(
        o.stdout.contains(&format!(
            "\nSmallest base that works: {expected} ({size}).\n"
        )),
        "{}",
        o.stdout
    );
}

#[test]
fn a_base_where_a_warning_stands_is_not_the_smallest_that_works() {
    if !docker() {
        return;
    }
    // go-certs loads the system CA pool: musl and slim have no CA bundle.
    let go = fixture("go-certs");
    let bases = [image("musl"), image("bookworm")].join(",");
    let (_, v) = json(&[
        "--no-run",
        "--suggest",
        "--format",
        "json",
        "-b",
        &bases,
        go.to_str().unwrap(),
    ]);
    assert_eq!(v["summary"]["ok"], 2);
    assert!(v["summary"].get("smallest").is_none(), "{}", v["summary"]);
    for r in v["summary"]["ranking"].as_array().unwrap() {
        assert_eq!(
            (
                r["verdict"].as_str(),
                r["at_risk"].as_bool(),
                r["works"].as_bool()
            ),
            (Some("ok"), Some(true), Some(false)),
            "{r}"
        );
    }
    let o = run(&["--no-run", "--suggest", "-b", &bases, go.to_str().unwrap()]);
    assert!(
        o.stdout.contains("  ok, at risk (ca_bundle)\n"),
        "{}",
        o.stdout
    );
    assert!(
        !o.stdout.contains("smallest base that works"),
        "{}",
        o.stdout
    );
}

/// The catalog's size of an entry, as `libccheck bases --format json` shows it.
fn catalog_size(bases: &Value, entry: &str) -> u64 {
    bases["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == entry)
        .unwrap_or_else(|| panic!("no catalog entry {entry}"))["size"]
        .as_u64()
        .unwrap()
}

#[test]
fn offline_sizes_come_from_the_catalog() {
    let cxx = fixture("hello-cxx");
    let (_, catalog) = json(&["bases", "--format", "json"]);
    for e in catalog["catalog"].as_array().unwrap() {
        assert!(e["size"].as_u64().is_some_and(|s| s > 0), "{e}");
        assert!(!e["size_source"].as_str().unwrap().is_empty(), "{e}");
    }
    // No daemon: the default matrix, from the catalog.
    let offline = |extra: &[&str]| {
        let mut args = vec!["--offline", "--suggest"];
        args.extend_from_slice(extra);
        args.push(cxx.to_str().unwrap());
        libccheck()
            .env("DOCKER_HOST", "unix:///nonexistent.sock")
            .args(&args)
            .output()
            .unwrap()
    };
    let o = offline(&["--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // The default matrix's aliases and their catalog entries.
    let entry_of = |alias: &str| match alias {
        "alpine" => "alpine-3.22".to_string(),
        "debian-slim" => "debian-13".to_string(),
        distroless => format!("{distroless}-debian13"),
    };
    for b in v["bases"].as_array().unwrap() {
        let alias = b["base"].as_str().unwrap();
        assert_eq!(b["size"]["from"], "catalog", "{b}");
        assert_eq!(
            b["size"]["bytes"].as_u64(),
            Some(catalog_size(&catalog, &entry_of(alias))),
            "{alias}"
        );
    }
    // The C++ program works on slim and distroless-cc; the catalog's figures pick cc.
    let smallest = &v["summary"]["smallest"];
    assert_eq!(smallest["base"], "distroless-cc");
    assert_eq!(smallest["size"]["from"], "catalog");
    let sizes: Vec<u64> = v["summary"]["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["size"]["bytes"].as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
    assert_eq!(sizes.len(), 5);

    let o = offline(&[]);
    let text = String::from_utf8_lossy(&o.stdout);
    let cc = size_text(catalog_size(&catalog, "distroless-cc-debian13"));
    assert!(
        text.ends_with(&format!(
            "\nsmallest base that works: distroless-cc ({cc} per the catalog)\n"
        )),
        "{text}"
    );
    assert!(text.contains(" catalog  distroless-cc "), "{text}");

    // A merged report ranks its bases again when asked.
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("report.json");
    std::fs::write(&path, &offline(&["--format", "json"]).stdout).unwrap();
    let (_, merged) = json(&[
        "merge",
        "--no-step-summary",
        "--suggest",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]);
    assert_eq!(merged["summary"]["ranking"], v["summary"]["ranking"]);
    assert_eq!(merged["summary"]["smallest"], v["summary"]["smallest"]);
}

#[test]
fn one_base_is_no_choice_and_a_package_is_not_ranked() {
    let cxx = fixture("hello-cxx");
    let o = run(&["--offline", "-b", "distroless-cc", cxx.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stdout.contains("smallest base"), "{}", o.stdout);
    let o = run(&[
        "--offline",
        "--suggest",
        fixture("jnidemo.jar").to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("--suggest"), "{}", o.stderr);
}
