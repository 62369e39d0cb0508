//! All integration tests in one binary (shared helpers in `util`).

mod util;

mod arm64;
mod audit;
mod ci;
mod conventions;
mod cpu_level;
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
mod podman;
mod reports;
mod risks;
mod schemas;
mod sources;
mod static_build;
mod suggest;
mod toolchain;
