//! Modules loaded by a host program: the symbols their host provides (Python's `Py*`, Node's
//! `napi_*`) are left to the host in the main check, predicted and run alike.

use crate::util::*;

#[test]
fn python_and_node_modules_load_where_their_libc_is_and_name_their_host() {
    if !docker() {
        return;
    }
    let bases = format!("{},{}", image("musl"), image("bookworm"));
    for (module, host) in [("pyext.so", "(Python)"), ("addon.node", "(Node.js)")] {
        let (code, v) = json(&[
            "--format",
            "json",
            "-b",
            &bases,
            fixture(module).to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{v}");
        for b in v["bases"].as_array().unwrap() {
            assert_eq!(b["verdict"], "ok", "{module}: {b}");
            assert_eq!(b["prediction"]["verdict"], "ok", "{module}: {b}");
            assert_eq!(b["agree"], true, "{module}: {b}");
            assert!(
                b["reason"].as_str().unwrap().contains(host),
                "{module}: {b}"
            );
            let hints = b["prediction"]["hints"].as_array().unwrap();
            assert!(hints.is_empty(), "no 'glibc-only symbols' hint: {b}");
        }
    }
}

/// Where the base has the host program, a module is loaded the way the host loads it: with the
/// interpreter's libraries in the global scope, predicted and run (the load probe maps them
/// first). pyext-libm calls cos() without needing libm: it loads under python3.11, not alone.
#[test]
fn a_module_loads_with_its_hosts_libraries_where_the_base_has_the_host() {
    if !docker() {
        return;
    }
    let bases = format!("{},libccheck-fixture/python:bookworm", image("bookworm"));
    let (code, v) = json(&[
        "--format",
        "json",
        "-b",
        &bases,
        fixture("pyext-libm.so").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{v}");
    let (slim, python) = (&v["bases"][0], &v["bases"][1]);
    assert_eq!(python["verdict"], "ok", "{python}");
    assert_eq!(python["agree"], true, "{python}");
    assert!(
        python["reason"]
            .as_str()
            .unwrap()
            .ends_with("; loaded as /usr/bin/python3.11 would load it"),
        "{python}"
    );
    assert_eq!(slim["verdict"], "missing_symbol", "{slim}");
    assert_eq!(slim["agree"], true, "{slim}");
    assert_eq!(slim["prediction"]["problems"][0]["symbol"], "cos", "{slim}");
    assert!(
        slim["prediction"]["hints"][0]
            .as_str()
            .unwrap()
            .contains("no Python interpreter in this base"),
        "{slim}"
    );
    // A module whose only outside symbols are its host's loads anywhere its libc is, and the
    // report says where no host is there to load it.
    let (code, v) = json(&[
        "--format",
        "json",
        "-b",
        &bases,
        fixture("pyext.so").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{v}");
    assert!(
        v["bases"][0]["reason"]
            .as_str()
            .unwrap()
            .ends_with("; no Python interpreter in this base"),
        "{v}"
    );
}
