//! libccheck: on which base images will this Linux binary run, and if not, why?
//!
//! Pure logic lives in [`elf`] (profiles from bytes) and [`report`] (formats); host file access in
//! [`inspect`]; the command line in [`cli`].

pub mod audit;
pub mod audit_run;
pub mod base;
pub mod bases;
pub mod catalog;
pub mod classify;
pub mod cli;
pub mod config;
pub mod docker;
pub mod elf;
pub mod hints;
pub mod inspect;
pub mod owner;
pub mod predict;
pub mod probe;
pub mod profiles;
pub mod report;
pub mod run;
pub mod shared_bytes;
pub mod upload;
