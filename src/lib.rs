//! libccheck: on which base images will this Linux binary run, and if not, why?
//!
//! Pure logic lives in [`elf`] (profiles from bytes) and [`report`] (formats); host file access in
//! [`inspect`]; the command line in [`cli`].

pub mod bases;
pub mod classify;
pub mod cli;
pub mod docker;
pub mod elf;
pub mod inspect;
pub mod probe;
pub mod report;
pub mod run;
