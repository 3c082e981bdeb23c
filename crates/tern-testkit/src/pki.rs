//! A throw-away PKI made at test time: a CA, leaves it signs, and broken certificates.
//!
//! [`Pki::new`] makes the CA "tern test CA", a server leaf for `localhost`, `127.0.0.1` and
//! `::1`, and a client leaf "tern test client", all ECDSA P-256 (rcgen on ring) and valid from a
//! day ago for 30 days. Every certificate and key is also written as PEM into a temporary
//! directory ([`Pki::dir`]) for peers that want files (openssl, nginx, curl); the directory is
//! removed when the [`Pki`] is dropped.
//!
//! The broken certificates ([`Pki::expired_server`], [`Pki::not_yet_valid_server`],
//! [`Pki::wrong_name_server`], [`Pki::other_ca_server`], [`Pki::bad_signature_server`]) each
//! differ from a good server certificate in one way only, so a test that a verifier refuses
//! them checks that one rule.

// test support: a PKI that cannot be built must stop the test
#![allow(clippy::expect_used)]

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, SanType,
};
use tempfile::TempDir;
pub use time;
use time::{Duration, OffsetDateTime};

/// A leaf certificate with its PKCS#8 key, in memory and as PEM files in [`Pki::dir`].
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// The certificate (the leaf only, no chain) as PEM.
    pub cert_pem: String,
    /// The private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub key_pem: String,
    /// The certificate as DER.
    pub cert_der: Vec<u8>,
    /// The private key as PKCS#8 DER.
    pub key_der: Vec<u8>,
    /// `<dir>/<name>.pem`, holding [`CertFiles::cert_pem`].
    pub cert_path: PathBuf,
    /// `<dir>/<name>-key.pem`, holding [`CertFiles::key_pem`].
    pub key_path: PathBuf,
}

/// What to put in a leaf certificate that [`Pki::issue`] makes.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// File stem: the files are `<name>.pem` and `<name>-key.pem` (an earlier leaf of the same
    /// name is overwritten).
    pub name: String,
    /// DNS subject alternative names.
    pub dns: Vec<String>,
    /// IP address subject alternative names.
    pub ips: Vec<IpAddr>,
    /// The subject's common name.
    pub common_name: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Adds the clientAuth extended key usage.
    pub client_auth: bool,
    /// Adds the serverAuth extended key usage.
    pub server_auth: bool,
}

impl Leaf {
    /// A server leaf named `name`: DNS `localhost`, IPs `127.0.0.1` and `::1`, CN `localhost`,
    /// serverAuth, valid from a day ago for 30 days. Change fields to vary it.
    pub fn server(name: &str) -> Leaf {
        let now = OffsetDateTime::now_utc();
        Leaf {
            name: name.to_owned(),
            dns: vec!["localhost".to_owned()],
            ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)],
            common_name: "localhost".to_owned(),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(30),
            client_auth: false,
            server_auth: true,
        }
    }

    /// A client leaf named `name` with the subject CN `common_name`, no alternative names,
    /// clientAuth, valid from a day ago for 30 days.
    pub fn client(name: &str, common_name: &str) -> Leaf {
        Leaf {
            dns: Vec::new(),
            ips: Vec::new(),
            common_name: common_name.to_owned(),
            client_auth: true,
            server_auth: false,
            ..Leaf::server(name)
        }
    }
}

/// A CA with a server and a client leaf, and the files for them; the directory is removed on
/// drop.
pub struct Pki {
    dir: TempDir,
    ca: Issuer<'static, KeyPair>,
    ca_pem: String,
    ca_der: Vec<u8>,
    ca_path: PathBuf,
    server: CertFiles,
    client: CertFiles,
}

impl Pki {
    /// Makes the CA "tern test CA" (`ca.pem`), the server leaf (`server.pem`, see
    /// [`Leaf::server`]) and the client leaf (`client.pem`, CN "tern test client").
    ///
    /// # Panics
    /// When a key cannot be generated or a file cannot be written.
    pub fn new() -> Pki {
        let dir = tempfile::Builder::new().prefix("tern-pki-").tempdir().expect("create the PKI's temp dir");
        let (ca, ca_der) = new_ca("tern test CA");
        let ca_pem = pem_encode("CERTIFICATE", &ca_der);
        let ca_path = dir.path().join("ca.pem");
        fs::write(&ca_path, &ca_pem).expect("write ca.pem");
        let server = issue_with(dir.path(), &ca, &Leaf::server("server"), false);
        let client = issue_with(dir.path(), &ca, &Leaf::client("client", "tern test client"), false);
        Pki { dir, ca, ca_pem, ca_der, ca_path, server, client }
    }

