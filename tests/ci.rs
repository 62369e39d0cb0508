//! CI integration: libccheck.toml (precedence and every error), JUnit / SARIF / Markdown pinned by
//! snapshots and validated by real consumers, the fan-out/merge round trip, the job summary, and
//! the CI examples accepted by the real argument parser.

use std::path::Path;
use std::process::Command;

use clap::Parser;
use serde_json::Value;

use crate::util::*;

fn in_dir(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = libccheck().current_dir(dir).args(args).output().unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const CONFIG: &str = r#"# the release gate
bases = ["debian-11", "debian-12"]
require = ["debian-12"]
args = ["--version"]
timeout = 7
pull = "never"

[sandbox]
memory = 300
pids_limit = 64
"#;

#[test]
fn config_file_and_command_line_precedence() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("libccheck.toml"), CONFIG).unwrap();
    let hello = fixture("hello");
    let h = hello.to_str().unwrap();
    // The file alone: its bases, its required base (debian-11 fails but is optional), its settings.
    let (code, out, err) = in_dir(d.path(), &["--offline", "--format", "json", h]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v["bases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["base"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["debian-11", "debian-12"]);
    assert_eq!(v["bases"][0]["required"], false);
    assert_eq!(v["exec_args"], serde_json::json!(["--version"]));
    let s = &v["settings"];
    assert_eq!(
        (
            s["config_file"].as_str(),
            s["timeout_secs"].as_u64(),
            s["pull"].as_str()
        ),
        (Some("libccheck.toml"), Some(7), Some("never"))
    );
    assert_eq!(
        (
            s["memory_mib"].as_i64(),
            s["pids_limit"].as_i64(),
            s["output_limit"].as_u64()
        ),
        (Some(300), Some(64), Some(65536))
    );
    // Flags win over the file, one by one.
    let (code, out, _) = in_dir(
        d.path(),
        &[
            "--offline",
            "--format",
            "json",
            "-b",
            "alpine-3.22,debian-12",
            "--require",
            "alpine-3.22",
            "--timeout",
            "9",
            "--memory",
            "100",
            "--pull",
            "always",
            h,
            "--",
            "-x",
        ],
    );
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v["bases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["base"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpine-3.22", "debian-12"]);
    assert_eq!(
        v["summary"]["required_failing"],
        serde_json::json!(["alpine-3.22"])
    );
    assert_eq!(v["exec_args"], serde_json::json!(["-x"]));
    let s = &v["settings"];
    assert_eq!(
        (
            s["timeout_secs"].as_u64(),
            s["memory_mib"].as_i64(),
            s["pids_limit"].as_i64(),
            s["pull"].as_str()
        ),
        (Some(9), Some(100), Some(64), Some("always"))
    );
    // --config names another file; without any file the defaults apply.
    let other = d.path().join("other.toml");
    std::fs::write(&other, "bases = [\"ubuntu-24.04\"]\n").unwrap();
    let (_, out, _) = in_dir(
        d.path(),
        &[
            "--offline",
            "--format",
            "json",
            "--config",
            other.to_str().unwrap(),
            h,
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["bases"][0]["base"], "ubuntu-24.04");
    assert_eq!(v["settings"]["timeout_secs"], 30);
    let empty = tempfile::tempdir().unwrap();
    let (_, out, _) = in_dir(empty.path(), &["--offline", "--format", "json", h]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["bases"].as_array().unwrap().len(), 5);
    assert!(v["settings"]["config_file"].is_null());
    // The matrix for a CI fan-out comes from the same file.
    let (code, out, _) = in_dir(d.path(), &["bases", "--matrix"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "{\"base\":[\"debian-11\",\"debian-12\"]}\n")
    );
}

#[test]
fn config_errors_are_one_line_with_key_and_line() {
    let d = tempfile::tempdir().unwrap();
    let h = fixture("hello");
    let cases = [
        (
            "timeout = 10\nbasez = [\"alpine\"]\n",
            "libccheck.toml:2: basez: unknown field `basez`, expected one of",
        ),
        (
            "timeout = \"30\"\n",
            "libccheck.toml:1: timeout: invalid type: string \"30\", expected u64",
        ),
        (
            "[sandbox]\nmemory = \"lots\"\n",
            "libccheck.toml:2: memory: invalid type: string \"lots\", expected u64",
        ),
        (
            "pull = \"sometimes\"\n",
            "libccheck.toml:1: pull: unknown variant `sometimes`",
        ),
        (
            "timeout = 0\n",
            "libccheck.toml: timeout: must be between 1 and 3600 seconds",
        ),
        (
            "bases = [\"not a base\"]\n",
            "libccheck.toml: bases: unknown base \"not a base\"",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(d.path().join("libccheck.toml"), text).unwrap();
        let (code, _, err) = in_dir(d.path(), &["--offline", h.to_str().unwrap()]);
        assert_eq!(code, 2, "{text}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("libccheck: error: {want}")),
            "{text:?} gave {err}"
        );
    }
    let (code, _, err) = in_dir(
        d.path(),
        &["--offline", "--config", "nope.toml", h.to_str().unwrap()],
    );
    assert_eq!(
        (code, err.trim()),
        (2, "libccheck: error: nope.toml: no such file or directory")
    );
}

#[test]
fn job_summary_gets_the_markdown_unless_disabled() {
    let d = tempfile::tempdir().unwrap();
    let summary = d.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let h = fixture("hello");
    let o = libccheck()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--offline", "-b", "debian-12", h.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("# earlier step\n### libccheck: `"),
        "{text}"
    );
    assert!(
        text.contains("| debian-12 | `debian:12-slim` | glibc 2.36 | ok | ✅ predicted ok |"),
        "{text}"
    );
    let before = text.len();
    libccheck()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "--offline",
            "--no-step-summary",
            "-b",
            "debian-12",
            h.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(std::fs::read_to_string(&summary).unwrap().len(), before);
}

/// Every `libccheck` invocation in the CI examples must be accepted by the real parser.
#[test]
fn ci_examples_use_valid_invocations() {
    /// The shell commands: the values of `run:` (GitHub) and `script:` (GitLab) keys.
    fn strings(v: &serde_yaml::Value, in_command: bool, out: &mut Vec<String>) {
        match v {
            serde_yaml::Value::String(s) if in_command => out.push(s.clone()),
            serde_yaml::Value::Sequence(xs) => xs.iter().for_each(|x| strings(x, in_command, out)),
            serde_yaml::Value::Mapping(m) => m.iter().for_each(|(k, x)| {
                let cmd = matches!(k.as_str(), Some("run" | "script"));
                strings(x, cmd, out)
            }),
            serde_yaml::Value::Tagged(t) => strings(&t.value, in_command, out),
            _ => {}
        }
    }
    let mut checked = 0;
    for file in ["examples/github-actions.yml", "examples/gitlab-ci.yml"] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut all = Vec::new();
        strings(&doc, false, &mut all);
        for s in all {
            for line in s.lines() {
                // Command substitutions first: `$(libccheck bases --matrix)`.
                let cmds: Vec<String> = match line.find("$(") {
                    Some(i) => vec![line[i + 2..].split(')').next().unwrap_or("").to_string()],
                    None => vec![line.to_string()],
                };
                for cmd in cmds {
                    let cmd = without_expressions(cmd.split(['>', '|']).next().unwrap())
                        .replace("\"$BASE\"", "alpine")
                        .replace("$BASE", "alpine");
                    let words: Vec<String> = cmd
                        .split_whitespace()
                        .map(|w| w.trim_matches('"').to_string())
                        .collect();
                    let Some(first) = words.first() else { continue };
                    if first.rsplit('/').next() != Some("libccheck") {
                        continue;
                    }
                    let mut argv = vec!["libccheck".to_string()];
                    argv.extend(words[1..].iter().cloned());
                    for argv in pending_report_flag(argv) {
                        if let Err(e) = libccheck::cli::Cli::try_parse_from(&argv) {
                            panic!("{file}: `{cmd}` is rejected by libccheck's parser:\n{e}");
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    // bases --matrix, the check and merge on GitHub; the check and merge on GitLab.
    assert_eq!(checked, 5, "invocations found");
}

/// GitHub's `${{ … }}` expressions replaced by a plain word (they name bases and file names).
fn without_expressions(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        out.push_str("alpine");
        rest = rest[i..].split_once("}}").map_or("", |(_, after)| after);
    }
    out + rest
}

/// The examples write every report from one run with `--report FORMAT=PATH`. Until the parser
/// knows that flag (it is being added in parallel), each `--report FORMAT=PATH` is checked as the
/// run it replaces, `--format FORMAT`; once it parses, the command is checked as written.
fn pending_report_flag(argv: Vec<String>) -> Vec<Vec<String>> {
    let known = ["libccheck", "--report", "json=r.json", "app"];
    if libccheck::cli::Cli::try_parse_from(known).is_ok() || !argv.iter().any(|a| a == "--report") {
        return vec![argv];
    }
    let mut plain = Vec::new();
    let mut formats = Vec::new();
    let mut words = argv.into_iter();
    while let Some(w) = words.next() {
        if w == "--report" {
            let spec = words.next().expect("--report takes FORMAT=PATH");
            let (format, path) = spec.split_once('=').expect("--report FORMAT=PATH");
            assert!(!path.is_empty(), "--report {spec}: no path");
            formats.push(format.to_string());
        } else {
            plain.push(w);
        }
    }
    formats
        .into_iter()
        .map(|f| {
            let mut a = plain.clone();
            a.splice(1..1, ["--format".to_string(), f]);
            a
        })
        .collect()
}

/// The workflow against GitHub's published workflow schema (check-jsonschema's built-in copy,
/// PyPI), and a broken copy rejected, so the check is known to bite. actionlint too where it is
/// installed (no registry reachable here ships it: its PyPI wrapper downloads from GitHub).
#[test]
fn github_workflow_matches_the_actions_schema() {
    let workflow = root().join("examples/github-actions.yml");
    let validate = |path: &Path| {
        Command::new("check-jsonschema")
            .args(["--builtin-schema", "github-workflows"])
            .arg(path)
            .output()
            .expect("check-jsonschema (PyPI; .ci/run installs it)")
    };
    let o = validate(&workflow);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let text = std::fs::read_to_string(&workflow).unwrap();
    assert!(text.contains("security-events: write"));
    let d = tempfile::tempdir().unwrap();
    let broken = d.path().join("broken.yml");
    std::fs::write(&broken, text.replace("runs-on:", "runs_on:")).unwrap();
    assert!(!validate(&broken).status.success());
    let gitlab = Command::new("check-jsonschema")
        .args(["--builtin-schema", "gitlab-ci"])
        .arg(root().join("examples/gitlab-ci.yml"))
        .output()
        .unwrap();
    assert!(
        gitlab.status.success(),
        "{}",
        String::from_utf8_lossy(&gitlab.stdout)
    );
    if let Ok(o) = Command::new("actionlint").arg(&workflow).output() {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
}

/// Artifact names and SARIF categories come from a sanitized slug of the base (an image reference
/// has `/` and `:`), libccheck is built once, and the GitLab job's image can run what it is given.
#[test]
fn ci_examples_share_one_libccheck_and_sanitize_names() {
    let gh = std::fs::read_to_string(root().join("examples/github-actions.yml")).unwrap();
    assert_eq!(gh.matches("cargo install").count(), 1, "{gh}");
    for line in gh
        .lines()
        .filter(|l| l.contains("name: libccheck-") || l.contains("category:"))
    {
        assert!(!line.contains("matrix.base"), "unsanitized: {line}");
    }
    let gl = std::fs::read_to_string(root().join("examples/gitlab-ci.yml")).unwrap();
    assert_eq!(gl.matches("cargo install").count(), 1, "{gl}");
    assert!(
        gl.contains("+crt-static"),
        "docker:27 is Alpine: a static libccheck"
    );
    assert!(gl.contains("DOCKER_TLS_CERTDIR"));
    let runs: usize = [&gh, &gl]
        .iter()
        .map(|t| t.lines().filter(|l| l.contains("libccheck --base")).count())
        .sum();
    assert_eq!(runs, 2, "one libccheck run per job");
}

/// Replace what changes from run to run: timings, ids, the checkout's path, and the images'
/// sizes (the fixture images are rebuilt from Debian's current packages).
fn normalize(v: &mut Value) {
    let fx = fixtures().display().to_string();
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match k.as_str() {
                    "ms" => *x = Value::from(0),
                    "image_id" if !x.is_null() => *x = Value::from("<image-id>"),
                    "run_id" => *x = Value::from("<run>"),
                    "size" if x.is_object() => x["bytes"] = Value::from(12_345_678),
                    _ => normalize(x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalize),
        Value::String(s) => *s = s.replace(&fx, "<fixtures>"),
        _ => {}
    }
}

fn three_bases() -> [&'static str; 3] {
    [image("musl"), image("bookworm"), image("distroless-base")]
}

fn run_json(bases: &[&str], bin: &str) -> Value {
    let (_, v) = json(&["--format", "json", "-b", &bases.join(","), bin]);
    v
}

#[test]
fn reports_pinned_and_validated_by_their_consumers() {
    if !docker() {
        return;
    }
    let bin = fixture("hello-cxx");
    let mut v = run_json(&three_bases(), bin.to_str().unwrap());
    normalize(&mut v);
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("report.json");
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    let render = |format: &str| {
        let o = run(&[
            "merge",
            "--no-step-summary",
            "--format",
            format,
            path.to_str().unwrap(),
        ]);
        assert_eq!(o.code, 1, "{}", o.stderr);
        o.stdout
    };
    let junit = render("junit");
    let sarif = render("sarif");
    let markdown = render("markdown");
    insta::assert_snapshot!("junit", junit);
    insta::assert_snapshot!("sarif", sarif);
    insta::assert_snapshot!("markdown", markdown);

    // JUnit through junitparser (PyPI), the parser CI systems' plugins use.
    let junit_file = d.path().join("junit.xml");
    std::fs::write(&junit_file, &junit).unwrap();
    let py = "import sys\nfrom junitparser import JUnitXml, Failure\nx = JUnitXml.fromfile(sys.argv[1])\nfor suite in x:\n    for case in suite:\n        r = [e for e in case.result if isinstance(e, Failure)]\n        print(case.name, '|', r[0].type if r else 'pass', '|', r[0].message if r else '')\n";
    let o = Command::new("python3")
        .args(["-c", py])
        .arg(&junit_file)
        .output()
        .expect("python3");
    assert!(
        o.status.success(),
        "junitparser: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[2],
        format!(
            "{} | missing_library | libraries not found: libstdc++.so.6, libgcc_s.so.1",
            image("distroless-base")
        )
    );

    // SARIF against the SARIF 2.1.0 JSON schema (shipped in the serde-sarif crate), and read back
    // by serde-sarif's typed model.
    let sarif_file = d.path().join("out.sarif");
    std::fs::write(&sarif_file, &sarif).unwrap();
    assert_eq!(sarif_results(&sarif_file), 2);
    let typed: serde_sarif::sarif::Sarif =
        serde_json::from_str(&sarif).expect("serde-sarif reads it");
    assert_eq!(typed.runs[0].results.as_ref().unwrap().len(), 2);
}

#[test]
fn fan_out_and_merge_equals_one_run() {
    if !docker() {
        return;
    }
    let bin = fixture("hello-cxx");
    let b = bin.to_str().unwrap();
    let mut whole = run_json(&three_bases(), b);
    let d = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, base) in three_bases().iter().enumerate() {
        let v = run_json(&[base], b);
        let f = d.path().join(format!("report-{i}.json"));
        std::fs::write(&f, serde_json::to_string(&v).unwrap()).unwrap();
        files.push(f.to_string_lossy().into_owned());
    }
    let mut args = vec!["merge", "--no-step-summary", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let o = run(&args);
    assert_eq!(
        o.code,
        whole["exit_code"].as_i64().unwrap() as i32,
        "{}",
        o.stderr
    );
    let mut merged: Value = serde_json::from_str(&o.stdout).unwrap();
    normalize(&mut whole);
    normalize(&mut merged);
    // Settings name the bases' own job count; everything else must be equal.
    whole["settings"]["jobs"] = Value::Null;
    merged["settings"]["jobs"] = Value::Null;
    assert_eq!(merged, whole);
    // Reports of different binaries do not merge.
    let other = run_json(&[image("musl")], fixture("hello").to_str().unwrap());
    let f = d.path().join("other.json");
    std::fs::write(&f, serde_json::to_string(&other).unwrap()).unwrap();
    let o = run(&["merge", &files[0], f.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("a report about"), "{}", o.stderr);
}
