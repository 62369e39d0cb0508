//! The terminal conventions of one process: whether to paint (`--color`, `NO_COLOR`,
//! `CLICOLOR_FORCE`) and whether to show progress (`-q`). Set once by the command line before any
//! output; every painter and progress display asks here, so one switch governs them all.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Paint when the stream is a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it).
    #[default]
    Auto,
    /// Always paint, even into a pipe or a file.
    Always,
    /// Never paint.
    Never,
}

/// What the environment says about colour (https://no-color.org, CLICOLOR_FORCE).
#[derive(Debug, Clone, Copy, Default)]
pub struct ColorEnv {
    /// `NO_COLOR` set to a non-empty value.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` set to a value other than `0`.
    pub force: bool,
}

impl ColorEnv {
    pub fn from_process() -> ColorEnv {
        let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        ColorEnv {
            no_color: set("NO_COLOR").is_some(),
            force: set("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
        }
    }
}

/// Whether to paint one stream. The flag wins over the environment; under `auto`, NO_COLOR wins
/// over CLICOLOR_FORCE, which wins over the terminal test.
pub fn decide_color(choice: ColorChoice, env: ColorEnv, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if env.no_color => false,
        ColorChoice::Auto => env.force || is_terminal,
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Settings {
    color: ColorChoice,
    quiet: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Record the process's choices; the first call wins (later calls, e.g. from tests, are ignored).
pub fn init(color: ColorChoice, quiet: bool) {
    let _ = SETTINGS.set(Settings { color, quiet });
}

fn settings() -> Settings {
    SETTINGS.get().copied().unwrap_or_default()
}

/// Paint what goes to standard output?
pub fn color_stdout() -> bool {
    decide_color(
        settings().color,
        ColorEnv::from_process(),
        std::io::stdout().is_terminal(),
    )
}

/// Paint what goes to standard error (log lines)?
pub fn color_stderr() -> bool {
    decide_color(
        settings().color,
        ColorEnv::from_process(),
        std::io::stderr().is_terminal(),
    )
}

/// `-q`: no progress display and no informational lines on stderr.
pub fn quiet() -> bool {
    settings().quiet
}

/// Show a progress display? Only on a terminal (a CI log or a pipe gets none), and never with -q.
pub fn progress_wanted() -> bool {
    !quiet() && std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: ColorEnv = ColorEnv {
        no_color: false,
        force: false,
    };

    #[test]
    fn the_flag_beats_the_environment() {
        let both = ColorEnv {
            no_color: true,
            force: true,
        };
        assert!(decide_color(ColorChoice::Always, both, false));
        assert!(!decide_color(ColorChoice::Never, both, true));
    }

    #[test]
    fn auto_follows_no_color_then_force_then_the_terminal() {
        let no_color = ColorEnv {
            no_color: true,
            force: false,
        };
        let force = ColorEnv {
            no_color: false,
            force: true,
        };
        assert!(decide_color(ColorChoice::Auto, NONE, true));
        assert!(!decide_color(ColorChoice::Auto, NONE, false));
        assert!(!decide_color(ColorChoice::Auto, no_color, true));
        assert!(decide_color(ColorChoice::Auto, force, false));
        let both = ColorEnv {
            no_color: true,
            force: true,
        };
        assert!(!decide_color(ColorChoice::Auto, both, true));
    }
}
