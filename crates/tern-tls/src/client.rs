//! [`ClientTls`]: a client's TLS configuration, built from the options of
//! `esp_http_client_config_t` ([`TlsConfig`]), and the factory of its sessions.

use alloc::borrow::ToOwned;
use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rustls::RootCertStore;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::{UnbufferedClientConnection, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::sign::{CertifiedKey, SigningKey, SingleCertAndKey};
use rustls::time_provider::TimeProvider;
use rustls_pki_types::{CertificateDer, ServerName};
use tern_proto::client::TlsConfig;

use crate::error::{ConfigError, TlsError};
use crate::pem;
use crate::provider::{provider_and_clock, versions};
use crate::session::{MAX_PLAINTEXT, TlsBufferLayout, TlsSession};
use crate::verify::{AcceptAnyCertificate, SkipNameCheck};

/// A client's TLS configuration: shared by all its sessions, cheap to clone.
///
/// ```
/// use tern_proto::client::TlsConfig;
/// use tern_tls::ClientTls;
/// // Mozilla's roots (the default), TLS 1.2 or 1.3, SNI on, verification on.
/// let tls = ClientTls::new(&TlsConfig::default())?;
/// let session = tls.session("example.com", vec![0u8; tls.layout().buffer_len()])?;
/// assert!(session.is_handshaking());
/// # Ok::<(), tern_tls::TlsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientTls {
    config: Arc<rustls::ClientConfig>,
    common_name: Option<ServerName<'static>>,
    layout: TlsBufferLayout,
}

impl ClientTls {
    /// The configuration `options` describe, with the built-in crypto provider and clock.
    pub fn new(options: &TlsConfig<'_>) -> Result<ClientTls, TlsError> {
        ClientTls::builder(options).build()
    }

    /// A builder, for a crypto provider, a clock, a buffer layout or a signing key of the
    /// caller's.
    pub fn builder<'a>(options: &TlsConfig<'a>) -> ClientTlsBuilder<'a> {
        ClientTlsBuilder {
            options: *options,
            provider: None,
            time: None,
            signer: None,
            layout: TlsBufferLayout::DEFAULT,
            session_cache: DEFAULT_SESSION_CACHE,
        }
    }

    /// Wraps a rustls configuration built by hand.
    pub fn from_rustls(config: Arc<rustls::ClientConfig>, layout: TlsBufferLayout) -> ClientTls {
        ClientTls { config, common_name: None, layout }
    }

    /// A session to `host` (a DNS name or an IP address; the `common_name` option replaces
    /// it) over `buffer`, which must hold [`TlsBufferLayout::buffer_len`] bytes.
    pub fn session<B: AsRef<[u8]> + AsMut<[u8]>>(&self, host: &str, buffer: B) -> Result<TlsSession<B>, TlsError> {
        self.try_session(host, buffer).map_err(|(e, _)| e)
    }

    /// [`session`](Self::session), handing the buffer back when the session cannot start (a
    /// borrowed buffer, `&'a mut [u8]`, is then not lost for the next try).
    pub fn try_session<B: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        host: &str,
        buffer: B,
    ) -> Result<TlsSession<B>, (TlsError, B)> {
        let name = match &self.common_name {
            Some(name) => name.clone(),
            None => match server_name(host) {
                Ok(name) => name,
                Err(e) => return Err((e.into(), buffer)),
            },
        };
        match UnbufferedClientConnection::new(self.config.clone(), name) {
            Ok(conn) => TlsSession::new_client(conn, self.layout, buffer),
            Err(e) => Err((ConfigError::Rustls(e).into(), buffer)),
        }
    }

    /// The buffer layout of this configuration's sessions.
    pub fn layout(&self) -> TlsBufferLayout {
        self.layout
    }

    /// The rustls configuration.
    pub fn rustls_config(&self) -> &Arc<rustls::ClientConfig> {
        &self.config
    }
}

/// Parses a host or `common_name` as a DNS name or an IP address (IPv6 with or without
/// brackets).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, ConfigError> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    ServerName::try_from(bare.to_owned()).map_err(|_| ConfigError::BadServerName(host.to_string()))
}

/// Servers whose resumption tickets a configuration keeps by default. rustls' own default
/// (256) pre-allocates a 14 KB table per configuration; a device talks to a handful of servers.
pub const DEFAULT_SESSION_CACHE: usize = 4;

/// Builds a [`ClientTls`]; see [`ClientTls::builder`].
#[must_use]
pub struct ClientTlsBuilder<'a> {
    options: TlsConfig<'a>,
    provider: Option<Arc<CryptoProvider>>,
    time: Option<Arc<dyn TimeProvider>>,
    signer: Option<(Vec<CertificateDer<'static>>, Arc<dyn SigningKey>)>,
    layout: TlsBufferLayout,
    session_cache: usize,
}

