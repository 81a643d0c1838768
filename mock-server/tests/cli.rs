//! The `momento-mock` binary: first stdout line, flags and their `MOMENTO_MOCK_*` variables,
//! graceful exit on SIGTERM and SIGINT, no token in its logs, and its raised open-files limit.

mod common;

use std::net::SocketAddr;
use std::process::Stdio;

use common::{channel_to, within};
use momento_protos::control_client::scs_control_client::ScsControlClient;
use momento_protos::control_client::{CreateCacheRequest, ListCachesRequest};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

const BIN: &str = env!("CARGO_BIN_EXE_momento-mock");
const PREFIX: &str = "momento-mock listening on ";
const ENV_VARS: [&str; 5] = [
    "MOMENTO_MOCK_LISTEN",
    "MOMENTO_MOCK_LIST_CACHES_PAGE_SIZE",
    "MOMENTO_MOCK_AUTH_TOKEN",
    "MOMENTO_MOCK_GRPC_MAX_MESSAGE_BYTES",
    "MOMENTO_MOCK_LOG",
];

/// The binary with a clean environment (no inherited `MOMENTO_MOCK_*`), stdout piped.
fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for var in ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env_remove("RUST_LOG");
    cmd
}

/// Reads the first stdout line, checks its exact format, returns the bound address.
async fn first_line(child: &mut Child) -> (SocketAddr, BufReader<ChildStdout>) {
    let stdout = child.stdout.take().expect("stdout piped");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    within("first stdout line", reader.read_line(&mut line))
        .await
        .expect("read stdout");
    assert!(line.ends_with('\n'), "line not terminated: {line:?}");
    let line = line.trim_end_matches('\n');
    let addr = line
        .strip_prefix(PREFIX)
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let addr: SocketAddr = addr
        .parse()
        .unwrap_or_else(|e| panic!("not HOST:PORT in {line:?}: {e}"));
    assert_eq!(line, format!("{PREFIX}{addr}"));
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(
        addr.port(),
        0,
        "printed the requested port, not the bound one"
    );
    (addr, reader)
}

fn send_signal(child: &Child, signal: libc::c_int) {
    let pid = child.id().expect("child still running") as libc::pid_t;
    // SAFETY: kill(2) with the pid of our own, not yet reaped, child.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill failed: {}", std::io::Error::last_os_error());
}

async fn exits_successfully(child: &mut Child) {
    let status = within("process exit", child.wait()).await.expect("wait");
    assert!(status.success(), "exit status {status:?}");
}

async fn create_and_list(addr: SocketAddr, name: &str) -> Vec<String> {
    let mut client = ScsControlClient::new(channel_to(&format!("http://{addr}")).await);
    within(
        "CreateCache",
        client.create_cache(CreateCacheRequest {
            cache_name: name.into(),
        }),
    )
    .await
    .expect("CreateCache");
    let listed = within(
        "ListCaches",
        client.list_caches(ListCachesRequest::default()),
    )
    .await
    .expect("ListCaches")
    .into_inner();
    listed.cache.into_iter().map(|c| c.cache_name).collect()
}

#[tokio::test]
async fn prints_the_bound_address_serves_and_exits_on_sigterm() {
    let mut child = command(&["--listen", "127.0.0.1:0"])
        .spawn()
        .expect("spawn");
    let (addr, _stdout) = first_line(&mut child).await;
    assert_eq!(create_and_list(addr, "from-cli").await, ["from-cli"]);
    send_signal(&child, libc::SIGTERM);
    exits_successfully(&mut child).await;
}

