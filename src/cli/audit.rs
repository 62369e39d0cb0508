//! `libccheck audit`: a whole image or root directory against target bases.

use std::process::ExitCode;

use super::*;

pub(super) fn audit(a: AuditArgs) -> anyhow::Result<ExitCode> {
    let targets = aliases::resolve_all_in(&a.to, &crate::catalog::names(Default::default()))
        .map_err(anyhow::Error::msg)?;
    let cfg = crate::audit::verify::AuditConfig {
        targets,
        all: a.all,
        no_run: a.no_run,
        timeout: std::time::Duration::from_secs(a.timeout),
        sandbox: Sandbox::default(),
        pull: a.pull,
    };
    let run_id = new_run_id();
    if let Some(d) = &a.dir
        && !d.is_dir()
    {
        anyhow::bail!(
            "{}: not a directory (audit takes a root directory or --image)",
            d.display()
        );
    }
    let read_dir = read_dir_meanwhile(a.dir.clone())?;
    let rt = runtime()?;
    let outcome = rt.block_on(until_interrupted(&run_id, async {
        // The targets are made ready while the source is read (an image through the engine).
        let ready = async {
            let mut images: Vec<&str> = cfg.targets.iter().map(|b| b.image.as_str()).collect();
            images.extend(a.image.as_deref());
            let engine = connect_for(&images).await?;
            let image_source = async {
                match (&a.image, &a.dir) {
                    (Some(image), None) => {
                        Some(read_image_source(&engine, image, a.pull, &run_id).await)
                    }
                    _ => None,
                }
            };
            let (prepared, image_source) = tokio::join!(
                crate::audit::verify::prepare_targets(&engine, &cfg, &run_id),
                image_source
            );
            Ok::<_, anyhow::Error>((engine, prepared, image_source))
        };
        let (dir_source, ready) = tokio::join!(read_dir, ready);
        let dir_source =
            dir_source.map_err(|_| anyhow::anyhow!("reading the source directory failed"))?;
        if let (Some(s), Some(d)) = (&dir_source, &a.dir)
            && s.files.is_empty()
        {
            anyhow::bail!(
                "{}: no ELF files to audit ({} other files)",
                d.display(),
                s.non_elf
            );
        }
        let (engine, prepared, image_source) = ready?;
        let (source, origin, name, kind) = chosen_source(&a, dir_source, image_source)?;
        let targets = crate::audit::verify::audit_targets(
            &engine, &source, &origin, &cfg, &prepared, &run_id,
        )
        .await;
        let report = report::audit::AuditReport::new(
            report::audit::SourceSummary::new(&name, kind, &source, a.all),
            targets,
            a.allow_mismatch,
        );
        // The process ends after the report: freeing every file's and every target's profile
        // (hundreds of thousands of small strings) would cost more than the predictions did.
        std::mem::forget(source);
        std::mem::forget(prepared);
        Ok::<_, anyhow::Error>(report)
    }))?;
    let mut report = match outcome {
        Ok(r) => r,
        Err(code) => return Ok(ExitCode::from(code)),
    };
    if a.all_files {
        report.files_shown = None;
    }
    let text = match a.format {
        AuditFormat::Human => crate::text::printable(&report::audit::human(&report)).into_owned(),
        AuditFormat::Json => report::audit::json(&report),
        AuditFormat::Markdown => {
            crate::text::printable(&report::audit::markdown(&report)).into_owned()
        }
    };
    write_stdout(&text)?;
    let code = report.exit_code;
    std::mem::forget(report); // as above: the process ends here
    Ok(ExitCode::from(code))
}

/// A directory is read on its own thread while the runtime starts, Docker is reached and the
/// targets are made ready; its errors come first.
fn read_dir_meanwhile(
    dir: Option<std::path::PathBuf>,
) -> anyhow::Result<tokio::sync::oneshot::Receiver<Option<crate::audit::Source>>> {
    let (sent, read_dir) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("read-source".into())
        .spawn(move || {
            let s = dir.map(|d| {
                let t = std::time::Instant::now();
                let s = crate::audit::source::source_from_dir(&d);
                tracing::info!(
                    ms = t.elapsed().as_millis() as u64,
                    files = s.files.len(),
                    "read the source directory"
                );
                s
            });
            let _ = sent.send(s);
        })?;
    Ok(read_dir)
}

/// The source being audited, where its files come from, its name and its kind.
fn chosen_source(
    a: &AuditArgs,
    dir_source: Option<crate::audit::Source>,
    image_source: Option<anyhow::Result<(crate::audit::Source, String)>>,
) -> anyhow::Result<(
    crate::audit::Source,
    crate::audit::verify::Origin,
    String,
    &'static str,
)> {
    Ok(match (dir_source, image_source) {
        (Some(s), _) => {
            let d = a.dir.as_ref().expect("a directory source comes from DIR");
            (
                s,
                crate::audit::verify::Origin::Dir(d.clone()),
                d.display().to_string(),
                "directory",
            )
        }
        (None, Some(read)) => {
            let (s, image) = read?;
            (
                s,
                crate::audit::verify::Origin::Image(image),
                a.image.clone().unwrap_or_default(),
                "image",
            )
        }
        (None, None) => anyhow::bail!("give a directory or --image"),
    })
}

/// The source of an image audit: the image resolved (pulled if the policy says so), checked to
/// be amd64, and its filesystem read through the engine. Also the image reference used.
pub(super) async fn read_image_source(
    engine: &AnyEngine,
    image: &str,
    pull: crate::check::PullPolicy,
    run_id: &str,
) -> anyhow::Result<(crate::audit::Source, String)> {
    let progress = crate::check::Progress::new(true, 1);
    let found = present_image(engine, image, pull, &progress).await;
    progress.line(&format!("reading the files of {image}"));
    let (base, info) = found?;
    if info.arch != "amd64" && !info.arch.is_empty() {
        anyhow::bail!(
            "{image} is an image for {}/{}; libccheck audits amd64 images",
            info.os,
            info.arch
        );
    }
    let s = crate::image::export::with_image_tar(
        engine,
        &base.image,
        run_id,
        crate::audit::source::source_from_tar,
    )
    .await;
    progress.finish();
    let s = s?;
    tracing::info!(image, files = s.files.len(), "read the source image");
    if s.files.is_empty() {
        anyhow::bail!("{image}: no ELF files to audit");
    }
    Ok((s, base.image))
}
