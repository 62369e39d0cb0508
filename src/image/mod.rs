//! An image's files → [`BaseProfile`](base::BaseProfile): what its loader will find (libc,
//! loaders, search paths, libraries and their symbols), read from the image's filesystem and never
//! by running it; the profile cache; the base aliases.

pub mod aliases;
pub mod archive;
pub mod base;
pub mod cache;
pub mod entry;
pub mod export;
pub mod layers;
pub mod read;
pub mod registry;
pub mod runtime;
pub mod source;
pub mod sources;
