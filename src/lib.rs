//! libccheck: on which base images will this Linux binary run, and if not, why?
//!
//! The stages, each in its own module, imports running one way (a module uses only those above it):
//! - [`text`], [`verdict`], [`term`]: shared helpers, the verdict vocabulary, the terminal
//!   conventions (colour, quiet) (leaves);
//! - [`suggest`]: the checked bases ranked by image size, the smallest that works (pure; uses
//!   only the verdicts);
//! - [`elf`]: ELF bytes → `BinaryProfile` (pure);
//! - [`image`]: an image's files → `BaseProfile`, the profile cache, base aliases;
//! - [`loader`]: the glibc and musl loader simulation → `Prediction` (pure);
//! - [`cpu`]: x86-64 ISA levels: a program's note × a CPU's flags × the loader that enforces it
//!   (pure);
//! - [`catalog`], [`advice`]: the offline catalog of public bases; fix hints for a prediction;
//! - [`probe`]: the in-container probe's protocol, its jobs, the classification of what it saw,
//!   and the agreement of prediction and run;
//! - [`docker`]: the only Engine API code (behind the `Engine` trait), uploads, container owners;
//! - [`risks`]: run-time needs of a binary × run-time facts of a base → risks (pure);
//! - [`check`], [`audit`], [`inspect`], [`start`]: the jobs (a binary across bases, a whole tree, ELF
//!   facts, will a built image start);
//! - [`package`]: a wheel, jar or directory across bases (the audit's machinery, a wheel's tags);
//! - [`report`]: one renderer per format;
//! - [`cli`]: arguments, settings, dispatch.

pub mod advice;
pub mod audit;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod cpu;
pub mod docker;
pub mod elf;
pub mod fast;
pub mod files;
pub mod image;
pub mod inspect;
pub mod loader;
pub mod package;
pub mod probe;
pub mod report;
pub mod risks;
pub mod start;
pub mod suggest;
pub mod term;
pub mod text;
pub mod verdict;
