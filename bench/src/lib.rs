//! momento-bench: the project's benchmark suite. One run measures the mock's webhook fan-out
//! against the loopback HTTP limit, gRPC publish against a no-op gRPC call, subscriber fan-out,
//! the provider under the real `terraform` against `terraform_data`, the provider's handshake
//! time and the mock's memory under a dead destination (see `BENCHMARKS.md`).
//!
//! Every scenario is a plain function over its parameters (`full()` sizes for `make bench`, tiny
//! ones in `tests/smoke.rs`) that builds its own runtimes, so it runs from `main` or a test alike.

pub mod fanout;
pub mod grpc;
pub mod handshake;
pub mod memory;
pub mod provider;
pub mod publish;
pub mod report;
pub mod sink;
pub mod stall_probe;
pub mod subscribers;
pub mod util;
