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
