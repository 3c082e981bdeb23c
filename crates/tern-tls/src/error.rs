//! Why a TLS session or its configuration failed, and whose fault it was.
//!
//! [`TlsError`] separates the three parties that can break a TLS session: the local caller (a
//! configuration that cannot work, a buffer too small, a call out of order), the peer (a
//! certificate refused, an alert, a protocol violation) and the transport (closed mid-way).
//! A refused certificate says why in [`CertificateRefusal`], in the words a firmware engineer
//! would look for in mbedTLS' verify flags: unknown issuer, name mismatch, expired, not yet
//! valid, bad signature.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rustls::{AlertDescription, CertificateError};

/// Who broke the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The local caller: configuration, buffers, calls out of order.
    Local,
    /// The peer: its certificate, its alerts, its records.
    Remote,
}

/// Why a peer's certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateRefusal {
    /// The chain does not lead to a trusted root (`MBEDTLS_X509_BADCERT_NOT_TRUSTED`).
    #[error("it was not issued by a trusted certificate authority (unknown issuer)")]
    UnknownIssuer,
    /// The certificate is not valid for the name that was checked (`BADCERT_CN_MISMATCH`).
    #[error("it is not valid for the name {expected:?} (it names {presented:?})")]
    NameMismatch {
        /// The name checked: the host, or `common_name`.
        expected: String,
        /// The names the certificate carries (empty when rustls did not report them).
        presented: Vec<String>,
    },
    /// Its validity ended (`BADCERT_EXPIRED`).
    #[error("it has expired")]
    Expired,
    /// Its validity has not started (`BADCERT_FUTURE`).
    #[error("it is not valid yet")]
    NotYetValid,
    /// A signature in the chain does not verify.
    #[error("a signature in its chain does not verify (bad signature)")]
    BadSignature,
    /// It was revoked.
    #[error("it has been revoked")]
    Revoked,
    /// It is not allowed for this use (a client certificate presented by a server, say).
    #[error("it is not issued for this purpose (extended key usage)")]
    WrongPurpose,
    /// It uses a signature algorithm the crypto provider does not offer.
    #[error("it uses an unsupported signature algorithm")]
    UnsupportedAlgorithm,
    /// It could not be parsed.
    #[error("it is malformed")]
    Malformed,
    /// The peer sent no certificate where one was required (mutual TLS).
    #[error("the peer sent none")]
    Missing,
    /// Another reason, as the verifier put it.
    #[error("{0}")]
    Other(String),
}

impl From<&CertificateError> for CertificateRefusal {
    fn from(e: &CertificateError) -> Self {
        match e {
            CertificateError::UnknownIssuer => CertificateRefusal::UnknownIssuer,
            CertificateError::NotValidForName => {
                CertificateRefusal::NameMismatch { expected: String::new(), presented: Vec::new() }
            }
            CertificateError::NotValidForNameContext { expected, presented } => {
                CertificateRefusal::NameMismatch { expected: server_name_text(expected), presented: presented.clone() }
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => CertificateRefusal::Expired,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                CertificateRefusal::NotYetValid
            }
            CertificateError::BadSignature => CertificateRefusal::BadSignature,
            CertificateError::Revoked => CertificateRefusal::Revoked,
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                CertificateRefusal::WrongPurpose
            }
            #[allow(deprecated)] // still produced by custom verifiers
            CertificateError::UnsupportedSignatureAlgorithm
            | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                CertificateRefusal::UnsupportedAlgorithm
            }
            CertificateError::BadEncoding => CertificateRefusal::Malformed,
            other => CertificateRefusal::Other(other.to_string()),
        }
    }
}

fn server_name_text(name: &rustls_pki_types::ServerName<'_>) -> String {
    match name {
        rustls_pki_types::ServerName::DnsName(dns) => dns.as_ref().to_string(),
        rustls_pki_types::ServerName::IpAddress(rustls_pki_types::IpAddr::V4(ip)) => {
            let octets: &[u8; 4] = ip.as_ref();
            core::net::Ipv4Addr::from(*octets).to_string()
        }
        rustls_pki_types::ServerName::IpAddress(rustls_pki_types::IpAddr::V6(ip)) => {
            let octets: &[u8; 16] = ip.as_ref();
            core::net::Ipv6Addr::from(*octets).to_string()
        }
        other => alloc::format!("{other:?}"),
    }
}