impl core::fmt::Debug for ClientTlsBuilder<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientTlsBuilder")
            .field("options", &self.options)
            .field("layout", &self.layout)
            .field("signing_key", &self.signer.is_some())
            .finish()
    }
}

impl<'a> ClientTlsBuilder<'a> {
    /// Uses this crypto provider instead of the built-in one.
    pub fn crypto_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Uses this clock for certificate validity (required without `std`).
    pub fn time_provider(mut self, time: Arc<dyn TimeProvider>) -> Self {
        self.time = Some(time);
        self
    }

    /// Sessions use this buffer layout (smaller outgoing records shrink the buffer).
    pub fn layout(mut self, layout: TlsBufferLayout) -> Self {
        self.layout = layout;
        self
    }

    /// Keeps resumption tickets for up to `servers` servers (default
    /// [`DEFAULT_SESSION_CACHE`]); 0 turns resumption off. Without `std` there is no cache
    /// and resumption is always off.
    pub fn session_cache(mut self, servers: usize) -> Self {
        self.session_cache = servers;
        self
    }

    /// Mutual TLS with a key that never enters memory: `chain` (PEM or DER) is sent, and
    /// `key` signs the handshake (a secure element such as the ATECC608, or the ESP32's
    /// ECDSA or DS peripheral, behind rustls' [`SigningKey`]). Replaces `client_cert` and
    /// `client_key`.
    pub fn signing_key(mut self, chain: &[u8], key: Arc<dyn SigningKey>) -> Result<Self, TlsError> {
        let chain = pem::certificates(chain, "client certificate")?;
        self.signer = Some((chain, key));
        Ok(self)
    }

    /// The configuration.
    pub fn build(self) -> Result<ClientTls, TlsError> {
        let o = &self.options;
        let (provider, time) = provider_and_clock(self.provider, self.time)?;
        let verifier: Arc<dyn ServerCertVerifier> = if o.insecure {
            Arc::new(AcceptAnyCertificate(provider.signature_verification_algorithms))
        } else {
            let roots = trust_anchors(o)?;
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| ConfigError::BadTrustAnchor(e.to_string()))?;
            if o.skip_common_name_check { Arc::new(SkipNameCheck(webpki)) } else { webpki }
        };
        let builder = rustls::ClientConfig::builder_with_details(provider, time)
            .with_protocol_versions(versions(o.tls_version)?)
            .map_err(ConfigError::Rustls)?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match (self.signer, o.client_cert, o.client_key) {
            (Some((chain, key)), _, _) => {
                let resolver = SingleCertAndKey::from(CertifiedKey::new(chain, key));
                builder.with_client_cert_resolver(Arc::new(resolver))
            }
            (None, Some(cert), Some(key)) => {
                let chain = pem::certificates(cert, "client certificate")?;
                let key = pem::private_key(key)?;
                builder.with_client_auth_cert(chain, key).map_err(|e| ConfigError::UnusableKey(e.to_string()))?
            }
            (None, None, None) => builder.with_no_client_auth(),
            (None, _, _) => return Err(ConfigError::CertificateWithoutKey.into()),
        };
        config.alpn_protocols = o.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        config.resumption = resumption(self.session_cache);
        config.enable_sni = !o.disable_sni;
        if self.layout.outgoing_record < MAX_PLAINTEXT + 5 {
            config.max_fragment_size = Some(self.layout.outgoing_record);
        }
        let common_name = match o.common_name {
            Some(name) => Some(server_name(name)?),
            None => None,
        };
        Ok(ClientTls { config: Arc::new(config), common_name, layout: self.layout })
    }
}

#[cfg(feature = "std")]
fn resumption(servers: usize) -> rustls::client::Resumption {
    if servers == 0 {
        rustls::client::Resumption::disabled()
    } else {
        rustls::client::Resumption::in_memory_sessions(servers)
    }
}

#[cfg(not(feature = "std"))]
fn resumption(_servers: usize) -> rustls::client::Resumption {
    rustls::client::Resumption::disabled()
}

/// The CA certificates to trust: `ca_cert`, plus the bundle with `crt_bundle` or when no CA
/// is given.
fn trust_anchors(o: &TlsConfig<'_>) -> Result<RootCertStore, ConfigError> {
    let mut roots = RootCertStore::empty();
    if let Some(ca) = o.ca_cert {
        for cert in pem::certificates(ca, "CA certificate")? {
            roots.add(cert).map_err(|e| ConfigError::BadTrustAnchor(e.to_string()))?;
        }
    }
    if o.crt_bundle || o.ca_cert.is_none() {
        add_bundle(&mut roots)?;
    }
    Ok(roots)
}

#[cfg(feature = "webpki-roots")]
fn add_bundle(roots: &mut RootCertStore) -> Result<(), ConfigError> {
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(())
}

#[cfg(not(feature = "webpki-roots"))]
fn add_bundle(_roots: &mut RootCertStore) -> Result<(), ConfigError> {
    Err(ConfigError::NoTrustAnchors)
}
