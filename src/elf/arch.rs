//! The names one architecture goes by: its ELF machine, Docker's platform, Debian's multiarch
//! triplet, its loaders' paths. One table for the loader simulation and the probe.

/// One architecture libccheck knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arch {
    /// ELF machine, as [`BinaryProfile::machine`](super::BinaryProfile::machine) names it.
    pub machine: &'static str,
    /// Docker's architecture (`amd64`).
    pub docker: &'static str,
    /// Debian's multiarch triplet (`x86_64-linux-gnu`).
    pub triplet: &'static str,
    pub glibc_loader: &'static str,
    pub musl_loader: &'static str,
}

pub const ARCHES: [Arch; 3] = [
    Arch {
        machine: "x86-64",
        docker: "amd64",
        triplet: "x86_64-linux-gnu",
        glibc_loader: "/lib64/ld-linux-x86-64.so.2",
        musl_loader: "/lib/ld-musl-x86_64.so.1",
    },
    Arch {
        machine: "aarch64",
        docker: "arm64",
        triplet: "aarch64-linux-gnu",
        glibc_loader: "/lib/ld-linux-aarch64.so.1",
        musl_loader: "/lib/ld-musl-aarch64.so.1",
    },
    Arch {
        machine: "i386",
        docker: "386",
        triplet: "i386-linux-gnu",
        glibc_loader: "/lib/ld-linux.so.2",
        musl_loader: "/lib/ld-musl-i386.so.1",
    },
];

/// The architecture of an ELF machine name.
pub fn of_machine(machine: &str) -> Option<&'static Arch> {
    ARCHES.iter().find(|a| a.machine == machine)
}

/// The architecture of a Docker platform's architecture (`amd64`).
pub fn of_docker(docker: &str) -> Option<&'static Arch> {
    ARCHES.iter().find(|a| a.docker == docker)
}

/// [`of_machine`], x86-64 for machines libccheck has no table for (the bases it reads).
pub fn of_machine_or_x86_64(machine: &str) -> &'static Arch {
    of_machine(machine).unwrap_or(&ARCHES[0])
}

impl Arch {
    /// Docker's platform string (`linux/arm64`).
    pub fn platform(&self) -> String {
        format!("linux/{}", self.docker)
    }
}

/// The architecture of a `--platform` value: `linux/amd64`, `linux/arm64` or `linux/386` (the
/// `linux/` may be left out; `arm64/v8` is arm64).
pub fn of_platform(platform: &str) -> Option<&'static Arch> {
    let arch = platform.strip_prefix("linux/").unwrap_or(platform);
    let arch = arch.strip_suffix("/v8").unwrap_or(arch);
    of_docker(arch)
}

/// The platform a program of `machine` runs on by default: its own (a 32-bit x86 program runs
/// on amd64 hosts and images).
pub fn default_for(machine: &str) -> &'static Arch {
    match of_machine(machine) {
        Some(a) if a.machine != "i386" => a,
        _ => &ARCHES[0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_name_their_architectures() {
        assert_eq!(of_platform("linux/arm64").unwrap().machine, "aarch64");
        assert_eq!(of_platform("linux/arm64/v8").unwrap().machine, "aarch64");
        assert_eq!(of_platform("amd64").unwrap().machine, "x86-64");
        assert_eq!(of_platform("linux/386").unwrap().machine, "i386");
        assert_eq!(of_platform("linux/riscv64"), None);
        assert_eq!(of_platform("windows/amd64"), None);
        assert_eq!(ARCHES[1].platform(), "linux/arm64");
        assert_eq!(default_for("aarch64").docker, "arm64");
        assert_eq!(default_for("i386").docker, "amd64");
        assert_eq!(default_for("riscv").docker, "amd64");
    }
}
