//! All integration tests in one binary (shared helpers in `util`).

mod util;

mod fuzz;
mod inspect;
mod matrix;
