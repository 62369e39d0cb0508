//! All integration tests in one binary (shared helpers in `util`).

mod util;

mod audit;
mod ci;
mod docker_errors;
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
mod suggest;
mod toolchain;
