//! `libccheck bases`: the aliases and the offline catalog, or the configured bases as a CI matrix.

use std::process::ExitCode;

use super::*;

pub(super) fn list_bases(a: BasesArgs) -> anyhow::Result<ExitCode> {
    if a.matrix {
        let (_, file) =
            crate::cli::config::load(a.config.as_deref()).map_err(anyhow::Error::msg)?;
        let names: Vec<String> = if !a.bases.is_empty() {
            a.bases.clone()
        } else {
            file.bases.clone().unwrap_or_else(|| {
                aliases::DEFAULT_MATRIX
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            })
        };
        let resolved =
            aliases::resolve_all_in(&names, &file.names()).map_err(anyhow::Error::msg)?;
        let list: Vec<String> = resolved.into_iter().map(|b| b.name).collect();
        write_stdout(&(serde_json::json!({ "base": list }).to_string() + "\n"))?;
        return Ok(ExitCode::from(exit::OK));
    }
    let catalog = crate::catalog::entries();
    let text = match a.format {
        InspectFormat::Json => {
            let entries: Vec<serde_json::Value> = catalog
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "name": e.name, "image": e.image, "os": e.os, "libc": e.libc, "libc_version": e.libc_version,
                        "loaders": e.loaders, "sonames": e.libraries.keys().collect::<Vec<_>>(),
                        "runtime": e.runtime, "source": e.source,
                        "size": e.size, "size_source": e.size_source,
                    })
                })
                .collect();
            let v = serde_json::json!({
                "schema": "libccheck/bases/v1",
                "tool": crate::text::Tool::current(),
                "aliases": aliases::ALIASES,
                "default_matrix": aliases::DEFAULT_MATRIX,
                "catalog": entries,
            });
            serde_json::to_string_pretty(&v)? + "\n"
        }
        InspectFormat::Human => {
            let mut s = String::from(
                "ALIAS              IMAGE                                          CATALOG ENTRY (--offline)\n",
            );
            for al in aliases::ALIASES {
                let d = if aliases::DEFAULT_MATRIX.contains(&al.name) {
                    " (default)"
                } else {
                    ""
                };
                s.push_str(&format!(
                    "{:<18} {:<46} {}{d}\n",
                    al.name, al.image, al.catalog
                ));
            }
            s.push_str("\nAny other image reference works too: -b myregistry/myimage:tag; libccheck.toml's [aliases] maps a name to a mirror or local image\n\n");
            s.push_str("CATALOG (-b NAME checks its IMAGE; with --offline, or when the image is unavailable, predicts from the entry)\nNAME                        LIBC         SONAMES  IMAGE\n");
            for e in catalog {
                let libc = match (&e.libc_version, e.libc) {
                    (Some(v), l) => {
                        format!("{} {v}", serde_json::to_value(l)?.as_str().unwrap_or(""))
                    }
                    (None, _) => "none".into(),
                };
                s.push_str(&format!(
                    "{:<27} {:<12} {:>7}  {}\n",
                    e.name,
                    libc,
                    e.libraries.len(),
                    e.image
                ));
                if let Some(r) = &e.runtime {
                    let provides = crate::image::runtime::describe(r, e.shell);
                    let threads = thread_stacks(e.libc);
                    s.push_str(&format!("    provides: {threads}{provides}\n"));
                }
            }
            s.push_str("\nSources: `libccheck bases --format json` gives each entry's source.\n");
            s
        }
    };
    write_stdout(&text)?;
    Ok(ExitCode::from(exit::OK))
}

/// The default stack of a new thread under the base's libc (see `crate::risks`).
fn thread_stacks(libc: crate::image::base::LibcKind) -> String {
    use crate::image::base::LibcKind;
    match libc {
        LibcKind::Musl => format!(
            "thread stacks {} KiB, ",
            crate::risks::MUSL_THREAD_STACK >> 10
        ),
        LibcKind::Glibc => "thread stacks 8 MiB (the stack rlimit), ".into(),
        LibcKind::None => String::new(),
    }
}
