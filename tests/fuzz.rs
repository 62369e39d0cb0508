//! No panic on any input: mutate the fixture ELF files (byte flips concentrated on the headers and
//! tables, field overwrites with extreme values, truncation) and parse each result.
//! `PROPTEST_CASES` raises the count (scripts/fuzz.sh runs 100 000).

use proptest::prelude::*;

use crate::util::fixture;

fn corpus() -> &'static Vec<Vec<u8>> {
    static C: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        [
            "hello",
            "hello-cxx",
            "hello-musl",
            "libgreet.so.1",
            "runpath/app-runpath",
            "newer-glibc",
            "hello-i386",
            "hello-aarch64",
            "hello-static-pie",
        ]
        .iter()
        .map(|n| std::fs::read(fixture(n)).unwrap())
        .collect()
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { pos: usize, val: u8 },
    Word { pos: usize, val: u64 },
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..4096, any::<u8>()).prop_map(|(pos, val)| Mutation::Flip { pos, val }),
        (0usize..1 << 20, any::<u8>()).prop_map(|(pos, val)| Mutation::Flip { pos, val }),
        (
            0usize..4096,
            prop_oneof![
                Just(0u64),
                Just(u64::MAX),
                Just(1 << 31),
                Just(0xffff),
                any::<u64>()
            ]
        )
            .prop_map(|(pos, val)| Mutation::Word { pos, val }),
        (0usize..1 << 20).prop_map(Mutation::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]
    #[test]
    fn mutated_elf_never_panics(which in 0usize..9, muts in proptest::collection::vec(mutation(), 1..8)) {
        let mut b = corpus()[which].clone();
        for m in muts {
            match m {
                Mutation::Flip { pos, val } => { let n = b.len(); if n > 0 { b[pos % n] = val; } }
                Mutation::Word { pos, val } => { let n = b.len(); if n >= 8 { let p = (pos % (n - 7)) & !7; b[p..p + 8].copy_from_slice(&val.to_le_bytes()); } }
                Mutation::Truncate(at) => { let n = b.len(); b.truncate(at % (n + 1)); }
            }
        }
        if let Ok(p) = libccheck::elf::parse(&b) {
            let _ = libccheck::elf::needs::runtime_needs(&b, &p);
        }
        let _ = libccheck::elf::needs::with_stack_size(&b, 8 << 20);
        let _ = libccheck::elf::parse_with_exports(&b);
        let _ = libccheck::elf::parse_for_loader(&b);
    }
}
