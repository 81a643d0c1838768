//! The real `terraform-provider-momento` binary as Terraform and users run it: refusing to run by
//! hand, protocol negotiation, the go-plugin handshake line, plaintext and AutoMTLS serving on a
//! unix socket, SIGINT ignored, GRPCController shutdown, stopping once Terraform is gone, logging
//! to a closed stderr, and `--debug` reattach mode.
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tfplugin::proto::health::health_check_response::ServingStatus;
use tfplugin::proto::health::health_client::HealthClient;
use tfplugin::proto::health::HealthCheckRequest;
use tfplugin::proto::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin::proto::plugin::grpc_stdio_client::GrpcStdioClient;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::UnixStream;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tonic::transport::{Channel, Endpoint, Uri};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-momento");
const COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Generous bound for anything that should be quick, so a loaded machine does not flake.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The binary with none of the plugin variables a surrounding Terraform might have set.
fn command() -> Command {
    let mut cmd = Command::new(BIN);
    without_plugin_env(&mut cmd);
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    cmd
}

/// Removes the plugin variables a surrounding Terraform might have set.
fn without_plugin_env(cmd: &mut Command) {
    for var in [
        COOKIE_KEY,
        "PLUGIN_PROTOCOL_VERSIONS",
        "PLUGIN_CLIENT_CERT",
        "PLUGIN_UNIX_SOCKET_DIR",
        "PLUGIN_MIN_PORT",
        "PLUGIN_MAX_PORT",
        "TF_REATTACH_PROVIDERS",
        "TF_DISABLE_PLUGIN_TLS",
        "TF_PROVIDER_MOMENTO_LOG",
    ] {
        cmd.env_remove(var);
    }
}

/// Runs the binary to completion, returning (status, stdout, stderr).
async fn run_to_end(mut cmd: Command) -> (ExitStatus, String, String) {
    let out = tokio::time::timeout(TIMEOUT, cmd.output())
        .await
        .expect("the binary did not exit")
        .expect("running the binary");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running provider process, killed if the test ends early.
struct Running {
    child: Child,
    pid: i32,
    stdout: mpsc::UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the provider");
        let pid = child.id().expect("pid") as i32;
        let (tx, stdout) = mpsc::unbounded_channel();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self {
            child,
            pid,
            stdout,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The next line on stdout.
    async fn line(&mut self) -> String {
        match tokio::time::timeout(TIMEOUT, self.stdout.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!("stdout closed; stderr:\n{}", self.stderr()),
            Err(_) => panic!("no line on stdout in time; stderr:\n{}", self.stderr()),
        }
    }

    /// Waits for the process to exit.
    async fn exit(&mut self) -> ExitStatus {
        match tokio::time::timeout(TIMEOUT, self.child.wait()).await {
            Ok(status) => status.expect("waiting for the provider"),
            Err(_) => panic!("the provider did not exit; stderr:\n{}", self.stderr()),
        }
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: sending a signal to our own child process.
        let rc = unsafe { libc::kill(self.pid, sig) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Polls `/proc` until the process has a handler installed for `sig`.
    async fn wait_for_handler(&self, sig: libc::c_int) {
        let bit = 1u64 << (sig - 1);
        let status = format!("/proc/{}/status", self.pid);
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let caught = std::fs::read_to_string(&status)
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("SigCgt:"))
                        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
                })
                .unwrap_or(0);
            if caught & bit != 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the provider never handled signal {sig}; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The fields of a go-plugin handshake line.
struct Handshake {
    socket: PathBuf,
    cert: String,
}

fn parse_handshake(line: &str) -> Handshake {
    let fields: Vec<&str> = line.split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line {line:?}");
    assert_eq!(&fields[..3], ["1", "6", "unix"], "{line:?}");
    assert_eq!(fields[4], "grpc", "{line:?}");
    Handshake {
        socket: PathBuf::from(fields[3]),
        cert: fields[5].to_owned(),
    }
}

async fn plaintext_channel(path: &Path) -> Result<Channel, tonic::transport::Error> {
    let path = path.to_path_buf();
    let endpoint = Endpoint::try_from("http://[::]:50051").expect("endpoint");
    endpoint
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
        }))
        .await
}

async fn health(ch: Channel) -> Result<i32, tonic::Status> {
    Ok(HealthClient::new(ch)
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await?
        .into_inner()
        .status)
}

async fn momento_schema(ch: Channel) -> pb::get_provider_schema::Response {
    ProviderClient::new(ch)
        .max_decoding_message_size(64 << 20)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner()
}

// ---------------------------------------------------------------------------------------------
// Refusing to run outside Terraform

