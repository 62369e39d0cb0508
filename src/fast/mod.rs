//! The speed tricks, in one place, each with a test that proves it changes no result:
//! - [`shared_bytes`]: the profile cache is mapped and decoded in place; encoded library profiles
//!   and export tables stay slices of the mapping (`image::cache` tests: a cached profile reads back
//!   equal, its export tables shared);
//! - [`lazy`]: a library's profile is decoded from the cache only when a prediction reaches it
//!   (`image::base` tests: cached library profiles round trip unchanged);
//! - [`intern`]: one allocation per distinct name across files (`elf` parse tests);
//! - `elf::loader_ranges` reads only the parts of a file the loader looks at, and
//!   `loader::ScopeMemo` shares symbol lookups across an audit (their own "changes nothing" tests).

pub mod intern;
pub mod lazy;
pub mod shared_bytes;
