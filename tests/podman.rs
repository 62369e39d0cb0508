//! Podman as the engine (its Docker-compatible API, rootful, Debian's podman 4.3): the run matrix
//! of fixtures/expected.tsv, profiles, audit verification and `image` against it, and a missing
//! service. The service and its images come from util::podman().

use crate::matrix::{Engine, check_rows_on};
use crate::util::*;

/// Every row (load and exec probes) on every base: the whole table takes about as long as on
/// Docker (~100 s here), so no subset is needed.
#[test]
fn expected_table_on_podman() {
    let Some(host) = podman() else { return };
    check_rows_on(
        Engine {
            host: Some(&host),
            bases: &[],
        },
        |_| true,
    );
}
