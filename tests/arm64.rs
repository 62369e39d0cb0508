//! Other platforms (issue 20): `--platform`, arm64 bases verified under emulation, and a program
//! of another architecture than its base's as the verdict `wrong_arch` (both ways), with what
//! this host does with it anyway. The arm64 fixture cells are in fixtures/expected.tsv (matrix.rs).

use serde_json::Value;

use crate::util::*;

fn arm64_image(short: &str) -> &'static str {
    ARM64_BASES.iter().find(|(s, _)| *s == short).unwrap().1
}

fn check(image: &str, binary: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--format", "json", "-b", image];
    args.extend(extra);
    args.push(binary.to_str().unwrap());
    json(&args)
}

fn hints(b: &Value) -> Vec<String> {
    b["prediction"]["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_x86_64_program_on_an_arm64_base_is_wrong_arch() {
    if !docker_arm64() {
        return;
    }
    let (code, v) = check(arm64_image("distroless-base"), &fixture("hello"), &[]);
    assert_eq!(code, 1, "an answer, not an error: {v}");
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "wrong_arch", "{v}");
    assert_eq!(b["prediction"]["verdict"], "wrong_arch");
    let reason = b["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("built for x86-64, another architecture than the base's (aarch64)"),
        "{reason}"
    );
    // This host is amd64: the program would start here, but not where the image is meant to run.
    assert!(
        reason.ends_with("; it still starts on this amd64 host, but not on a linux/arm64 host"),
        "{reason}"
    );
    assert_eq!(
        hints(b),
        [
            "build it for aarch64 (linux/arm64), the base's platform",
            "or use the base's linux/amd64 image (--platform linux/amd64; multi-platform images have one for each)"
        ]
    );
    assert!(containers_of_run(v["run_id"].as_str().unwrap()).is_empty());
}

#[test]
fn an_aarch64_program_on_an_amd64_base_is_wrong_arch_and_emulation_is_named() {
    if !docker_arm64() {
        return;
    }
    let program = fixtures_arm64().join("hello-a64");
    let (code, v) = check(image("bookworm"), &program, &[]);
    assert_eq!(code, 1, "{v}");
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "wrong_arch", "{v}");
    let reason = b["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("built for aarch64, another architecture than the base's (x86-64)"),
        "{reason}"
    );
    // .ci/run registers qemu-aarch64: the program would start on this host, emulated.
    assert!(
        reason.ends_with(
            "; it runs here only through emulation (qemu-aarch64 in this host's binfmt_misc), not on a linux/amd64 host"
        ),
        "{reason}"
    );
    assert_eq!(
        hints(b),
        [
            "build it for x86-64 (linux/amd64), the base's platform",
            "or use the base's linux/arm64 image (--platform linux/arm64; multi-platform images have one for each)"
        ]
    );
    // The same with the platform named: still a verdict about the program, not an error.
    let (code, v) = check(image("bookworm"), &program, &["--platform", "linux/amd64"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["bases"][0]["verdict"], "wrong_arch");
}

#[test]
fn an_image_of_another_platform_than_asked_for_is_an_error_naming_both() {
    if !docker_arm64() {
        return;
    }
    let program = fixtures_arm64().join("hello-static-a64");
    let args = ["--platform", "linux/arm64", "--pull", "never"];
    let (code, v) = check(image("bookworm"), &program, &args);
    assert_eq!(code, 2, "{v}");
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "error");
    assert!(
        b["reason"].as_str().unwrap().starts_with(
            "the image is for linux/amd64, not linux/arm64: name an image for linux/arm64"
        ),
        "{b}"
    );
    // Pulling it for linux/arm64 fails here (no registry): said with the local image's platform,
    // and no catalog entry stands in for an image reference the catalog does not name.
    let (code, v) = check(image("bookworm"), &program, &["--platform", "linux/arm64"]);
    assert_eq!(code, 2, "{v}");
    let b = &v["bases"][0];
    assert!(b["fallback"].is_null(), "{b}");
    assert!(
        b["unavailable"]
            .as_str()
            .unwrap()
            .ends_with("(the local image is for linux/amd64)"),
        "{b}"
    );
}

#[test]
fn arm64_bases_are_verified_in_their_own_containers() {
    if !docker_arm64() {
        return;
    }
    // The default platform is the program's own: no --platform needed.
    let program = fixtures_arm64().join("hello-a64");
    let (code, v) = check(arm64_image("bookworm"), &program, &["--exec"]);
    assert_eq!(code, 0, "{v}");
    let b = &v["bases"][0];
    assert_eq!(b["verified"], true, "{b}");
    assert_eq!(b["agree"], true);
    assert_eq!(b["libc"], "glibc 2.36");
    assert_eq!(b["exec"]["stdout"], "hello from libccheck fixture\n", "{b}");
    // qemu, not the kernel, reports the missing loader: read as no_interpreter all the same.
    let (code, v) = check(arm64_image("musl"), &program, &["--exec"]);
    assert_eq!(code, 1, "{v}");
    let e = &v["bases"][0]["exec"];
    assert_eq!(e["verdict"], "no_interpreter", "{e}");
    assert!(
        e["evidence"]
            .as_str()
            .unwrap()
            .ends_with("Could not open '/lib/ld-linux-aarch64.so.1': No such file or directory"),
        "{e}"
    );
    assert_eq!(v["bases"][0]["agree"], true);
}

#[test]
fn an_unknown_platform_is_a_usage_error() {
    let o = run(&["--platform", "linux/riscv64", "--offline", "x"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains(
            "unknown platform \"linux/riscv64\": one of linux/amd64, linux/arm64, linux/386"
        ),
        "{}",
        o.stderr
    );
}

fn architecture(image: &str) -> String {
    let o = std::process::Command::new("docker")
        .args(["image", "inspect", "-f", "{{.Architecture}}", image])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// A tag the daemon holds for amd64, pulled for linux/arm64 from a registry (Debian's
/// docker-registry): the arm64 image gets its own local reference, the tag keeps its image.
#[test]
fn a_pull_for_another_platform_keeps_each_platform_under_its_own_reference() {
    if !docker_arm64() {
        return;
    }
    let registry = local_registry();
    let reference = format!(
        "127.0.0.1:{}/libccheck-arm64/musl:t{}",
        registry.port,
        std::process::id()
    );
    let own = format!("{reference}-linux-arm64");
    docker_ok(&["tag", arm64_image("musl"), &reference]);
    docker_ok(&["push", &reference]);
    // The daemon's copy of that tag is amd64 (one image per tag).
    docker_ok(&["tag", image("musl"), &reference]);
    let program = fixtures_arm64().join("hello-static-a64");
    let run = |pull: &str| {
        check(
            &reference,
            &program,
            &["--platform", "linux/arm64", "--pull", pull, "--exec"],
        )
    };
    let (code, v) = run("missing");
    let b = v["bases"][0].clone();
    let (arch_of_tag, arch_of_own) = (architecture(&reference), architecture(&own));
    // Again, from the local reference alone.
    let (code_again, again) = run("never");
    drop(registry);
    docker_ok(&["rmi", &reference, &own]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(b["image"], reference.as_str());
    assert_eq!(b["verified"], true, "{b}");
    assert_eq!(b["libc"], "musl 1.2.5");
    assert_eq!(b["exec"]["stdout"], "hello from libccheck fixture\n", "{b}");
    assert_eq!(arch_of_tag, "amd64", "the tag points at the image it had");
    assert_eq!(arch_of_own, "arm64");
    assert_eq!(code_again, 0, "{again}");
    assert_eq!(again["bases"][0]["verified"], true);
}
