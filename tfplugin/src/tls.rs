//! go-plugin's AutoMTLS: a fresh self-signed server certificate per run, and a client-certificate
//! verifier that accepts only the certificate Terraform passed in `PLUGIN_CLIENT_CERT`.
//!
//! Everything that needs randomness (key generation, the certificate's signature, the TLS
//! handshakes) runs on `ring`, whose randomness comes straight from the OS: aws-lc-rs seeds its
//! DRBG with CPU-jitter entropy on first use, ~45 ms of CPU in every provider process, i.e. in
//! every Terraform command. The client's signature is still checked with aws-lc-rs's
//! algorithms (no randomness involved): go-plugin's client keys are ECDSA P-521, which ring
//! does not verify.
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::serve::ServeError;

/// The server side of AutoMTLS.
pub(crate) struct AutoMtls {
    pub config: Arc<rustls::ServerConfig>,
    /// DER of the server certificate, announced in the handshake line.
    pub server_cert_der: Vec<u8>,
}

/// Builds the TLS configuration from the client certificate PEM Terraform passed.
pub(crate) fn auto_mtls(client_cert_pem: &str) -> Result<AutoMtls, ServeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client_certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(client_cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| {
                ServeError::Tls(format!("PLUGIN_CLIENT_CERT is not a PEM certificate: {e}"))
            })?;
    if client_certs.is_empty() {
        return Err(ServeError::Tls(
            "PLUGIN_CLIENT_CERT holds no certificate".into(),
        ));
    }

    let signer = RingP256::generate()?;
    let key_der = signer.pkcs8.clone();
    let key = rcgen::KeyPair::from_remote(Box::new(signer))
        .map_err(|e| ServeError::Tls(format!("generating the server key: {e}")))?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(|e| ServeError::Tls(format!("server certificate parameters: {e}")))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "tfplugin");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params
        .self_signed(&key)
        .map_err(|e| ServeError::Tls(format!("signing the server certificate: {e}")))?;
    let server_cert_der = cert.der().to_vec();

    let verifier = Arc::new(PinnedClientCert {
        expected: client_certs,
        provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
    });
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(server_cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)),
        )
        .map_err(|e| ServeError::Tls(format!("server certificate: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(AutoMtls {
        config: Arc::new(config),
        server_cert_der,
    })
}

/// A fresh ECDSA P-256 key on `ring`, signing the certificate for rcgen.
struct RingP256 {
    pair: ring::signature::EcdsaKeyPair,
    pkcs8: Vec<u8>,
    rng: ring::rand::SystemRandom,
}

impl RingP256 {
    fn generate() -> Result<Self, ServeError> {
        use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
        let rng = ring::rand::SystemRandom::new();
        let failed = |what: &str| ServeError::Tls(format!("generating the server key: {what}"));
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| failed("no randomness"))?
            .as_ref()
            .to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng)
            .map_err(|e| failed(&e.to_string()))?;
        Ok(Self { pair, pkcs8, rng })
    }
}

impl rcgen::RemoteKeyPair for RingP256 {
    fn public_key(&self) -> &[u8] {
        use ring::signature::KeyPair as _;
        self.pair.public_key().as_ref()
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.pair
            .sign(&self.rng, msg)
            .map(|sig| sig.as_ref().to_vec())
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// Accepts exactly the client certificate(s) Terraform announced, and checks that the client
/// holds the matching private key (the handshake signature).
#[derive(Debug)]
struct PinnedClientCert {
    expected: Vec<CertificateDer<'static>>,
    /// Signature algorithms the client may have used (aws-lc-rs: P-521 included).
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self
            .expected
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            Ok(ClientCertVerified::assertion())
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
