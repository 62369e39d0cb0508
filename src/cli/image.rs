//! `libccheck image IMAGE`: will this built image start? The image's configuration and files
//! are read through the engine (never starting it first), the pure checks are
//! [`crate::start`]'s, and one probe container of the image verifies them.

use std::collections::BTreeMap;
use std::process::ExitCode;

use super::*;
use crate::audit::verify::{AuditConfig, probe_in};
use crate::audit::{Source, SourceFile};
use crate::image::aliases::Base;
use crate::image::base::BaseProfile;
use crate::image::entry::{self, Config, Start};
use crate::probe::{Job, JobResult};
use crate::start::{self, ImageReport, ProgramCheck};
use crate::suggest::{Size, SizeFrom};
use crate::verdict::{Outcome, Verdict};

pub(super) fn image(a: ImageArgs) -> anyhow::Result<ExitCode> {
    let run_id = new_run_id();
    let rt = runtime()?;
    let report = match rt.block_on(until_interrupted(&run_id, check_image(&a, &run_id)))? {
        Ok(r) => r,
        Err(code) => return Ok(ExitCode::from(code)),
    };
    let text = match a.format {
        AuditFormat::Human => crate::text::printable(&report::image::human(&report)).into_owned(),
        AuditFormat::Json => report::image::json(&report),
        AuditFormat::Markdown => {
            crate::text::printable(&report::image::markdown(&report)).into_owned()
        }
    };
    write_stdout(&text)?;
    let mismatch = !a.allow_mismatch && report::image::mismatches(&report) > 0;
    Ok(ExitCode::from(if mismatch { 2 } else { report.exit_code }))
}

/// The image resolved, read, checked and (unless --no-run) verified.
async fn check_image(a: &ImageArgs, run_id: &str) -> anyhow::Result<ImageReport> {
    let mut images: Vec<&str> = a.to.iter().map(String::as_str).collect();
    images.push(&a.image);
    let engine = connect_for(&images).await?;
    let progress = crate::check::Progress::new(true, 1);
    let found = present_image(&engine, &a.image, a.pull, &progress).await;
    progress.finish();
    let (base, info) = found?;
    if info.arch != "amd64" && !info.arch.is_empty() {
        anyhow::bail!(
            "{}: an image for {}/{}; libccheck checks amd64 images",
            a.image,
            info.os,
            info.arch
        );
    }
    // `--exec` alone starts the image's own command; arguments after `--` replace Cmd.
    let exec_args = a
        .exec
        .then_some(a.args.as_slice())
        .filter(|a| !a.is_empty());
    if info.start.argv(exec_args).is_empty() {
        anyhow::bail!("{}: {}", a.image, entry::StartProblem::NoCommand.describe());
    }
    let (source, profile) = tokio::join!(
        crate::image::export::with_image_tar(
            &engine,
            &base.image,
            run_id,
            crate::audit::source::source_from_tar
        ),
        crate::image::export::profile(&engine, &base.image, &info.id, run_id)
    );
    let (source, profile) = (source?, profile?);
    let mut checked = Checked::new(
        &a.image,
        &info.id,
        &info.start,
        &source,
        &profile,
        exec_args,
        a.exec,
    );
    let cannot_run = match a.no_run {
        true => None,
        false => crate::check::why_unverifiable(&engine, &base.image),
    };
    if !a.no_run && cannot_run.is_none() {
        let cfg = AuditConfig {
            targets: vec![],
            all: false,
            no_run: false,
            timeout: std::time::Duration::from_secs(a.timeout),
            sandbox: Sandbox::default(),
            pull: a.pull,
        };
        let jobs = checked.jobs();
        let results = probe_in(&engine, &base.image, &jobs, &cfg, None, run_id).await?;
        checked.verified(&results);
    }
    let mut report = checked.report(a.no_run || cannot_run.is_some());
    report.unverified = cannot_run;
    let to = alternatives(&engine, &a.to, a.pull, run_id).await?;
    let current = info.size.map(|bytes| Size {
        bytes,
        from: SizeFrom::Local,
    });
    report.smaller = Some(checked.smaller(report.program.as_ref(), current, &to, a.suggest));
    // The process ends after the report: freeing every file's profile costs more than it saves.
    std::mem::forget(source);
    Ok(report)
}

