//! Images read without the daemon: `docker save` archives, OCI layouts (a directory and a tar,
//! written by skopeo from those archives), and a local registry (Debian's docker-registry, fed by
//! `docker push`). Their predictions, audits and image reports equal the daemon's for the same
//! fixture images; with no daemon at all they still work and say what was not verified; bad
//! images fail in one line that names the image and the layer, leaving nothing behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::Digest;

use crate::util::*;

/// Where the archives and layouts made from fixture images are kept between runs (named by
/// image ID, so a rebuilt fixture gets new ones).
fn store() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sources");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn image_id(image: &str) -> String {
    let o = Command::new("docker")
        .args(["image", "inspect", "-f", "{{.Id}}", image])
        .output()
        .unwrap();
    assert!(o.status.success(), "{image} is not present");
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .trim_start_matches("sha256:")[..16]
        .to_string()
}

/// `docker save` of `image` (made once).
fn saved(image: &str) -> PathBuf {
    let path = store().join(format!("{}.tar", image_id(image)));
    if !path.exists() {
        let tmp = path.with_extension(format!("{}.part", std::process::id()));
        docker_ok(&["save", "-o", tmp.to_str().unwrap(), image]);
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

fn skopeo(args: &[&str]) {
    let o = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo (Debian package skopeo) must be installed");
    assert!(
        o.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// An OCI layout of `image` written by skopeo: a directory, or (`archive`) a tar of one.
fn oci(image: &str, archive: bool) -> PathBuf {
    let ext = if archive { "oci.tar" } else { "oci" };
    let path = store().join(format!("{}.{ext}", image_id(image)));
    if !path.exists() {
        let tmp = store().join(format!(
            "{}.{}.part.{ext}",
            image_id(image),
            std::process::id()
        ));
        let transport = if archive { "oci-archive" } else { "oci" };
        skopeo(&[
            "copy",
            "-q",
            &format!("docker-archive:{}", saved(image).display()),
            &format!("{transport}:{}:latest", tmp.display()),
        ]);
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// `image` pushed to `registry` by the daemon, its local tag removed again.
fn pushed(registry: &Registry, image: &str) -> String {
    let name = image
        .trim_start_matches("libccheck-fixture/")
        .replace(':', "-");
    let remote = format!("127.0.0.1:{}/sources/{name}:1", registry.port);
    docker_ok(&["tag", image, &remote]);
    docker_ok(&["push", "-q", &remote]);
    docker_ok(&["rmi", &remote]);
    remote
}

/// How one source names a fixture image.
type Namer<'a> = Box<dyn Fn(&str) -> String + 'a>;

/// Every daemonless way of naming a fixture image: (label, namer). skopeo's OCI copies rewrite
/// the configuration (OCI media types), so those are other images by ID; `docker save` and the
/// daemon's push keep it.
fn sources(registry: &Registry) -> Vec<(&'static str, Namer<'_>)> {
    vec![
        (
            "docker-archive",
            Box::new(|i: &str| format!("docker-archive:{}", saved(i).display())),
        ),
        (
            "oci",
            Box::new(|i: &str| format!("oci:{}", oci(i, false).display())),
        ),
        (
            "oci-archive",
            Box::new(|i: &str| format!("oci-archive:{}", oci(i, true).display())),
        ),
        (
            "registry",
            Box::new(move |i: &str| format!("registry:{}", pushed(registry, i))),
        ),
    ]
}

/// Run libccheck with a cache of its own and no daemon reachable.
fn daemonless(args: &[&str], cache: &Path, port: u16) -> Output {
    libccheck()
        .env("LIBCCHECK_CACHE_DIR", cache)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args(["--insecure-registry", &format!("127.0.0.1:{port}")])
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// The daemon's run, with a cache of its own.
fn with_daemon(args: &[&str], cache: &Path) -> Output {
    libccheck()
        .env("LIBCCHECK_CACHE_DIR", cache)
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// The JSON text with each source's names put back to the daemon's, its run id and (where the
/// source's copy is another image by ID) image IDs dropped: what must be equal.
fn normalised(text: &str, names: &[(String, String)], drop_ids: bool) -> Value {
    let mut text = text.to_string();
    for (from, to) in names {
        text = text.replace(from.as_str(), to);
    }
    let mut v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    strip(&mut v, drop_ids);
    v
}

fn strip(v: &mut Value, drop_ids: bool) {
    match v {
        Value::Object(m) => {
            m.remove("run_id");
            if drop_ids {
                m.remove("image_id");
            }
            m.values_mut().for_each(|x| strip(x, drop_ids));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip(x, drop_ids)),
        _ => {}
    }
}

const CHECKED: [&str; 3] = [
    "libccheck-fixture/musl:latest",
    "libccheck-fixture/distroless-cc:bookworm",
    "libccheck-fixture/debian-slim:bookworm",
];

#[test]
fn predictions_from_every_source_equal_the_daemons() {
    if !docker() {
        return;
    }
    let registry = local_registry();
    let bin = fixture("hello-cxx");
    let args = |names: &[String]| -> Vec<String> {
        let mut a = vec!["--no-run".to_string(), "--format".into(), "json".into()];
        for n in names {
            a.extend(["-b".to_string(), n.clone()]);
        }
        a.push(bin.display().to_string());
        a
    };
    let daemon_names: Vec<String> = CHECKED.iter().map(|s| s.to_string()).collect();
    let cache = tempfile::tempdir().unwrap();
    let a = args(&daemon_names);
    let reference = with_daemon(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        cache.path(),
    );
    // hello-cxx needs glibc: it fails on musl (exit 1), wherever the image is read from.
    assert_eq!(reference.code, 1, "{}", reference.stderr);
    for (label, name) in sources(&registry) {
        let names: Vec<String> = CHECKED.iter().map(|i| name(i)).collect();
        let cache = tempfile::tempdir().unwrap();
        let a = args(&names);
        let o = daemonless(
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            cache.path(),
            registry.port,
        );
        assert_eq!(o.code, 1, "{label}: {}", o.stderr);
        let back: Vec<(String, String)> = names.iter().cloned().zip(daemon_names.clone()).collect();
        let drop_ids = label.starts_with("oci");
        assert_eq!(
            normalised(&o.stdout, &back, drop_ids),
            normalised(&reference.stdout, &[], drop_ids),
            "{label}: the prediction differs from the daemon's"
        );
        // Profiled from the layers, cached under the configuration's digest.
        let profiles = std::fs::read_dir(cache.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".bin")
            })
            .count();
        assert_eq!(profiles, 3, "{label}");
    }
}

#[test]
fn audits_and_image_reports_from_every_source_equal_the_daemons() {
    if !docker() {
        return;
    }
    crate::audit::app_root();
    let registry = local_registry();
    let (app, to) = ("libccheck-fixture/app:bookworm", CHECKED[1]);
    let audit = |app: &str, to: &str| {
        [
            "audit", "--image", app, "--to", to, "--no-run", "--format", "json",
        ]
        .map(String::from)
        .to_vec()
    };
    let image = |app: &str| {
        ["image", app, "--no-run", "--format", "json"]
            .map(String::from)
            .to_vec()
    };
    let refs = [audit(app, to), image(app)];
    let cache = tempfile::tempdir().unwrap();
    let reference: Vec<Output> = refs
        .iter()
        .map(|a| {
            with_daemon(
                &a.iter().map(String::as_str).collect::<Vec<_>>(),
                cache.path(),
            )
        })
        .collect();
    for (label, name) in sources(&registry) {
        let (app_s, to_s) = (name(app), name(to));
        let cache = tempfile::tempdir().unwrap();
        let back = [
            (app_s.clone(), app.to_string()),
            (to_s.clone(), to.to_string()),
        ];
        for (args, reference) in [audit(&app_s, &to_s), image(&app_s)].iter().zip(&reference) {
            let o = daemonless(
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                cache.path(),
                registry.port,
            );
            assert_eq!(o.code, reference.code, "{label} {args:?}: {}", o.stderr);
            let drop_ids = label.starts_with("oci");
            assert_eq!(
                normalised(&o.stdout, &back, drop_ids),
                normalised(&reference.stdout, &[], drop_ids),
                "{label} {args:?}: differs from the daemon's"
            );
        }
    }
}

#[test]
fn with_no_daemon_runs_fall_back_to_predictions_marked_unverified() {
    if !docker() {
        return;
    }
    crate::audit::app_root();
    let cc = format!("docker-archive:{}", saved(CHECKED[1]).display());
    let app = format!(
        "docker-archive:{}",
        saved("libccheck-fixture/app:bookworm").display()
    );
    let cache = tempfile::tempdir().unwrap();
    let bin = fixture("hello-cxx");
    let o = daemonless(
        &["--format", "json", "-b", &cc, bin.to_str().unwrap()],
        cache.path(),
        1,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let b = &v["bases"][0];
    assert_eq!(b["verdict"], "ok");
    assert_eq!(b["verified"], false);
    assert_eq!(b["fallback"], "prediction");
    let why = b["unavailable"].as_str().unwrap();
    assert!(
        why.starts_with("verification needs a container engine (cannot reach the Docker daemon"),
        "{why}"
    );
    assert!(
        b["reason"]
            .as_str()
            .unwrap()
            .starts_with("not verified: predicted from the image's files; ")
    );
    assert_eq!(v["summary"]["unverified"], serde_json::json!([cc]));
    // The human report says it above the table and in the summary.
    let o = daemonless(&["-b", &cc, bin.to_str().unwrap()], cache.path(), 1);
    assert!(
        o.stdout
            .contains("images not run (predicted from their files, not verified):\n"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("(none verified: every image read without an engine)"),
        "{}",
        o.stdout
    );
    // audit and image: predictions, each saying why it is not verified.
    let o = daemonless(
        &["audit", "--image", &app, "--to", &cc, "--format", "json"],
        cache.path(),
        1,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(
        v["targets"][0]["unverified"]
            .as_str()
            .unwrap()
            .starts_with("verification needs a container engine")
    );
    let o = daemonless(&["image", &app, "--format", "json"], cache.path(), 1);
    let v: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", o.stderr));
    assert!(
        v["unverified"]
            .as_str()
            .unwrap()
            .starts_with("verification needs a container engine")
    );
    // A plain reference needs the daemon: the connection's error, as before.
    let o = daemonless(&["-b", CHECKED[1], bin.to_str().unwrap()], cache.path(), 1);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("cannot reach the Docker daemon"),
        "{}",
        o.stderr
    );
}

// ---- bad images ----

fn sha(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A layer tar: (path, kind, content or link target). `kind`: `f` file, `h` hard link.
fn layer(entries: &[(&str, char, &str)]) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    for (path, kind, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        match kind {
            'h' => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                t.append_link(&mut h, path, body).unwrap();
            }
            _ => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(body.len() as u64);
                t.append_data(&mut h, path, body.as_bytes()).unwrap();
            }
        }
    }
    t.into_inner().unwrap()
}

/// Name the first entry `name` (the tar crate refuses to write `..` itself).
fn renamed_first(mut tar: Vec<u8>, name: &str) -> Vec<u8> {
    let mut h = tar::Header::from_byte_slice(&tar[..512]).clone();
    h.as_old_mut().name = [0; 100];
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_cksum();
    tar[..512].copy_from_slice(h.as_bytes());
    tar
}

/// Write an OCI layout of one image (`arch`) with these layer blobs; `listed`: behind a nested
/// index that names the platform (a multi-platform image's layout).
fn layout(dir: &Path, layers: &[Vec<u8>], arch: &str, listed: bool) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = sha(bytes);
        std::fs::write(blobs.join(&d), bytes).unwrap();
        (format!("sha256:{d}"), bytes.len())
    };
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("\"sha256:{}\"", sha(l)))
        .collect();
    let config = format!(
        r#"{{"architecture":"{arch}","os":"linux","config":{{"Cmd":["/hello"]}},"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        diff_ids.join(",")
    );
    let (cd, cs) = put(config.as_bytes());
    let descs: Vec<String> = layers
        .iter()
        .map(|l| {
            let (d, s) = put(l);
            let mt = if l.starts_with(&[0x1f, 0x8b]) { "tar+gzip" } else { "tar" };
            format!(r#"{{"mediaType":"application/vnd.oci.image.layer.v1.{mt}","digest":"{d}","size":{s}}}"#)
        })
        .collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{cs}}},"layers":[{}]}}"#,
        descs.join(",")
    );
    let (md, ms) = put(manifest.as_bytes());
    let platform = format!(r#""platform":{{"architecture":"{arch}","os":"linux"}}"#);
    let entry = format!(
        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{ms},{platform}}}"#
    );
    let top = if listed {
        let inner = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{entry}]}}"#
        );
        let (id, is) = put(inner.as_bytes());
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{id}","size":{is},"annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}"#
        )
    } else {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{ms},"annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}"#
        )
    };
    std::fs::write(
        dir.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[{top}]}}"#),
    )
    .unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// `image IMAGE --no-run` fails with exit 2 and one line naming the image and `expect`, and