/// What in the local configuration cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A certificate (CA, chain or client certificate) could not be read as PEM or DER.
    #[error("the {what} is neither a PEM certificate nor DER")]
    BadCertificate {
        /// Which input: "CA certificate", "certificate chain", "client certificate".
        what: &'static str,
    },
    /// A PEM input held no certificate.
    #[error("the {what} holds no certificate")]
    NoCertificate {
        /// Which input.
        what: &'static str,
    },
    /// A CA certificate was refused as a trust anchor.
    #[error("the CA certificate cannot be a trust anchor: {0}")]
    BadTrustAnchor(String),
    /// The private key could not be read (PKCS#8, SEC1 or PKCS#1, PEM or DER).
    #[error("the private key is not a PKCS#8, SEC1 or PKCS#1 key in PEM or DER")]
    BadKey,
    /// The crypto provider cannot use the private key (an unsupported algorithm or curve).
    #[error("the crypto provider cannot use the private key: {0}")]
    UnusableKey(String),
    /// A certificate was given without its key, or a key without its certificate.
    #[error("a client certificate needs its key, and a key its certificate")]
    CertificateWithoutKey,
    /// No trust anchors: no `ca_cert`, and the certificate bundle is off or not built in.
    #[error("no trust anchors: give a CA certificate, or enable the certificate bundle (feature webpki-roots)")]
    NoTrustAnchors,
    /// On `no_std`, rustls cannot read a clock: a time provider must be given.
    #[error("no time provider: without std, certificates can only be checked with a given clock")]
    NoTimeProvider,
    /// No crypto provider is built in (features `ring` and `aws-lc-rs` both off) and none was given.
    #[error("no crypto provider: enable feature ring or aws-lc-rs, or pass one")]
    NoCryptoProvider,
    /// The host (or `common_name`) is not a DNS name or an IP address.
    #[error("{0:?} is not a valid DNS name or IP address for TLS")]
    BadServerName(String),
    /// rustls refused the configuration (for example a TLS version the provider lacks).
    #[error("rustls refused the configuration: {0}")]
    Rustls(rustls::Error),
}

/// Why a TLS session failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The local configuration cannot work.
    #[error("TLS configuration: {0}")]
    Config(#[from] ConfigError),
    /// The peer's certificate was refused.
    #[error("the peer's certificate was refused: {0}")]
    Certificate(CertificateRefusal),
    /// The peer ended the handshake with an alert (for example `bad_certificate` when it
    /// refused our client certificate, `protocol_version` when no version is shared).
    #[error("the peer sent the TLS alert {0:?}")]
    AlertReceived(AlertDescription),
    /// The peer offers nothing this side accepts (versions, cipher suites, ALPN protocols).
    #[error("the peer shares no acceptable parameters: {0}")]
    Incompatible(rustls::Error),
    /// The peer broke the TLS protocol (a bad record, a message out of order, a failed MAC).
    #[error("the peer broke the TLS protocol: {0}")]
    PeerMisbehaved(rustls::Error),
    /// The transport closed before the handshake completed.
    #[error("the connection closed during the TLS handshake")]
    ClosedDuringHandshake,
    /// The peer sent a record larger than the incoming buffer holds.
    #[error("a TLS record does not fit the incoming buffer ({capacity} bytes)")]
    RecordTooLarge {
        /// The incoming buffer's size.
        capacity: usize,
    },
    /// A handshake message does not fit the outgoing buffer.
    #[error("a TLS handshake record of {needed} bytes does not fit the outgoing buffer ({capacity} bytes)")]
    OutgoingTooSmall {
        /// Bytes the record needs.
        needed: usize,
        /// The outgoing buffer's size.
        capacity: usize,
    },
    /// The caller's buffer is smaller than the layout needs.
    #[error("the TLS buffer has {given} bytes; this layout needs {needed}")]
    BufferTooSmall {
        /// Bytes given.
        given: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// Application data was written before the handshake completed, or after close.
    #[error("TLS application data cannot be written {when}")]
    NotWritable {
        /// "before the handshake completed" or "after the session closed".
        when: &'static str,
    },
    /// Any other failure rustls reported.
    #[error("TLS: {0}")]
    Other(rustls::Error),
}

impl TlsError {
    /// Who broke the rules.
    pub fn origin(&self) -> Origin {
        match self {
            TlsError::Config(_)
            | TlsError::OutgoingTooSmall { .. }
            | TlsError::BufferTooSmall { .. }
            | TlsError::NotWritable { .. } => Origin::Local,
            TlsError::Certificate(_)
            | TlsError::AlertReceived(_)
            | TlsError::Incompatible(_)
            | TlsError::PeerMisbehaved(_)
            | TlsError::ClosedDuringHandshake
            | TlsError::RecordTooLarge { .. } => Origin::Remote,
            TlsError::Other(_) => Origin::Remote,
        }
    }

    /// The refused certificate's reason, when that is what this is.
    pub fn certificate_refusal(&self) -> Option<&CertificateRefusal> {
        match self {
            TlsError::Certificate(r) => Some(r),
            _ => None,
        }
    }
}

impl From<rustls::Error> for TlsError {
    fn from(e: rustls::Error) -> Self {
        use rustls::Error as E;
        match e {
            E::InvalidCertificate(ref ce) => TlsError::Certificate(CertificateRefusal::from(ce)),
            E::NoCertificatesPresented => TlsError::Certificate(CertificateRefusal::Missing),
            E::AlertReceived(alert) => TlsError::AlertReceived(alert),
            E::PeerIncompatible(_) | E::NoApplicationProtocol => TlsError::Incompatible(e),
            E::PeerMisbehaved(_)
            | E::InvalidMessage(_)
            | E::InappropriateMessage { .. }
            | E::InappropriateHandshakeMessage { .. }
            | E::DecryptError
            | E::PeerSentOversizedRecord => TlsError::PeerMisbehaved(e),
            other => TlsError::Other(other),
        }
    }
}

impl From<rustls::Error> for ConfigError {
    fn from(e: rustls::Error) -> Self {
        ConfigError::Rustls(e)
    }
}
