//! Name interning: one shared allocation per distinct symbol, library or version name.

/// One shared allocation per distinct name a thread meets: most undefined symbols (`free`,
/// `__cxa_finalize`, `GLIBC_2.2.5`, …) recur in file after file of a directory or image. The
/// table is emptied when it grows large, which bounds its memory and only costs sharing.
pub fn intern(name: &str) -> std::sync::Arc<str> {
    use std::cell::RefCell;
    use std::hash::BuildHasher;
    const HASH: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x6e61_6d65);
    const MAX: usize = 1 << 16;
    thread_local! {
        static NAMES: RefCell<hashbrown::HashTable<std::sync::Arc<str>>> =
            const { RefCell::new(hashbrown::HashTable::new()) };
    }
    let hash = HASH.hash_one(name.as_bytes());
    NAMES.with_borrow_mut(|names| {
        if let Some(n) = names.find(hash, |n| **n == *name) {
            return n.clone();
        }
        if names.len() >= MAX {
            names.clear();
        }
        let n: std::sync::Arc<str> = name.into();
        names.insert_unique(hash, n.clone(), |n| HASH.hash_one(n.as_bytes()));
        n
    })
}
