//! `libccheck audit --images-from FILE --to BASE… --no-run --out DIR`: a fleet of images audited
//! against the same targets, two images at a time, each image's report written as its own JSON
//! document (so memory stays that of two audits, and an interrupted run or another shard resumes
//! by skipping the images whose report exists), then a summary over every report in the list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use futures_util::StreamExt;

use super::*;

/// Images audited at once.
const AT_ONCE: usize = 2;

pub(super) fn fleet(a: AuditArgs) -> anyhow::Result<ExitCode> {
    let (list, out) = (
        a.images_from.clone().expect("fleet audits have a list"),
        a.out.clone().expect("--images-from requires --out"),
    );
    if !a.no_run {
        anyhow::bail!("--images-from audits predict only: add --no-run");
    }
    let images = read_list(&list)?;
    std::fs::create_dir_all(&out).map_err(|e| anyhow::anyhow!("--out {}: {e}", out.display()))?;
    let targets = aliases::resolve_all_in(&a.to, &crate::catalog::names(Default::default()))
        .map_err(anyhow::Error::msg)?;
    let cfg = crate::audit::verify::AuditConfig {
        targets,
        all: a.all,
        no_run: true,
        timeout: std::time::Duration::from_secs(a.timeout),
        sandbox: Sandbox::default(),
        pull: a.pull,
    };
    let run_id = new_run_id();
    let rt = runtime()?;
    let done = rt.block_on(until_interrupted(
        &run_id,
        audit_all(&a, &cfg, &images, &out, &run_id),
    ))?;
    let (written, skipped, failed) = match done {
        Ok(counts) => counts,
        Err(code) => return Ok(ExitCode::from(code)),
    };
    let text = summary(&images, &out, &cfg.targets, written, skipped, &failed);
    write_stdout(&text)?;
    Ok(ExitCode::from(if failed.is_empty() { 0 } else { 2 }))
}

/// The references of a list file: one a line, blank lines and `#` comments left out.
fn read_list(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("--images-from {}: {e}", path.display()))?;
    let images: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if images.is_empty() {
        anyhow::bail!(
            "--images-from {}: no image references in it",
            path.display()
        );
    }
    Ok(images)
}

/// Where an image's report goes: its reference with every character a file name cannot hold
/// (or a shell would trip on) made `_`.
pub fn report_path(out: &Path, image: &str) -> PathBuf {
    let name: String = image
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .collect();
    out.join(format!("{name}.json"))
}

/// Audit every image without a report yet; (written, skipped, failures with their error).
async fn audit_all(
    a: &AuditArgs,
    cfg: &crate::audit::verify::AuditConfig,
    images: &[String],
    out: &Path,
    run_id: &str,
) -> anyhow::Result<(usize, usize, Vec<(String, String)>)> {
    let mut names: Vec<&str> = cfg.targets.iter().map(|b| b.image.as_str()).collect();
    names.extend(images.iter().map(String::as_str));
    let engine = connect_for(&names).await?;
    let prepared = crate::audit::verify::prepare_targets(&engine, cfg, run_id).await;
    let todo: Vec<&String> = images
        .iter()
        .filter(|i| !report_path(out, i).exists())
        .collect();
    let skipped = images.len() - todo.len();
    let results: Vec<(String, anyhow::Result<()>)> = futures_util::stream::iter(todo)
        .map(|image| {
            let (engine, prepared) = (&engine, &prepared);
            async move {
                let r = audit_one(a, cfg, engine, prepared, image, out, run_id).await;
                (image.clone(), r)
            }
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let written = results.iter().filter(|(_, r)| r.is_ok()).count();
    let failed = results
        .into_iter()
        .filter_map(|(i, r)| r.err().map(|e| (i, format!("{e:#}"))))
        .collect();
    Ok((written, skipped, failed))
}

/// One image audited and its report written (atomically: a half-written report never counts
/// as done).
async fn audit_one(
    a: &AuditArgs,
    cfg: &crate::audit::verify::AuditConfig,
    engine: &AnyEngine,
    prepared: &[crate::audit::verify::Prepared],
    image: &str,
    out: &Path,
    run_id: &str,
) -> anyhow::Result<()> {
    let (source, used) = audit::read_image_source(engine, image, a.pull, run_id).await?;
    let origin = crate::audit::verify::Origin::Image(used);
    let targets =
        crate::audit::verify::audit_targets(engine, &source, &origin, cfg, prepared, run_id).await;
    let report = report::audit::AuditReport::new(
        report::audit::SourceSummary::new(image, "image", &source, a.all),
        targets,
        a.allow_mismatch,
    );
    let path = report_path(out, image);
    let tmp = tempfile::NamedTempFile::new_in(out)?;
    std::fs::write(tmp.path(), report::audit::json(&report))?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

/// Per target, how many images would move unchanged, and the most common causes of breakage
/// (by the number of images they break), over every report of the list (resumed ones too).
fn summary(
    images: &[String],
    out: &Path,
    targets: &[crate::image::aliases::Base],
    written: usize,
    skipped: usize,
    failed: &[(String, String)],
) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} images: {written} audited now, {skipped} already reported in {}, {} failed",
        images.len(),
        out.display(),
        failed.len()
    );
    let reports: Vec<serde_json::Value> = images
        .iter()
        .filter_map(|i| std::fs::read(report_path(out, i)).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    for t in targets {
        let mut unchanged = 0;
        let mut causes: BTreeMap<String, usize> = BTreeMap::new();
        for r in &reports {
            let Some(tr) = r["targets"]
                .as_array()
                .and_then(|ts| ts.iter().find(|x| x["base"] == t.name.as_str()))
            else {
                continue;
            };
            if tr["broken"] == 0 && tr["error"].is_null() {
                unchanged += 1;
            }
            let mut seen: Vec<&str> = tr["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|g| g["cause"].as_str())
                .collect();
            seen.sort();
            seen.dedup();
            for c in seen {
                *causes.entry(c.to_string()).or_default() += 1;
            }
        }
        let _ = write!(
            o,
            "{unchanged} of {} images would move to {} unchanged",
            reports.len(),
            t.name
        );
        let mut top: Vec<(String, usize)> = causes.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(5);
        if top.is_empty() {
            o.push('\n');
        } else {
            let list: Vec<String> = top
                .iter()
                .map(|(c, n)| format!("{c} ({})", report::audit::plural(*n, "image")))
                .collect();
            let _ = writeln!(
                o,
                "; the {} most common causes: {}",
                top.len(),
                list.join(", ")
            );
        }
    }
    for (image, e) in failed {
        let _ = writeln!(o, "failed: {image}: {e}");
    }
    o
}
