//! The provider binary: Terraform starts it (or `--debug` runs it for a debugger to attach).
use std::io::Write;
use std::process::ExitCode;

/// Stderr for log lines, ignoring write errors. Once Terraform is gone its end of the pipe is
/// closed, and tracing-subscriber panics when a write fails, taking the logging task down with it.
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

fn main() -> ExitCode {
    // Logs go to stderr, which Terraform shows with TF_LOG; stdout carries the handshake.
    tracing_subscriber::fmt()
        .with_writer(|| Stderr)
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
