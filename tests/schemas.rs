//! The JSON Schemas in schemas/: one per `"schema"` libccheck emits, and real output of each
//! command validated against its schema by Python's jsonschema (what a consumer would use).

use std::process::Command;

use serde_json::Value;

use crate::util::*;

/// Every `libccheck/<kind>/v1` string in the sources.
fn kinds_in_sources() -> Vec<String> {
    let mut kinds = Vec::new();
    for entry in walkdir::WalkDir::new(root().join("src")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for (i, _) in text.match_indices("\"libccheck/") {
            let rest = &text[i + 11..];
            if let Some(kind) = rest.split('"').next()
                && let Some(kind) = kind.strip_suffix("/v1")
                && !kind.contains('/')
            {
                kinds.push(kind.to_string());
            }
        }
    }
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Validate each document against schemas/<kind>.v1.json, by its own `schema` field. The error
/// messages of the documents that fail, one line each.
pub fn invalid(docs: &[Value]) -> Vec<String> {
    let d = tempfile::tempdir().unwrap();
    let mut args = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let kind = doc["schema"].as_str().expect("a schema field");
        let kind = kind
            .strip_prefix("libccheck/")
            .unwrap()
            .strip_suffix("/v1")
            .unwrap();
        let path = d.path().join(format!("{i}.json"));
        std::fs::write(&path, doc.to_string()).unwrap();
        args.push(root().join(format!("schemas/{kind}.v1.json")));
        args.push(path);
    }
    let py = "import json, sys, jsonschema\na = sys.argv[1:]\nfor s, d in zip(a[::2], a[1::2]):\n    schema = json.load(open(s))\n    jsonschema.Draft202012Validator.check_schema(schema)\n    for e in jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(d))):\n        print(s, list(e.absolute_path), e.message[:200])\n";
    let o = Command::new("python3")
        .args(["-c", py])
        .args(&args)
        .output()
        .expect("python3 with jsonschema (.ci/run installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect()
}

fn doc(args: &[&str]) -> Value {
    json(args).1
}

#[test]
fn every_schema_libccheck_emits_has_a_schema_file() {
    let kinds = kinds_in_sources();
    assert!(kinds.len() >= 6, "{kinds:?}");
    for kind in &kinds {
        let file = root().join(format!("schemas/{kind}.v1.json"));
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(
            schema["properties"]["schema"]["const"],
            format!("libccheck/{kind}/v1")
        );
    }
    let files = std::fs::read_dir(root().join("schemas")).unwrap().count();
    assert_eq!(
        files,
        kinds.len(),
        "a schema file for a schema nothing emits"
    );
}

/// Output that needs no Docker: an offline check and its merge, inspect, bases, a package.
#[test]
fn offline_output_matches_its_schemas() {
    let hello = fixture("hello");
    let h = hello.to_str().unwrap();
    let report = doc(&[
        "--offline",
        "--format",
        "json",
        "-b",
        "debian-12,alpine-3.22",
        h,
    ]);
    let d = tempfile::tempdir().unwrap();
    let saved = d.path().join("r.json");
    std::fs::write(&saved, report.to_string()).unwrap();
    let merged = doc(&[
        "merge",
        "--no-step-summary",
        "--format",
        "json",
        saved.to_str().unwrap(),
    ]);
    let inspect = doc(&[
        "inspect",
        "--format",
        "json",
        h,
        fixture("hello-cxx").to_str().unwrap(),
    ]);
    let bases = doc(&["bases", "--format", "json"]);
    let wheel = fixture("pkgdemo-1.0-cp311-cp311-manylinux_2_32_x86_64.whl");
    let package = doc(&[
        "--offline",
        "--format",
        "json",
        "-b",
        "debian-12",
        wheel.to_str().unwrap(),
    ]);
    let docs = [report, merged, inspect, bases, package];
    for d in &docs {
        assert_eq!(d["tool"]["name"], "libccheck");
        assert_eq!(d["tool"]["version"], env!("CARGO_PKG_VERSION"));
    }
    assert_eq!(invalid(&docs), Vec::<String>::new());

    // The schemas bite: no tool, an unknown file kind, a list as a string, a verdict outside
    // the vocabulary.
    let mut broken = docs.clone();
    broken[0].as_object_mut().unwrap().remove("tool");
    broken[2]["files"][0]["kind"] = Value::from("elf");
    broken[3]["default_matrix"] = Value::from("alpine");
    broken[4]["bases"][0]["verdict"] = Value::from("fine");
    let errors = invalid(&broken);
    assert_eq!(errors.len(), 4, "{errors:#?}");
}

/// Output of the Docker-backed commands: a verified check, an audit, an image.
#[test]
fn docker_output_matches_its_schemas() {
    if !docker() {
        return;
    }
    let hello = fixture("hello");
    let h = hello.to_str().unwrap();
    let bases = [image("musl"), image("bookworm")].join(",");
    let report = doc(&["--format", "json", "-b", &bases, h]);
    assert_eq!(report["mode"], "run");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&hello, dir.path().join("hello")).unwrap();
    let audit = doc(&[
        "audit",
        dir.path().to_str().unwrap(),
        "--to",
        &bases,
        "--format",
        "json",
    ]);
    let image_run = doc(&["image", "--format", "json", image("bookworm")]);
    // Predicted only, the image report says so as the check's does.
    let image_predicted = doc(&["image", "--no-run", "--format", "json", image("bookworm")]);
    assert_eq!(image_predicted["mode"], "no_run", "{image_predicted}");
    let docs = [report, audit, image_run, image_predicted];
    for d in &docs {
        assert_eq!(d["tool"]["version"], env!("CARGO_PKG_VERSION"), "{d}");
    }
    assert_eq!(invalid(&docs), Vec::<String>::new());
}