#[tokio::test]
async fn run_by_hand_explains_itself_and_exits_1() {
    let (status, stdout, stderr) = run_to_end(command()).await;
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stdout, "", "nothing on stdout");
    assert!(stderr.contains("Terraform plugin"), "{stderr}");
    assert!(stderr.contains("--debug"), "{stderr}");

    let mut wrong_cookie = command();
    wrong_cookie.env(COOKIE_KEY, "not-the-cookie");
    let (status, stdout, stderr) = run_to_end(wrong_cookie).await;
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("Terraform plugin"), "{stderr}");
}

#[tokio::test]
async fn unsupported_protocol_versions_are_named() {
    let mut cmd = command();
    cmd.env(COOKIE_KEY, COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5");
    let (status, stdout, stderr) = run_to_end(cmd).await;
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("\"4,5\""), "{stderr}");
    assert!(stderr.contains("version 6"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Plaintext plugin mode

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_serve_ignore_sigint_and_shut_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command();
    cmd.env(COOKIE_KEY, COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_UNIX_SOCKET_DIR", dir.path());
    let mut p = Running::spawn(cmd);

    let line = p.line().await;
    let hs = parse_handshake(&line);
    assert!(
        hs.socket.starts_with(dir.path()),
        "{line:?} not in {}",
        dir.path().display()
    );
    assert_eq!(line, format!("1|6|unix|{}|grpc|", hs.socket.display()));
    assert!(hs.socket.exists());

    let ch = plaintext_channel(&hs.socket).await.expect("connecting");
    let schema = momento_schema(ch.clone()).await;
    assert!(schema.diagnostics.is_empty(), "{:?}", schema.diagnostics);
    assert!(
        schema.resource_schemas.contains_key("momento_cache"),
        "{:?}",
        schema.resource_schemas.keys()
    );
    // go-plugin's client always opens the stdio stream; it must not hold up shutdown.
    let mut stdio = GrpcStdioClient::new(ch.clone())
        .stream_stdio(())
        .await
        .expect("StreamStdio")
        .into_inner();

    // Ctrl-C in Terraform's terminal reaches the provider too; Terraform handles it.
    p.signal(libc::SIGINT);
    let fresh = plaintext_channel(&hs.socket)
        .await
        .expect("connecting after SIGINT");
    assert_eq!(health(fresh).await.unwrap(), ServingStatus::Serving as i32);
    assert!(p.is_running(), "SIGINT stopped the provider");
    assert_eq!(
        health(ch.clone()).await.unwrap(),
        ServingStatus::Serving as i32
    );

    GrpcControllerClient::new(ch.clone())
        .shutdown(tfplugin::proto::plugin::Empty {})
        .await
        .expect("GRPCController/Shutdown");
    let status = p.exit().await;
    assert!(status.success(), "{status:?}; stderr:\n{}", p.stderr());
    let ended = tokio::time::timeout(TIMEOUT, stdio.message())
        .await
        .expect("the stdio stream did not end");
    assert!(
        !matches!(ended, Ok(Some(_))),
        "the stdio stream carried data: {ended:?}"
    );
    let socket_dir = hs.socket.parent().unwrap();
    assert!(!socket_dir.exists(), "{} left behind", socket_dir.display());
    assert!(dir.path().exists(), "only its own directory is removed");
}

// ---------------------------------------------------------------------------------------------
// Terraform gone without stopping the provider

/// Kills a process (by pid) when dropped, unless it is already gone.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // SAFETY: signalling a process this test started.
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
        }
    }
}

/// Whether `pid` still runs (a zombie waiting for its new parent to reap it does not).
fn is_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the parenthesised command name.
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

