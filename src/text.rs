//! Text helpers shared by every stage: short lists, one-line I/O errors, and making untrusted
//! strings safe to print. A leaf: imports nothing of the crate.

/// The program that wrote a JSON report, recorded in every one (`"tool": {"name", "version"}`), so
/// a report read later says which libccheck's rules made it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    /// This build of libccheck.
    pub fn current() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// An I/O error's message without Rust's ` (os error N)` suffix: "No such file or directory".
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.split_once(" (os error") {
        Some((m, _)) => m.to_string(),
        None => s,
    }
}

/// Container paths as the user knows them: `/libccheck/app/x` below `/libccheck/app` → `x`;
/// other paths as they are.
pub fn below(path: &str, dir: &str) -> String {
    path.strip_prefix(dir)
        .map(|p| p.trim_start_matches('/').to_string())
        .unwrap_or_else(|| path.to_string())
}

/// `a, b, c and 4 more`
pub fn short_list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let join = |items: &[S]| {
        let v: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
        v.join(", ")
    };
    if items.len() <= max {
        return join(items);
    }
    format!("{} and {} more", join(&items[..max]), items.len() - max)
}
/// `s` safe to print on a terminal or in Markdown: control characters (escape sequences that
/// could move the cursor, retitle the window or hide text) and bidirectional overrides are shown
/// as `\x1b` / `\u{202e}` escapes; line breaks and tabs stay. ELF strings (sonames, paths,
/// symbol names) come from the untrusted file.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    escaped(s, |c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// One field of a report [`printable`], its line breaks and tabs escaped too: a name from an ELF
/// file must not start a line of its own (and so draw a row of the table).
pub fn printable_field(s: &str) -> std::borrow::Cow<'_, str> {
    escaped(s, |c| {
        c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
    })
}

fn escaped(s: &str, unsafe_char: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(&unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if unsafe_char(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Every string inside a JSON value made [`printable_field`].
pub fn printable_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(p) = printable_field(s) {
                *s = p;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(printable_json),
        serde_json::Value::Object(o) => o.values_mut().for_each(printable_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(printable("libfoo.so.1"), "libfoo.so.1");
        assert_eq!(
            printable("lib\x1b]0;pwned\x07x.so\x1b[2J"),
            "lib\\x1b]0;pwned\\x07x.so\\x1b[2J"
        );
        assert_eq!(
            printable("a\u{9b}b\u{202e}c\x7f"),
            "a\\u{9b}b\\u{202e}c\\x7f"
        );
        assert_eq!(printable("two\nlines\tand a tab"), "two\nlines\tand a tab");
        let mut v = serde_json::json!({"a": ["x\x1by", 1], "b": {"c": "\r"}});
        printable_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["x\\x1by", 1], "b": {"c": "\\x0d"}})
        );
        assert_eq!(
            printable_field("li\n  ok\tx\u{2028}"),
            "li\\x0a  ok\\x09x\\u{2028}"
        );
    }
}
