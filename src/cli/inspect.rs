//! `libccheck inspect`: ELF facts of files and directories; and the hidden `catalog-entry`.

use std::process::ExitCode;

use super::*;

pub(super) fn inspect(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let run = crate::inspect::inspect_paths(&a.paths);
    for e in &run.errors {
        eprintln!("libccheck: {}: {}", e.path, e.error);
    }
    let text = match a.format {
        InspectFormat::Human => crate::text::printable(&report::inspect::human(&run)).into_owned(),
        InspectFormat::Json => report::inspect::json(&run),
    };
    write_stdout(&text)?;
    Ok(ExitCode::from(if run.errors.is_empty() {
        exit::OK
    } else {
        exit::ERROR
    }))
}

pub(super) fn catalog_entry(a: CatalogEntryArgs) -> anyhow::Result<ExitCode> {
    let (profile, size) = match (&a.image, &a.dir) {
        (Some(image), _) => {
            let rt = runtime()?;
            rt.block_on(async {
                let engine = BollardEngine::connect(REQUEST_TIMEOUT).await?;
                let info = crate::docker::Engine::image_info(&engine, image)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no local image {image}"))?;
                let run_id = format!("catalog-{}", std::process::id());
                let mut profile =
                    crate::image::export::profile(&engine, image, &info.id, &run_id).await?;
                profile.machine =
                    crate::probe::jobs::machine_of_docker_arch(&info.arch).map(String::from);
                anyhow::Ok((profile, info.size))
            })?
        }
        (None, Some(dir)) => (
            crate::image::read::profile_from_dir(dir, &format!("dir:{}", dir.display())),
            None,
        ),
        (None, None) => anyhow::bail!("--image or --dir"),
    };
    let mut e = crate::catalog::Entry::from_profile(&a.name, &a.public, &profile, &a.source);
    if let (Some(bytes), Some(image)) = (size, &a.image) {
        e.size = Some(bytes);
        e.size_source = measured_size_source(image, &a.public);
    }
    write_stdout(&(serde_json::to_string(&e)? + "\n"))?;
    Ok(ExitCode::from(exit::OK))
}

/// Where a generated entry's size comes from: the image it was generated from, a stand-in for
/// the public one, measured as Docker measures a local image.
fn measured_size_source(image: &str, public: &str) -> String {
    format!(
        "measured by scripts/gen-catalog.sh: the uncompressed size (Docker's image Size) of {image}, the image this entry is generated from (assembled from Debian's packages); {public} itself can differ"
    )
}
