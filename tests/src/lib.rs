//! Acceptance-test harness for `terraform-provider-momento`: each test gets its own
//! `momento-mock` on `127.0.0.1:0`, the provider served in-process (Terraform attaches through
//! `TF_REATTACH_PROVIDERS`), its own work directory, and the real `terraform` CLI.
//!
//! Write a [`TestCase`] of [`Step`]s; after every apply the harness checks that both the
//! non-refresh and the refresh plan are empty, runs the step's checks and import checks, and at
//! the end destroys everything and checks the mock holds nothing the test created.
pub mod case;
pub mod harness;
pub mod momento;
pub mod terraform;

pub use case::{planned_actions, planned_change, ImportCheck, ImportVia, Step, TestCase};
pub use harness::{Harness, State, TfOutput};
pub use momento::{verify_signature, wait_for_deliveries, DeliveryFilter, Receiver};
pub use terraform::{terraform, TerraformBinary, Version};
