//! Command-line conventions: completions, the man page, colour switches, usage errors, --version,
//! -v's info events, -q's silence, and the progress display on a terminal only.

use crate::util::*;

const ESC: &str = "\x1b[";

fn completions(shell: &str) -> String {
    let o = run(&["completions", shell]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    o.stdout
}

#[test]
fn completions_name_the_subcommands_and_their_flags() {
    let bash = completions("bash");
    for word in [
        "inspect",
        "audit",
        "bases",
        "completions",
        "--image",
        "--to",
        "--offline",
        "--color",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    assert!(bash.contains("complete -F _libccheck"), "{bash}");
    let zsh = completions("zsh");
    assert!(zsh.starts_with("#compdef libccheck"), "{zsh}");
    for word in ["inspect", "audit", "--no-run", "--quiet", "always", "never"] {
        assert!(zsh.contains(word), "zsh completion lacks {word}");
    }
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("invalid value 'tcsh'"), "{}", o.stderr);
}

#[test]
fn the_man_page_documents_the_options() {
    let o = run(&["man"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains(".TH libccheck 1"), "{}", o.stdout);
    for word in ["\\-\\-offline", "\\-\\-color", "inspect", "audit"] {
        assert!(o.stdout.contains(word), "the man page lacks {word}");
    }
}

/// An offline check: a human report with painted verdicts, no Docker needed.
fn offline_report(args: &[&str], env: &[(&str, &str)]) -> String {
    let hello = fixture("hello");
    let mut c = libccheck();
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c
        .args(["--offline", "-b", "debian12-slim"])
        .args(args)
        .arg(&hello)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn colour_switches() {
    // Standard output is a pipe here: auto does not paint.
    assert!(!offline_report(&[], &[]).contains(ESC));
    assert!(offline_report(&["--color", "always"], &[]).contains(ESC));
    assert!(offline_report(&[], &[("CLICOLOR_FORCE", "1")]).contains(ESC));
    assert!(!offline_report(&[], &[("CLICOLOR_FORCE", "0")]).contains(ESC));
    assert!(!offline_report(&[], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]).contains(ESC));
    assert!(offline_report(&["--color=always"], &[("NO_COLOR", "1")]).contains(ESC));
    assert!(!offline_report(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]).contains(ESC));
    let o = run(&["--color", "sometimes", "inspect", "x"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("[possible values: auto, always, never]"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_binary_before_a_subcommand_is_a_usage_error() {
    // `inspect` lacks its paths: clap says so first.
    let o = run(&["hello", "inspect"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = run(&["hello", "inspect", "hello"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .starts_with("error: 'hello' comes before the subcommand `inspect`"),
        "{}",
        o.stderr
    );
    let o = run(&["-b", "alpine", "bases"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("--base before the subcommand `bases` is an option of the check"),
        "{}",
        o.stderr
    );
    let help = run(&["--help"]).stdout;
    assert!(
        help.contains(
            "Usage: libccheck [OPTIONS] <BINARY> [-- <ARGS>...]\n       libccheck [OPTIONS] <COMMAND>"
        ),
        "{help}"
    );
    let audit = run(&["audit", "--help"]).stdout;
    assert!(
        audit.contains(
            "Usage: libccheck audit [OPTIONS] --to <BASE> <DIR|--image <IMAGE>|--images-from <FILE>>"
        ),
        "{audit}"
    );
    let o = run(&["audit", "--to", "alpine"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("<DIR|--image <IMAGE>|--images-from <FILE>>"),
        "{}",
        o.stderr
    );
}

#[test]
fn version_names_the_commit_and_the_probe() {
    let o = run(&["--version"]);
    assert_eq!(o.code, 0);
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let want = format!(
        "libccheck {}\ncommit: {commit}\nprobe: ",
        env!("CARGO_PKG_VERSION")
    );
    assert!(o.stdout.starts_with(&want), "{}", o.stdout);
    assert!(
        o.stdout.contains("(probes/probe.c, built with "),
        "{}",
        o.stdout
    );
    let short = run(&["-V"]).stdout;
    assert_eq!(
        short,
        format!(
            "libccheck {} (commit {commit})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

fn no_run_on_bookworm(flags: &[&str]) -> Output {
    let cache = tempfile::tempdir().unwrap();
    let hello = fixture("hello");
    let o = libccheck()
        .env("LIBCCHECK_CACHE_DIR", cache.path())
        .args(flags)
        .args(["--no-run", "-b", image("bookworm")])
        .arg(&hello)
        .output()
        .unwrap();
    Output::from(o)
}

#[test]
fn verbose_logs_which_image_which_step_and_how_long() {
    if !docker() {
        return;
    }
    let o = no_run_on_bookworm(&["-v"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let bookworm = image("bookworm");
    let line = |what: &str| {
        o.stderr
            .lines()
            .find(|l| l.contains(" INFO ") && l.contains(what))
            .unwrap_or_else(|| panic!("no info event {what:?} in:\n{}", o.stderr))
            .to_string()
    };
    assert!(line("present locally").contains(&format!("image=\"{bookworm}\"")));
    let profiled = line("profiled");
    assert!(
        profiled.contains(bookworm) && profiled.contains(" ms="),
        "{profiled}"
    );
    let predicted = line("predicted");
    assert!(
        predicted.contains("verdict=ok") && predicted.contains(" ms="),
        "{predicted}"
    );
    assert!(!o.stderr.contains('\r'), "no progress display into a pipe");
}

#[test]
fn quiet_prints_nothing_on_stderr() {
    if !docker() {
        return;
    }
    let o = no_run_on_bookworm(&["-q"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stderr, "");
    assert!(
        o.stdout.contains("predicted to work on 1 of 1 bases"),
        "{}",
        o.stdout
    );
    let o = run(&["-q", "-v", "inspect", "x"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("cannot be used with"), "{}", o.stderr);
}

/// Run libccheck under a pseudo-terminal (util-linux `script`), where progress is drawn.
fn on_a_terminal(flags: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin("libccheck");
    let hello = fixture("hello");
    let cache = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} {flags} --no-run -b {} {}",
        bin.display(),
        image("bookworm"),
        hello.display()
    );
    let o = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("LIBCCHECK_CACHE_DIR", cache.path())
        .env("NO_COLOR", "1")
        // A terminal that can rewrite a line (indicatif draws nothing on a dumb one).
        .env("TERM", "xterm")
        .output()
        .expect("script (util-linux)");
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn progress_is_drawn_on_a_terminal_unless_quiet() {
    if !docker() {
        return;
    }
    let shown = on_a_terminal("");
    assert!(shown.contains("[1/1]"), "{shown:?}");
    let quiet = on_a_terminal("-q");
    assert!(
        !quiet.contains("[0/1]") && !quiet.contains("[1/1]"),
        "{quiet:?}"
    );
    assert!(
        quiet.contains("predicted to work on 1 of 1 bases"),
        "{quiet:?}"
    );
}
