//! All integration tests in one binary (shared helpers in `util`).

mod util;

mod audit;
mod ci;
mod conventions;
mod docker_errors;
mod fallback;
mod fixture_images;
mod fuzz;
mod hostile;
mod image;
mod inspect;
mod layout;
mod loader_fidelity;
mod matrix;
mod modules;
mod offline;
mod package;
mod reports;
mod risks;
mod schemas;
mod sources;
mod static_build;
mod suggest;
mod toolchain;
