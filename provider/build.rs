//! Links the provider binary as a non-PIE executable on Linux.
//!
//! Terraform starts the provider three times per `plan` and waits for it each time. A PIE
//! binary of this size makes the dynamic loader apply ~27,000 relocations and copy-on-write ~120
//! extra pages at every start: ~1 ms of CPU per launch here (`perf stat`, see BENCHMARKS.md).
//! Go-built providers are non-PIE on Linux by default, so this matches what Terraform users
//! already run. The crate's code stays position-independent; only the final link changes.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bin=terraform-provider-momento=-no-pie");
    }
}
