//! Symbol-version names such as `GLIBC_2.34` or `GLIBCXX_3.4.30`, compared numerically.

use std::cmp::Ordering;

/// Is `name` `<prefix><digits>(.<digits>)*` (`GLIBC_2.3.4` is, `GLIBC_PRIVATE` is not)?
pub fn is_numeric(name: &str, prefix: &str) -> bool {
    numbers(name, prefix).is_some()
}

/// The family prefix of a version name: `GLIBC_`, `GLIBCXX_`, `CXXABI_`, `GCC_`, … (everything up to
/// and including the last `_` before the numbers).
pub fn family(name: &str) -> &str {
    match memchr::memrchr(b'_', name.as_bytes()) {
        Some(i) if name.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit) => &name[..=i],
        _ => name,
    }
}

/// The dotted numbers after `prefix` when the name is `<prefix><digits>(.<digits>)*`, each part
/// fitting a `u32` (no allocation: sorting calls this for every comparison).
fn numbers<'a>(name: &'a str, prefix: &str) -> Option<impl Iterator<Item = u32> + 'a> {
    let rest = name.strip_prefix(prefix)?.as_bytes();
    // One pass to check: digits and single dots, no empty part, no part past u32::MAX.
    let mut part = 0u32;
    let mut digits = 0;
    for &c in rest {
        if c == b'.' && digits > 0 {
            (part, digits) = (0, 0);
        } else if c.is_ascii_digit() {
            part = part.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
            digits += 1;
        } else {
            return None;
        }
    }
    (digits > 0).then(|| {
        rest.split(|&b| b == b'.')
            .map(|p| p.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
    })
}

/// Compare two names of the same family numerically; non-numeric names sort first.
pub fn compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let fa = family(a);
    let fb = family(b);
    match (numbers(a, fa), numbers(b, fb)) {
        (Some(x), Some(y)) => fa.cmp(fb).then_with(|| x.cmp(y)),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => a.cmp(b),
    }
}

/// `GLIBC_2.34` → `"2.34"`; `None` for non-numeric GLIBC names.
pub fn glibc_number(name: &str) -> Option<&str> {
    is_numeric(name, "GLIBC_").then(|| &name["GLIBC_".len()..])
}

/// A release number such as `2.36` as comparable parts.
pub fn dotted(s: &str) -> Option<Vec<u32>> {
    numbers(s, "").map(Iterator::collect)
}

/// The release in glibc's banner, which `libc.so.6` holds and prints ("GNU C Library (Debian
/// GLIBC 2.31-13) stable release version 2.31.") — the highest GLIBC_ symbol version (2.30
/// there) does not always tell it.
pub fn glibc_release(banner: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"release version ";
    let i = banner.windows(KEY.len()).position(|w| w == KEY)?;
    let v: String = banner[i + KEY.len()..]
        .iter()
        .take(12)
        .map(|&b| b as char)
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let v = v.trim_end_matches('.');
    (!v.is_empty()).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ordering_is_not_lexical() {
        assert_eq!(compare("GLIBC_2.9", "GLIBC_2.10"), Ordering::Less);
        assert_eq!(compare("GLIBC_2.3.4", "GLIBC_2.3"), Ordering::Greater);
        assert_eq!(compare("GLIBC_PRIVATE", "GLIBC_2.2.5"), Ordering::Less);
        let parts = |n, p| numbers(n, p).map(|x| x.collect::<Vec<_>>());
        assert_eq!(parts("GLIBCXX_3.4.30", "GLIBCXX_"), Some(vec![3, 4, 30]));
        assert_eq!(parts("GLIBC_PRIVATE", "GLIBC_"), None);
        assert!(is_numeric("GLIBC_2.3.4", "GLIBC_") && !is_numeric("GLIBC_2.x", "GLIBC_"));
        assert_eq!(family("GLIBCXX_3.4.30"), "GLIBCXX_");
        assert_eq!(family("GLIBC_ABI_DT_RELR"), "GLIBC_ABI_DT_RELR");
        assert_eq!(glibc_number("GLIBC_2.34"), Some("2.34"));
        // Many parts, an empty last part, a part past u32::MAX (not numeric: sorts first).
        assert_eq!(
            compare("V_1.2.3.4.5.6.7", "V_1.2.3.4.5.6"),
            Ordering::Greater
        );
        assert_eq!(
            compare("V_1.2.3.4.5.7", "V_1.2.3.4.5.6.9"),
            Ordering::Greater
        );
        assert_eq!(compare("V_1.2", "V_1.2."), Ordering::Greater);
        assert_eq!(compare("GLIBC_2.99999999999", "GLIBC_2.1"), Ordering::Less);
    }
}