/// The `--to` bases as alternatives: name, image, local size and profile.
async fn alternatives(
    engine: &AnyEngine,
    to: &[String],
    pull: crate::check::PullPolicy,
    run_id: &str,
) -> anyhow::Result<Vec<(Base, Option<Size>, BaseProfile)>> {
    if to.is_empty() {
        return Ok(vec![]);
    }
    let bases = aliases::resolve_all_in(to, &crate::catalog::names(Default::default()))
        .map_err(anyhow::Error::msg)?;
    let progress = crate::check::Progress::new(!bases.is_empty(), bases.len());
    let infos = crate::check::ensure_images_online(engine, &bases, pull, &progress).await;
    progress.finish();
    let mut out = Vec::new();
    for b in bases {
        let info = infos
            .get(&b.image)
            .cloned()
            .unwrap_or_else(|| Err("image was not resolved".into()))
            .map_err(|e| anyhow::anyhow!("--to {}: {e}", b.name))?;
        let profile = crate::image::export::profile(engine, &b.image, &info.id, run_id).await?;
        let size = info.size.map(|bytes| Size {
            bytes,
            from: SizeFrom::Local,
        });
        out.push((b, size, profile));
    }
    Ok(out)
}

/// An image being checked: what its container runs, the programs on that way, the application's
/// files, and (once verified) what the probe saw.
struct Checked<'a> {
    image: String,
    image_id: String,
    config: &'a Config,
    source: &'a Source,
    profile: &'a BaseProfile,
    start: Start,
    /// The shell's command, for a shell-form command that names a program.
    shell_start: Option<Start>,
    /// `--exec`: start the entrypoint too.
    exec: bool,
    results: Option<Vec<JobResult>>,
}

impl<'a> Checked<'a> {
    fn new(
        image: &str,
        image_id: &str,
        config: &'a Config,
        source: &'a Source,
        profile: &'a BaseProfile,
        exec_args: Option<&'a [String]>,
        exec: bool,
    ) -> Self {
        let start = entry::resolve(config, source, exec_args);
        let shell_start = start::shell_program(&start).map(|word| {
            let shell_cmd = Config {
                entrypoint: vec![word],
                cmd: vec![],
                ..config.clone()
            };
            entry::resolve(&shell_cmd, source, None)
        });
        Checked {
            image: image.to_string(),
            image_id: image_id.to_string(),
            config,
            source,
            profile,
            start,
            shell_start,
            exec: exec_args.is_some() || exec,
            results: None,
        }
    }

