//! The provider binary: Terraform starts it (or `--debug` runs it for a debugger to attach).
use std::process::ExitCode;

fn main() -> ExitCode {
    // Logs go to stderr, which Terraform shows with TF_LOG; stdout carries the handshake.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TF_PROVIDER_MOMENTO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    tfplugin::run(
        terraform_provider_momento::MomentoProvider,
        terraform_provider_momento::PROVIDER_ADDRESS,
    )
}