/// Terraform killed before it could stop its providers (SIGKILL, a crash, `terraform plan |
/// head`): the orphaned provider stops by itself and removes its socket, as on Shutdown, although
/// its stdout and stderr now lead nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphaned_provider_stops_and_removes_its_socket() {
    // `sh` stands in for Terraform: it launches the provider, prints its pid, and exits when its
    // stdin closes, without stopping the provider.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "\"$0\" & echo \"$!\"; read -r _; exit 0", BIN]);
    without_plugin_env(&mut cmd);
    cmd.env(COOKIE_KEY, COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("TF_PROVIDER_MOMENTO_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut sh = cmd.spawn().expect("starting sh");
    let mut stdout = BufReader::new(sh.stdout.take().unwrap()).lines();
    // The pid and the handshake line share the pipe; either may come first.
    let mut lines = Vec::new();
    while lines.len() < 2 {
        let line = tokio::time::timeout(TIMEOUT, stdout.next_line())
            .await
            .expect("a line in time")
            .expect("reading stdout")
            .expect("stdout still open");
        lines.push(line);
    }
    let (first, second) = (lines.remove(0), lines.remove(0));
    let (pid, handshake) = match first.parse::<i32>() {
        Ok(pid) => (pid, second),
        Err(_) => (second.parse().expect("the provider's pid"), first),
    };
    let _provider = KillOnDrop(pid);
    let hs = parse_handshake(&handshake);
    let ch = plaintext_channel(&hs.socket).await.expect("connecting");
    assert_eq!(health(ch).await.unwrap(), ServingStatus::Serving as i32);

    // Terraform's end of the pipes goes with it.
    drop(stdout);
    drop(sh.stderr.take());
    drop(sh.stdin.take());
    let status = tokio::time::timeout(TIMEOUT, sh.wait())
        .await
        .expect("sh exits");
    assert!(status.expect("waiting for sh").success());
    let socket_dir = hs.socket.parent().unwrap().to_path_buf();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while is_alive(pid) || socket_dir.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the orphaned provider still runs ({}) or left {} behind",
            is_alive(pid),
            socket_dir.display(),
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logging to a stderr nobody reads any more (Terraform's end of the pipe closed) neither fails
/// calls nor stops the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_to_a_closed_stderr_does_not_break_calls() {
    let mut cmd = command();
    cmd.env(COOKIE_KEY, COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        // Every frame is logged at debug level.
        .env("TF_PROVIDER_MOMENTO_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("starting the provider");
    drop(child.stderr.take());
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(TIMEOUT, stdout.next_line())
        .await
        .expect("the handshake in time")
        .expect("reading stdout")
        .expect("a handshake line");
    let hs = parse_handshake(&line);
    let ch = plaintext_channel(&hs.socket).await.expect("connecting");
    for _ in 0..3 {
        let schema = momento_schema(ch.clone()).await;
        assert!(schema.diagnostics.is_empty(), "{:?}", schema.diagnostics);
        assert_eq!(
            health(ch.clone()).await.unwrap(),
            ServingStatus::Serving as i32
        );
    }
    GrpcControllerClient::new(ch)
        .shutdown(tfplugin::proto::plugin::Empty {})
        .await
        .expect("GRPCController/Shutdown");
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .expect("the provider exits")
        .expect("waiting for the provider");
    assert!(status.success(), "{status:?}");
    assert!(!hs.socket.parent().unwrap().exists(), "socket left behind");
}

// ---------------------------------------------------------------------------------------------
// AutoMTLS

/// A certificate and its PKCS#8 private key.
struct Identity {
    pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

/// A self-signed ECDSA P-256 certificate for `localhost`, as Terraform generates per run.
fn identity() -> Identity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let cert = params.self_signed(&key).unwrap();
    Identity {
        pem: cert.pem(),
        cert_der: cert.der().to_vec(),
        key_der: key.serialize_der(),
    }
}

/// Trusts exactly one server certificate, as go-plugin's client does with the handshake's.
#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn tls_config(server_der: &[u8], client: Option<&Identity>) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            der: server_der.to_vec(),
            provider,
        }));
    let mut config = match client {
        Some(id) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(id.cert_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der.clone())),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

async fn tls_channel(
    path: &Path,
    config: Arc<ClientConfig>,
) -> Result<Channel, tonic::transport::Error> {
    let path = path.to_path_buf();
    let connector = tokio_rustls::TlsConnector::from(config);
    let endpoint = Endpoint::try_from("http://[::]:50051").expect("endpoint");
    endpoint
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let (path, connector) = (path.clone(), connector.clone());
            async move {
                let stream = UnixStream::connect(path).await?;
                let name = ServerName::try_from("localhost").expect("server name");
                let tls = connector.connect(name, stream).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

/// Connects over TLS and makes one health check; the error text if any step fails.
async fn tls_health(path: &Path, config: Arc<ClientConfig>) -> Result<i32, String> {
    let attempt = async {
        let ch = tls_channel(path, config)
            .await
            .map_err(|e| format!("connect: {e:?}"))?;
        health(ch).await.map_err(|e| format!("call: {e:?}"))
    };
    tokio::time::timeout(TIMEOUT, attempt)
        .await
        .expect("a TLS attempt neither succeeded nor failed in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_mtls_pins_both_certificates() {
    let client = identity();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command();
    cmd.env(COOKIE_KEY, COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_UNIX_SOCKET_DIR", dir.path())
        .env("PLUGIN_CLIENT_CERT", &client.pem);
    let mut p = Running::spawn(cmd);
    let line = p.line().await;
    let hs = parse_handshake(&line);
    assert!(hs.socket.starts_with(dir.path()), "{line:?}");
    assert!(!hs.cert.is_empty(), "AutoMTLS announces a certificate");
    assert!(!hs.cert.contains('='), "no padding: {}", hs.cert);
    let server_der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&hs.cert)
        .expect("standard base64 without padding");
    assert_eq!(
        server_der.first(),
        Some(&0x30),
        "DER starts with a SEQUENCE"
    );

    // Terraform's side: its own certificate, the server's pinned from the handshake.
    let status = tls_health(&hs.socket, tls_config(&server_der, Some(&client))).await;
    assert_eq!(
        status,
        Ok(ServingStatus::Serving as i32),
        "stderr:\n{}",
        p.stderr()
    );
    let ch = tls_channel(&hs.socket, tls_config(&server_der, Some(&client)))
        .await
        .expect("mTLS connect");
    let schema = momento_schema(ch.clone()).await;
    assert!(schema.resource_schemas.contains_key("momento_cache"));

    // A client with another certificate, or with none, cannot make a call.
    let stranger = identity();
    let refused = tls_health(&hs.socket, tls_config(&server_der, Some(&stranger))).await;
    assert!(
        refused.is_err(),
        "a foreign client certificate was accepted"
    );
    let refused = tls_health(&hs.socket, tls_config(&server_der, None)).await;
    assert!(
        refused.is_err(),
        "a client without a certificate was accepted"
    );
    // Nor can a plaintext client.
    let plain = tokio::time::timeout(TIMEOUT, async {
        let ch = plaintext_channel(&hs.socket)
            .await
            .map_err(|e| e.to_string())?;
        health(ch).await.map_err(|e| e.to_string())
    })
    .await
    .expect("a plaintext attempt neither succeeded nor failed in time");
    assert!(plain.is_err(), "a plaintext client was served");
    // And the pin is honoured on our side: a different server certificate is refused.
    let wrong_pin = tls_health(&hs.socket, tls_config(&stranger.cert_der, Some(&client))).await;
    assert!(wrong_pin.is_err());

    // The server is unharmed by the rejected clients and shuts down cleanly, even with a
    // connection open that never starts its TLS handshake (the server would wait 10 s for it).
    assert_eq!(
        health(ch.clone()).await.unwrap(),
        ServingStatus::Serving as i32
    );
    let _half_open = tokio::net::UnixStream::connect(&hs.socket)
        .await
        .expect("connecting without a handshake");
    // Time for the server to accept it (without that, the test would prove nothing).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = std::time::Instant::now();
    GrpcControllerClient::new(ch)
        .shutdown(tfplugin::proto::plugin::Empty {})
        .await
        .expect("GRPCController/Shutdown");
    let status = p.exit().await;
    assert!(status.success(), "{status:?}; stderr:\n{}", p.stderr());
    assert!(
        asked.elapsed() < Duration::from_secs(8),
        "shutting down took {:?}: it waited for the half-open connection",
        asked.elapsed()
    );
    assert!(!hs.socket.parent().unwrap().exists());
}

// ---------------------------------------------------------------------------------------------
// Debug mode

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_prints_reattach_config_and_stops_on_sigint() {
    let mut cmd = command();
    cmd.arg("--debug");
    let mut p = Running::spawn(cmd);
    let prefix = "TF_REATTACH_PROVIDERS='";
    let line = loop {
        let line = p.line().await;
        if line.contains(prefix) {
            break line;
        }
    };
    let json = line
        .split_once(prefix)
        .and_then(|(_, rest)| rest.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no quoted JSON in {line:?}"));
    let reattach: serde_json::Value = serde_json::from_str(json).expect("reattach JSON");
    let obj = reattach.as_object().expect("an object");
    assert_eq!(obj.len(), 1, "{json}");
    let entry = &reattach["registry.terraform.io/local/momento"];
    assert_eq!(entry["Protocol"], "grpc", "{json}");
    assert_eq!(entry["ProtocolVersion"], 6, "{json}");
    assert_eq!(entry["Test"], true, "{json}");
    assert_eq!(entry["Pid"], p.pid, "{json}");
    assert_eq!(entry["Addr"]["Network"], "unix", "{json}");
    let socket = PathBuf::from(entry["Addr"]["String"].as_str().expect("socket path"));
    assert!(socket.exists(), "{} does not exist", socket.display());

    // Terraform attaches in plaintext.
    let ch = plaintext_channel(&socket).await.expect("connecting");
    assert!(momento_schema(ch)
        .await
        .resource_schemas
        .contains_key("momento_cache"));

    p.wait_for_handler(libc::SIGINT).await;
    p.signal(libc::SIGINT);
    let status = p.exit().await;
    assert_eq!(status.code(), Some(0), "stderr:\n{}", p.stderr());
    assert!(!socket.exists(), "the socket is removed");
}