    /// The ELF file of the source at `path`.
    fn file(&self, path: &str) -> Option<&'a SourceFile> {
        self.source.files.iter().find(|f| f.path == path)
    }

    /// The programs on the way: the one the container runs, then the one its shell runs.
    fn programs(&self) -> Vec<(&'static str, &'a SourceFile)> {
        let of = |s: &Start| s.program.as_deref().and_then(|p| self.file(p));
        [
            ("entry", Some(&self.start)),
            ("shellcmd", self.shell_start.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, s)| Some((name, of(s?)?)))
        .collect()
    }

    /// The probe's jobs: the loader on every application file and on each program, and with
    /// --exec the entrypoint itself with the image's environment.
    fn jobs(&self) -> Vec<Job> {
        let mut jobs = crate::audit::verify::audit_jobs(self.source, false, self.profile);
        for (name, f) in self.programs() {
            let scope = crate::audit::host_scope(f, self.profile);
            jobs.extend(
                crate::probe::jobs::load_jobs(&f.lib.profile, &f.path, name)
                    .into_iter()
                    .map(|j| crate::probe::jobs::with_host_scope(j, scope)),
            );
        }
        if self.exec
            && self.start.problem.is_none()
            && let Some(first) = self.start.steps.first()
        {
            let mut argv = vec![first.at.clone()];
            argv.extend(self.start.argv.iter().skip(1).cloned());
            jobs.push(Job {
                name: "exec".into(),
                env: self.config.env.clone(),
                argv,
            });
        }
        jobs
    }

    fn verified(&mut self, results: &[JobResult]) {
        self.results = Some(results.to_vec());
    }

    fn job_outcome(&self, profile: &crate::elf::BinaryProfile, name: &str) -> Option<Outcome> {
        let results = self.results.as_ref()?;
        let find = |n: &str| results.iter().find(|r| r.name == n);
        crate::probe::jobs::load_outcome(profile, find, name, "/nonexistent").map(|mut o| {
            crate::loader::host::leave_to_host(
                profile.kind,
                &mut o.verdict,
                &mut o.reason,
                &mut o.problems,
            );
            o
        })
    }

    fn program_check(&self, name: &str, f: &SourceFile) -> ProgramCheck {
        let prediction = start::predict_program(f, self.profile, &self.config.user);
        let load = self.results.as_ref().map(|_| {
            self.job_outcome(&f.lib.profile, name)
                .unwrap_or_else(|| Outcome::new(Verdict::Ok, "static: no loader involved"))
        });
        start::program_check(&f.path, self.source.is_packaged(&f.path), prediction, load)
    }

    fn report(&self, no_run: bool) -> ImageReport {
        let mut checks: BTreeMap<&str, ProgramCheck> = self
            .programs()
            .into_iter()
            .map(|(name, f)| (name, self.program_check(name, f)))
            .collect();
        let exec = self.results.as_ref().and_then(|rs| {
            let j = rs.iter().find(|r| r.name == "exec")?;
            let interp = self
                .start
                .program
                .as_deref()
                .and_then(|p| self.file(p))
                .and_then(|f| f.lib.profile.interpreter.clone());
            Some(crate::probe::classify::classify(
                j,
                crate::probe::classify::ProbeKind::Exec,
                interp.as_deref(),
                "/nonexistent",
            ))
        });
        let user = start::check_user(self.config, self.profile);
        let program = checks.remove("entry");
        let shell_command = checks.remove("shellcmd");
        let programs: Vec<&ProgramCheck> = program.iter().chain(shell_command.iter()).collect();
        let starts: Vec<&Start> = std::iter::once(&self.start)
            .chain(self.shell_start.as_ref())
            .collect();
        let (ok, why_not) = start::decide(&starts, &user, &programs, exec.as_ref());
        let risks = program
            .as_ref()
            .map(|p| p.prediction.risks.clone())
            .unwrap_or_default();
        ImageReport {
            schema: "libccheck/image/v1",
            tool: crate::text::Tool::current(),
            image: self.image.clone(),
            image_id: self.image_id.clone(),
            os: self.profile.os.clone(),
            libc: self.profile.describe_libc(),
            config: self.config.clone(),
            start: self.start.clone(),
            shell_start: self.shell_start.clone(),
            program,
            shell_command,
            user,
            exec,
            risks,
            files: self.files(),
            smaller: None,
            starts: ok,
            why_not,
            mode: if no_run { "no_run" } else { "run" },
            unverified: None,
            exit_code: start::exit_code(ok),
        }
    }

    /// The application's files on another base, each prediction with its run-time risks where
    /// it loads.
    fn on_base(&self, base: &BaseProfile) -> Vec<(String, crate::loader::Prediction)> {
        crate::audit::predict_all(self.source, false, base)
            .into_iter()
            .map(|(path, mut p)| {
                if p.verdict == Verdict::Ok
                    && let Some(f) = self.file(&path)
                {
                    let side = crate::risks::BaseSide::of(base, &self.config.user);
                    p.risks = crate::risks::assess(&f.lib.profile, &f.needs, &side);
                }
                (path, p)
            })
            .collect()
    }

    /// Smaller bases the application would run on: the offline catalog's and `to`, predicted.
    fn smaller(
        &self,
        program: Option<&ProgramCheck>,
        current: Option<Size>,
        to: &[(Base, Option<Size>, BaseProfile)],
        full: bool,
    ) -> start::Smaller {
        if let Some(why) = start::not_movable(&self.start, program) {
            return start::Smaller {
                current,
                smaller: vec![],
                ranking: vec![],
                why_none: Some(why),
            };
        }
        let shell = self.start.shell_form;
        let catalog = crate::catalog::profiles().iter().map(|(e, bp)| {
            let files = self.on_base(bp);
            start::candidate(&e.name, &e.image, e.image_size(), &files, shell, bp.shell)
        });
        let given = to.iter().map(|(b, size, bp)| {
            let files = self.on_base(bp);
            start::candidate(&b.name, &b.image, *size, &files, shell, bp.shell)
        });
        start::smaller_bases(current, given.chain(catalog).collect(), full)
    }

    /// The application's other files, predicted on the image and verified like an audit's (the
    /// programs on the way are reported first, on their own).
    fn files(&self) -> start::FilesSummary {
        let programs: Vec<&str> = self
            .programs()
            .iter()
            .map(|(_, f)| f.path.as_str())
            .collect();
        let predictions = crate::audit::predict_all(self.source, false, self.profile)
            .into_iter()
            .filter(|(path, _)| !programs.contains(&path.as_str()))
            .collect();
        let verified = self
            .results
            .as_ref()
            .map(|rs| crate::audit::verify::outcomes(self.source, false, rs));
        let (files, groups) =
            crate::audit::assemble(self.source, self.profile, predictions, verified.as_ref());
        start::FilesSummary {
            checked: files.len(),
            broken: files.iter().filter(|f| f.verdict != Verdict::Ok).count(),
            mismatches: files.iter().filter(|f| f.agree == Some(false)).count(),
            risks: crate::audit::group_risks(&files),
            groups,
            files,
        }
    }
}