/// leaves nothing in the cache (nor anywhere it was run).
fn refused(image: &str, port: u16, docker_config: Option<&Path>, expect: &[&str]) {
    let cache = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let mut c = libccheck();
    c.env("LIBCCHECK_CACHE_DIR", cache.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .current_dir(cwd.path())
        .args(["--insecure-registry", &format!("127.0.0.1:{port}")])
        .args(["image", image, "--no-run"]);
    if let Some(d) = docker_config {
        c.env("DOCKER_CONFIG", d);
    }
    let o: Output = c.output().unwrap().into();
    assert_eq!(o.code, 2, "{image}: {}{}", o.stdout, o.stderr);
    let line = o.stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{image}: {line}");
    assert!(
        line.starts_with(&format!("libccheck: error: {image}: ")),
        "{line}"
    );
    for e in expect {
        assert!(line.contains(e), "{image}: {e:?} not in {line}");
    }
    for d in [cache.path(), cwd.path()] {
        let left: Vec<_> = std::fs::read_dir(d).unwrap().collect();
        assert!(
            left.is_empty(),
            "{image}: left behind in {}: {left:?}",
            d.display()
        );
    }
}

#[test]
fn bad_images_fail_in_one_line_naming_image_and_layer() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    let ok = layer(&[("hello", 'f', "#!/bin/sh\n")]);
    // Unreachable registry (nothing listens on port 1).
    refused(
        "registry:127.0.0.1:1/x/y:1",
        1,
        None,
        &["registry 127.0.0.1:1", "Connection refused"],
    );
    // A corrupt archive.
    std::fs::write(at("corrupt.tar"), b"this is not a tar archive at all").unwrap();
    let corrupt = format!("docker-archive:{}", at("corrupt.tar").display());
    refused(&corrupt, 1, None, &["not a readable tar archive"]);
    // Only another platform, behind an index.
    layout(&at("arm64"), &[gz(&ok)], "arm64", true);
    let arm = format!("oci:{}", at("arm64").display());
    refused(
        &arm,
        1,
        None,
        &["no linux/amd64 image in it (it has linux/arm64)"],
    );
    // A truncated layer.
    let big = "x".repeat(300_000);
    let mut cut = gz(&layer(&[
        ("hello", 'f', "#!/bin/sh\n"),
        ("data", 'f', &big),
    ]));
    cut.truncate(cut.len() / 2);
    layout(&at("cut"), &[gz(&ok), cut.clone()], "amd64", false);
    let cut_name = format!("oci:{}", at("cut").display());
    refused(
        &cut_name,
        1,
        None,
        &[&format!("layer 2 of 2 (sha256:{}", &sha(&cut)[..12])],
    );
    // A path leaving the root.
    let evil = renamed_first(layer(&[("aaaaaaaa/x", 'f', "x")]), "../../etc/x");
    layout(&at("escape"), &[ok.clone(), evil.clone()], "amd64", false);
    let escape = format!("oci:{}", at("escape").display());
    refused(
        &escape,
        1,
        None,
        &[
            &format!("layer 2 of 2 (sha256:{}", &sha(&evil)[..12]),
            "the path \"../../etc/x\" leaves the image's root",
        ],
    );
    // A hard link to nothing: Docker refuses to apply such a layer.
    let dangling = layer(&[("lib/b.so", 'h', "lib/a.so")]);
    layout(&at("hard"), &[ok.clone(), dangling], "amd64", false);
    let hard = format!("oci:{}", at("hard").display());
    refused(
        &hard,
        1,
        None,
        &["layer 2 of 2", "hard link /lib/b.so points to /lib/a.so"],
    );
    // A whiteout of a path no lower layer has: tolerated, as Docker tolerates it.
    let stray = layer(&[(".wh.never-there", 'f', "")]);
    layout(&at("stray"), &[ok.clone(), stray], "amd64", false);
    let o = run(&[
        "--no-run",
        "--format",
        "json",
        "-b",
        &format!("oci:{}", at("stray").display()),
        fixture("hello-static").to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn registries_refuse_wrong_credentials_and_lists_without_our_platform() {
    if !docker() {
        return;
    }
    let registry = local_registry_with_auth();
    let port = registry.port;
    let cc = saved(CHECKED[1]);
    let remote = format!("127.0.0.1:{port}/sources/cc:1");
    skopeo(&[
        "copy",
        "-q",
        "--dest-creds",
        "user:pw",
        "--dest-tls-verify=false",
        &format!("docker-archive:{}", cc.display()),
        &format!("docker://{remote}"),
    ]);
    let creds = |password: &str| {
        let d = tempfile::tempdir().unwrap();
        use base64::Engine;
        let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        std::fs::write(
            d.path().join("config.json"),
            format!(
                r#"{{"auths":{{"127.0.0.1:{port}":{{"auth":"{}"}}}}}}"#,
                encode(&format!("user:{password}"))
            ),
        )
        .unwrap();
        d
    };
    let image = format!("registry:{remote}");
    // The right password reads the image (the fixture has no command: image says so, exit 2).
    let good = creds("pw");
    let cache = tempfile::tempdir().unwrap();
    let o: Output = libccheck()
        .env("LIBCCHECK_CACHE_DIR", cache.path())
        .env("DOCKER_CONFIG", good.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args(["--insecure-registry", &format!("127.0.0.1:{port}")])
        .args(["--no-run", "--format", "json", "-b", &image])
        .arg(fixture("hello-cxx"))
        .output()
        .unwrap()
        .into();
    assert_eq!(o.code, 0, "{}", o.stderr);
    let bad = creds("wrong");
    refused(
        &image,
        port,
        Some(bad.path()),
        &["Not authorized", "docker login"],
    );
    let none = tempfile::tempdir().unwrap();
    refused(&image, port, Some(none.path()), &["Not authorized"]);
    // A manifest list with an arm64 image only.
    let dir = tempfile::tempdir().unwrap();
    layout(
        dir.path(),
        &[gz(&layer(&[("hello", 'f', "x")]))],
        "arm64",
        true,
    );
    let list = format!("127.0.0.1:{port}/sources/arm:1");
    skopeo(&[
        "copy",
        "-q",
        "--all",
        "--dest-creds",
        "user:pw",
        "--dest-tls-verify=false",
        &format!("oci:{}:latest", dir.path().display()),
        &format!("docker://{list}"),
    ]);
    refused(
        &format!("registry:{list}"),
        port,
        Some(good.path()),
        &["no linux/amd64 image in its manifest list (it has linux/arm64)"],
    );
}

#[test]
fn a_fleet_of_twenty_registry_images_is_audited_with_no_daemon_and_resumes() {
    if !docker() {
        return;
    }
    crate::audit::app_root();
    let registry = local_registry();
    let port = registry.port;
    // 20 references: the application image and the musl fixture under ten tags each.
    let mut list = String::from("# a fleet\n");
    for (image, name) in [
        ("libccheck-fixture/app:bookworm", "app"),
        (CHECKED[0], "musl"),
    ] {
        for i in 0..10 {
            let remote = format!("127.0.0.1:{port}/fleet/{name}:{i}");
            docker_ok(&["tag", image, &remote]);
            docker_ok(&["push", "-q", &remote]);
            docker_ok(&["rmi", &remote]);
            list.push_str(&format!("registry:{remote}\n"));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("list"), &list).unwrap();
    let out = dir.path().join("reports");
    let to = format!("registry:{}", pushed(&registry, CHECKED[1]));
    let list_file = dir.path().join("list");
    let args = [
        "audit",
        "--images-from",
        list_file.to_str().unwrap(),
        "--to",
        &to,
        "--no-run",
        "--out",
        out.to_str().unwrap(),
    ];
    let cache = tempfile::tempdir().unwrap();
    let o = daemonless(&args, cache.path(), port);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.starts_with(&format!(
            "20 images: 20 audited now, 0 already reported in {}, 0 failed\n",
            out.display()
        )),
        "{}",
        o.stdout
    );
    // The application's own files (not the packaged ones) load on its own base, distroless-cc;
    // the musl fixture has none of its own.
    assert!(
        o.stdout
            .contains(&format!("\n20 of 20 images would move to {to} unchanged\n")),
        "{}",
        o.stdout
    );
    let reports: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(reports.len(), 20);
    let one: Value = serde_json::from_slice(
        &std::fs::read(out.join(format!("registry_127.0.0.1_{port}_fleet_app_3.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(one["schema"], "libccheck/audit/v1");
    assert_eq!(
        one["source"]["name"],
        format!("registry:127.0.0.1:{port}/fleet/app:3")
    );
    // Run again: every image is skipped, the summary is the same.
    let again = daemonless(&args, cache.path(), port);
    assert_eq!(again.code, 0);
    assert!(
        again
            .stdout
            .starts_with("20 images: 0 audited now, 20 already reported in "),
        "{}",
        again.stdout
    );
    assert_eq!(again.stdout.lines().nth(1), o.stdout.lines().nth(1));
}

/// One OCI layout holding the musl fixture for two platforms under one name, as the layout of a
/// multi-platform image does: the run's platform chooses which one is read.
#[test]
fn the_runs_platform_chooses_from_a_multi_platform_layout() {
    if !docker_arm64() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let layout = d.path().join("musl.oci");
    for (image, arch) in [
        ("libccheck-fixture/musl:latest", "amd64"),
        ("libccheck-fixture/musl-arm64:latest", "arm64"),
    ] {
        skopeo(&[
            "copy",
            "-q",
            &format!("docker-archive:{}", saved(image).display()),
            &format!("oci:{}:{arch}", layout.display()),
        ]);
    }
    let index_path = layout.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    for m in index["manifests"].as_array_mut().unwrap() {
        let name = &mut m["annotations"]["org.opencontainers.image.ref.name"];
        let arch = name.as_str().unwrap().to_string();
        *name = "musl".into();
        m["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
    }
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    let source = format!("oci:{}:musl", layout.display());
    let cache = tempfile::tempdir().unwrap();
    // The wrong choice would be wrong_arch: each program loads only on its own platform's image.
    for (binary, platform) in [
        (fixture("hello-musl"), "linux/amd64"),
        (fixtures_arm64().join("hello-musl-a64"), "linux/arm64"),
    ] {
        let args = [
            "--no-run",
            "--format",
            "json",
            "--platform",
            platform,
            "-b",
            &source,
        ];
        let o = daemonless(
            &[&args[..], &[binary.to_str().unwrap()]].concat(),
            cache.path(),
            1,
        );
        let v: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|_| panic!("{}", o.stderr));
        assert_eq!(v["bases"][0]["verdict"], "ok", "{platform}: {v}");
        assert_eq!(o.code, 0);
    }
    // A single-platform image of another platform than asked for: an error naming both.
    let amd64_only = format!(
        "docker-archive:{}",
        saved("libccheck-fixture/musl:latest").display()
    );
    let hello_a64 = fixtures_arm64().join("hello-musl-a64");
    let args = [
        "--no-run",
        "--format",
        "json",
        "--platform",
        "linux/arm64",
        "-b",
        &amd64_only,
    ];
    let o = daemonless(
        &[&args[..], &[hello_a64.to_str().unwrap()]].concat(),
        cache.path(),
        1,
    );
    let v: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|_| panic!("{}", o.stderr));
    let reason = v["bases"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("the image is for linux/amd64, not linux/arm64"),
        "{reason}"
    );
    assert_eq!(o.code, 2);
}