#[tokio::test]
async fn listen_address_from_the_environment_and_sigint() {
    let mut cmd = command(&[]);
    cmd.env("MOMENTO_MOCK_LISTEN", "127.0.0.1:0")
        .env("MOMENTO_MOCK_LIST_CACHES_PAGE_SIZE", "1");
    let mut child = cmd.spawn().expect("spawn");
    let (addr, _stdout) = first_line(&mut child).await;
    assert_ne!(addr.port(), 8080);
    // Page size 1 from the environment: the first page holds one cache.
    let mut client = ScsControlClient::new(channel_to(&format!("http://{addr}")).await);
    for name in ["a", "b"] {
        within(
            "CreateCache",
            client.create_cache(CreateCacheRequest {
                cache_name: name.into(),
            }),
        )
        .await
        .unwrap();
    }
    let page = within(
        "ListCaches",
        client.list_caches(ListCachesRequest::default()),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(page.cache.len(), 1);
    assert!(!page.next_token.is_empty());
    send_signal(&child, libc::SIGINT);
    exits_successfully(&mut child).await;
}

#[tokio::test]
async fn auth_token_from_the_environment_is_enforced_and_never_logged() {
    const TOKEN: &str = "env-secret-5e1f";
    let mut cmd = command(&["--listen", "127.0.0.1:0", "--log", "debug"]);
    cmd.env("MOMENTO_MOCK_AUTH_TOKEN", TOKEN)
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut stderr = child.stderr.take().expect("stderr piped");
    // Drain stderr while the server runs so a full pipe never blocks it.
    let stderr_task = tokio::spawn(async move {
        let mut logs = String::new();
        let _ = stderr.read_to_string(&mut logs).await;
        logs
    });
    let (addr, _stdout) = first_line(&mut child).await;

    let channel = channel_to(&format!("http://{addr}")).await;
    let mut anonymous = ScsControlClient::new(channel.clone());
    let status = within(
        "CreateCache",
        anonymous.create_cache(CreateCacheRequest {
            cache_name: "x".into(),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);

    let token: tonic::metadata::MetadataValue<_> = TOKEN.parse().unwrap();
    let mut authed =
        ScsControlClient::with_interceptor(channel, move |mut r: tonic::Request<()>| {
            r.metadata_mut().insert("authorization", token.clone());
            Ok(r)
        });
    within(
        "CreateCache",
        authed.create_cache(CreateCacheRequest {
            cache_name: "x".into(),
        }),
    )
    .await
    .expect("right token accepted");

    send_signal(&child, libc::SIGTERM);
    exits_successfully(&mut child).await;
    let logs = within("stderr", stderr_task).await.expect("stderr task");
    assert!(logs.contains("SIGTERM"), "logs: {logs}");
    assert!(!logs.contains(TOKEN), "token in logs: {logs}");
}

#[tokio::test]
async fn help_documents_every_flag_and_variable() {
    let output = within("--help", command(&["--help"]).output())
        .await
        .expect("run --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--listen",
        "--list-caches-page-size",
        "--auth-token",
        "--grpc-max-message-bytes",
        "--log",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
    for var in ENV_VARS {
        assert!(help.contains(var), "{var} missing from --help:\n{help}");
    }
}

#[tokio::test]
async fn bad_values_fail_with_a_message() {
    for args in [
        &["--listen", "not-an-address"][..],
        &["--list-caches-page-size", "0"][..],
    ] {
        let output = within("bad flag", command(args).stderr(Stdio::piped()).output())
            .await
            .expect("run");
        assert!(!output.status.success(), "{args:?} accepted");
        assert!(output.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(!output.stderr.is_empty(), "{args:?} gave no message");
    }
}

/// The soft and hard "Max open files" of a running process, from `/proc/PID/limits`.
#[cfg(target_os = "linux")]
fn open_files_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("read limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Max open files line");
    let fields: Vec<&str> = line["Max open files".len()..].split_whitespace().collect();
    (fields[0].to_owned(), fields[1].to_owned())
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn raises_its_open_files_limit_to_the_hard_one() {
    const LOW: libc::rlim_t = 128;
    let mut cmd = command(&["--listen", "127.0.0.1:0"]);
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        cmd.pre_exec(|| {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            limit.rlim_cur = LOW.min(limit.rlim_max);
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn");
    let (addr, _stdout) = first_line(&mut child).await;
    let (soft, hard) = open_files_limits(child.id().expect("running"));
    if hard.parse::<libc::rlim_t>().is_ok_and(|h| h <= LOW) {
        // A machine whose hard limit is this low leaves nothing to raise.
        assert_eq!(soft, hard);
    } else if hard == "unlimited" {
        assert_eq!(soft, (1u64 << 20).to_string());
    } else {
        assert_eq!(soft, hard, "the soft limit was left at {LOW}");
    }
    // And it still serves.
    assert_eq!(create_and_list(addr, "with-limits").await, ["with-limits"]);
    send_signal(&child, libc::SIGTERM);
    exits_successfully(&mut child).await;
}