    /// The directory holding every file this PKI wrote.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA certificate as PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate as DER.
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// `<dir>/ca.pem`.
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }

    /// The server leaf made by [`Pki::new`] (`server.pem`).
    pub fn server(&self) -> &CertFiles {
        &self.server
    }

    /// The client leaf made by [`Pki::new`] (`client.pem`).
    pub fn client(&self) -> &CertFiles {
        &self.client
    }

    /// Makes a new key and a certificate for it, signed by the CA, and writes both files.
    ///
    /// # Panics
    /// When the leaf cannot be made (a DNS name that is not IA5) or written.
    pub fn issue(&self, leaf: &Leaf) -> CertFiles {
        issue_with(self.dir(), &self.ca, leaf, false)
    }

    /// A server leaf that expired yesterday (valid from 10 days ago to a day ago):
    /// `expired.pem`.
    pub fn expired_server(&self) -> CertFiles {
        let now = OffsetDateTime::now_utc();
        let leaf = Leaf {
            not_before: now - Duration::days(10),
            not_after: now - Duration::days(1),
            ..Leaf::server("expired")
        };
        self.issue(&leaf)
    }

    /// A server leaf valid only from tomorrow (for 30 days): `not-yet-valid.pem`.
    pub fn not_yet_valid_server(&self) -> CertFiles {
        let now = OffsetDateTime::now_utc();
        let leaf = Leaf {
            not_before: now + Duration::days(1),
            not_after: now + Duration::days(31),
            ..Leaf::server("not-yet-valid")
        };
        self.issue(&leaf)
    }

    /// A server leaf for the DNS name `other.example` only (CN too), no IPs:
    /// `wrong-name.pem`.
    pub fn wrong_name_server(&self) -> CertFiles {
        let leaf = Leaf {
            dns: vec!["other.example".to_owned()],
            ips: Vec::new(),
            common_name: "other.example".to_owned(),
            ..Leaf::server("wrong-name")
        };
        self.issue(&leaf)
    }

    /// A server leaf like [`Pki::server`] but signed by a fresh CA "tern untrusted CA" that
    /// nothing trusts: `other-ca.pem`.
    pub fn other_ca_server(&self) -> CertFiles {
        let (other, _) = new_ca("tern untrusted CA");
        issue_with(self.dir(), &other, &Leaf::server("other-ca"), false)
    }

    /// A server leaf like [`Pki::server`], signed by the CA, with the last byte of its DER
    /// flipped: that byte is inside the signature BIT STRING, so the certificate still parses
    /// but its signature does not verify: `bad-signature.pem`.
    pub fn bad_signature_server(&self) -> CertFiles {
        issue_with(self.dir(), &self.ca, &Leaf::server("bad-signature"), true)
    }
}

impl Default for Pki {
    fn default() -> Pki {
        Pki::new()
    }
}

/// A self-signed CA named `name`, valid from a day ago for 30 days, and its DER.
fn new_ca(name: &str) -> (Issuer<'static, KeyPair>, Vec<u8>) {
    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    params.distinguished_name.remove(DnType::CommonName);
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(30);
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("generate the CA key");
    let der = params.self_signed(&key).expect("self-sign the CA").der().to_vec();
    (Issuer::new(params, key), der)
}

/// Makes `leaf` signed by `issuer`, optionally with the signature's last byte flipped, and
/// writes its files into `dir`.
fn issue_with(dir: &Path, issuer: &Issuer<'_, KeyPair>, leaf: &Leaf, flip_signature: bool) -> CertFiles {
    let mut params = CertificateParams::default();
    params.distinguished_name.remove(DnType::CommonName);
    params.distinguished_name.push(DnType::CommonName, leaf.common_name.as_str());
    for dns in &leaf.dns {
        params.subject_alt_names.push(SanType::DnsName(dns.as_str().try_into().expect("DNS name must be IA5")));
    }
    params.subject_alt_names.extend(leaf.ips.iter().copied().map(SanType::IpAddress));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if leaf.server_auth {
        params.extended_key_usages.push(ExtendedKeyUsagePurpose::ServerAuth);
    }
    if leaf.client_auth {
        params.extended_key_usages.push(ExtendedKeyUsagePurpose::ClientAuth);
    }
    params.use_authority_key_identifier_extension = true;
    params.not_before = leaf.not_before;
    params.not_after = leaf.not_after;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("generate a leaf key");
    let mut cert_der = params.signed_by(&key, issuer).expect("sign the leaf").der().to_vec();
    if flip_signature && let Some(last) = cert_der.last_mut() {
        *last ^= 0x01;
    }
    let cert_pem = pem_encode("CERTIFICATE", &cert_der);
    let key_pem = key.serialize_pem();
    let cert_path = dir.join(format!("{}.pem", leaf.name));
    let key_path = dir.join(format!("{}-key.pem", leaf.name));
    fs::write(&cert_path, &cert_pem).expect("write a certificate file");
    fs::write(&key_path, &key_pem).expect("write a key file");
    CertFiles { cert_pem, key_pem, cert_der, key_der: key.serialize_der(), cert_path, key_path }
}

/// PEM with `\n` line endings, as rcgen and openssl write it.
fn pem_encode(tag: &str, der: &[u8]) -> String {
    pem::encode_config(&pem::Pem::new(tag, der), pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF))
}
