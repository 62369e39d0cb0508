//! `libccheck clean`: remove containers left by runs that are over.

use std::process::ExitCode;

use super::*;

pub(super) fn clean(a: CleanArgs) -> anyhow::Result<ExitCode> {
    // The directories are this machine's: removed even when the daemon cannot be reached.
    let dirs = crate::check::deliver::remove_stale_dirs(&std::env::temp_dir());
    let rt = runtime()?;
    let c = rt
        .block_on(async {
            let engine = BollardEngine::connect(REQUEST_TIMEOUT).await?;
            Ok::<_, anyhow::Error>(crate::check::cleanup_leftovers(&engine, a.all).await?)
        })
        .inspect_err(|_| {
            if dirs > 0 {
                eprintln!(
                    "libccheck: removed {dirs} director(ies) of files left by libccheck runs"
                );
            }
        })?;
    print!("removed {} container(s) left by libccheck runs", c.removed);
    if c.live > 0 {
        print!(
            "; {} belong to runs still going (--all removes them too)",
            c.live
        );
    }
    if dirs > 0 {
        print!("; removed {dirs} director(ies) of their files");
    }
    println!();
    Ok(ExitCode::from(exit::OK))
}
