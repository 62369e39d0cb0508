//! Modules and their host program: a Python extension leaves `Py*` undefined on purpose, a
//! Node-API addon `napi_*`, a Perl XS module `Perl_*`: the interpreter that loads them provides
//! those symbols, so they are not the base's problem. Pure.

use crate::elf::Kind;
use crate::verdict::{self, Problem, Verdict};

/// The host program that provides `symbol` to the modules it loads: Python's C API (`Py*`,
/// `_Py*`), Node-API (`napi_*`, `node_api_*`), Perl's (`Perl*`, `PL_*`), Ruby's (`rb_*`,
/// `ruby_*`), Lua's (`lua_*`, `luaL_*`), and a debugger's proc_service for libthread_db (`ps_*`).
pub fn host_provided(symbol: &str) -> Option<&'static str> {
    const HOSTS: &[(&[&str], &str)] = &[
        (&["Py", "_Py"], "Python"),
        (&["napi_", "node_api_"], "Node.js"),
        (&["Perl", "PL_"], "Perl"),
        (&["rb_", "ruby_"], "Ruby"),
        (&["lua_", "luaL_"], "Lua"),
        (&["ps_"], "a debugger (proc_service)"),
    ];
    HOSTS
        .iter()
        .find(|(prefixes, _)| prefixes.iter().any(|p| symbol.starts_with(p)))
        .map(|(_, host)| *host)
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
        Some(format!(
            "{} symbols ({symbol}, …) are left to the host program that loads this module ({host_name}); not a problem",
            host.len()
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
