//! Modules and their host program: a Python extension leaves `Py*` undefined on purpose, a
//! Node-API addon `napi_*`, a Perl XS module `Perl_*`: the interpreter that loads them provides
//! those symbols, so they are not the base's problem. Pure.

use crate::elf::Kind;
use crate::elf::module::Host;
use crate::verdict::{self, Problem, Verdict};

/// The host program that provides `symbol` to the modules it loads (Python's C API, Node-API,
/// Perl's, Ruby's, Lua's), or a debugger's proc_service for libthread_db (`ps_*`).
pub fn host_provided(symbol: &str) -> Option<&'static str> {
    Host::ALL
        .into_iter()
        .find(|h| h.provides(symbol))
        .map(Host::name)
        .or_else(|| {
            symbol
                .starts_with("ps_")
                .then_some("a debugger (proc_service)")
        })
}

/// Drop missing-symbol problems a host program would satisfy (shared objects only); a note says so.
pub fn without_host_symbols(kind: Kind, problems: Vec<Problem>) -> (Vec<Problem>, Option<String>) {
    if kind != Kind::SharedObject {
        return (problems, None);
    }
    let (host, rest): (Vec<Problem>, Vec<Problem>) = problems.into_iter().partition(
        |p| matches!(p, Problem::MissingSymbol { symbol, .. } if host_provided(symbol).is_some()),
    );
    let note = host.first().and_then(|p| {
        let symbol = p.missing_symbol()?;
        let host_name = host_provided(symbol).unwrap_or("the host");
        let count = match host.len() {
            1 => format!("1 symbol ({symbol}) is"),
            n => format!("{n} symbols ({symbol}, …) are"),
        };
        Some(format!(
            "{count} left to the host program that loads this module ({host_name}); not a problem"
        ))
    });
    (rest, note)
}

/// A module's verdict, reason and problems (of a prediction or of a load probe's outcome) with
/// the symbols its host provides left to the host: the problems that remain decide; none left,
/// the module loads and the reason says why.
pub fn leave_to_host(
    kind: Kind,
    verdict: &mut Verdict,
    reason: &mut String,
    problems: &mut Vec<Problem>,
) {
    let (rest, note) = without_host_symbols(kind, std::mem::take(problems));
    if let Some(note) = note {
        if rest.is_empty() && *verdict == Verdict::MissingSymbol {
            (*verdict, *reason) = (Verdict::Ok, format!("loads; {note}"));
        } else {
            *verdict = rest.iter().map(Problem::verdict).min().unwrap_or(*verdict);
            *reason = verdict::summarize(&rest);
        }
    }
    *problems = rest;
}
