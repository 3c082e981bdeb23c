//! [`ServerTls`]: esp_https_server's TLS settings (`servercert`, `prvtkey_pem`, `cacert_pem`
//! for client verification, ALPN) and the factory of a server's sessions.

use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{UnbufferedServerConnection, WebPkiClientVerifier};
use rustls::sign::{CertifiedKey, SigningKey};
use rustls::time_provider::TimeProvider;
use tern_proto::client::TlsVersion;

use crate::error::{ConfigError, TlsError};
use crate::pem;
use crate::provider::{provider_and_clock, versions};
use crate::session::{MAX_PLAINTEXT, TlsBufferLayout, TlsSession};

/// A server's TLS options (`httpd_ssl_config_t`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerTlsOptions<'a> {
    /// The server's certificate chain, leaf first, PEM or DER (`servercert`).
    pub cert_chain: &'a [u8],
    /// Its private key, PEM or DER (`prvtkey_pem`); ignored with a signing key.
    pub private_key: &'a [u8],
    /// CA certificates that client certificates must chain to (`cacert_pem`); setting it
    /// turns on client certificate verification.
    pub client_ca: Option<&'a [u8]>,
    /// With `client_ca`: also accept clients that send no certificate (their certificate is
    /// verified when they do send one). ESP-IDF requires one; so does tern by default.
    pub client_cert_optional: bool,
    /// ALPN protocols to accept, most preferred first. Empty: no ALPN.
    pub alpn: &'a [&'a str],
    /// Which TLS versions to accept.
    pub tls_version: TlsVersion,
}

/// A server's TLS configuration, shared by all its sessions: esp_https_server's certificate,
/// key and optional client verification, turned into a rustls configuration once. Cheap to
/// clone; each accepted connection gets its own [`TlsSession`] from
/// [`session`](Self::session).
///
/// ```
/// use tern_tls::{Handshake, ServerTls, ServerTlsOptions};
/// # let pki = tern_testkit::Pki::new();
/// # let (cert_pem, key_pem) = (pki.server().cert_pem.as_bytes(), pki.server().key_pem.as_bytes());
/// // PEM or DER, as esp_https_server's `servercert` and `prvtkey_pem`.
/// let tls = ServerTls::new(&ServerTlsOptions {
///     cert_chain: cert_pem,
///     private_key: key_pem,
///     alpn: &["http/1.1"],
///     ..ServerTlsOptions::default()
/// })?;
/// let mut session = tls.session(vec![0u8; tls.layout().buffer_len()])?;
/// // A server speaks second: it waits for the ClientHello.
/// assert_eq!(session.handshake()?, Handshake::Receive);
///
/// // A key that does not match is refused when the configuration is built, not per client.
/// # let other_key = pki.client().key_pem.as_bytes();
/// let mismatched = ServerTlsOptions { cert_chain: cert_pem, private_key: other_key, ..ServerTlsOptions::default() };
/// assert!(ServerTls::new(&mismatched).is_err());
/// # Ok::<(), tern_tls::TlsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    layout: TlsBufferLayout,
}

impl ServerTls {
    /// The configuration `options` describe, with the built-in crypto provider and clock.
    pub fn new(options: &ServerTlsOptions<'_>) -> Result<ServerTls, TlsError> {
        ServerTls::builder(options).build()
    }

    /// A builder, for a crypto provider, a clock, a layout or a signing key of the caller's.
    pub fn builder<'a>(options: &ServerTlsOptions<'a>) -> ServerTlsBuilder<'a> {
        ServerTlsBuilder {
            options: *options,
            provider: None,
            time: None,
            signer: None,
            layout: TlsBufferLayout::DEFAULT,
        }
    }

    /// Wraps a rustls configuration built by hand.
    pub fn from_rustls(config: Arc<rustls::ServerConfig>, layout: TlsBufferLayout) -> ServerTls {
        ServerTls { config, layout }
    }

    /// A session for one accepted connection over `buffer`, which must hold
    /// [`TlsBufferLayout::buffer_len`] bytes.
    pub fn session<B: AsRef<[u8]> + AsMut<[u8]>>(&self, buffer: B) -> Result<TlsSession<B>, TlsError> {
        let conn = UnbufferedServerConnection::new(self.config.clone()).map_err(ConfigError::Rustls)?;
        TlsSession::new_server(conn, self.layout, buffer).map_err(|(e, _)| e)
    }

    /// The buffer layout of this configuration's sessions.
    pub fn layout(&self) -> TlsBufferLayout {
        self.layout
    }

    /// The rustls configuration.
    pub fn rustls_config(&self) -> &Arc<rustls::ServerConfig> {
        &self.config
    }
}

/// Builds a [`ServerTls`]; see [`ServerTls::builder`].
#[must_use]
pub struct ServerTlsBuilder<'a> {
    options: ServerTlsOptions<'a>,
    provider: Option<Arc<CryptoProvider>>,
    time: Option<Arc<dyn TimeProvider>>,
    signer: Option<Arc<dyn SigningKey>>,
    layout: TlsBufferLayout,
}

impl core::fmt::Debug for ServerTlsBuilder<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerTlsBuilder").field("layout", &self.layout).finish_non_exhaustive()
    }
}

impl ServerTlsBuilder<'_> {
    /// Uses this crypto provider instead of the built-in one.
    pub fn crypto_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Uses this clock for client certificate validity (required without `std`).
    pub fn time_provider(mut self, time: Arc<dyn TimeProvider>) -> Self {
        self.time = Some(time);
        self
    }

    /// Sessions use this buffer layout.
    pub fn layout(mut self, layout: TlsBufferLayout) -> Self {
        self.layout = layout;
        self
    }

    /// Signs with a key held outside memory instead of `private_key`.
    pub fn signing_key(mut self, key: Arc<dyn SigningKey>) -> Self {
        self.signer = Some(key);
        self
    }

    /// The configuration.
    pub fn build(self) -> Result<ServerTls, TlsError> {
        let o = &self.options;
        let (provider, time) = provider_and_clock(self.provider, self.time)?;
        let verifier: Option<Arc<dyn ClientCertVerifier>> = match o.client_ca {
            None => None,
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for cert in pem::certificates(ca, "client CA certificate")? {
                    roots.add(cert).map_err(|e| ConfigError::BadTrustAnchor(e.to_string()))?;
                }
                let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                if o.client_cert_optional {
                    builder = builder.allow_unauthenticated();
                }
                Some(builder.build().map_err(|e| ConfigError::BadTrustAnchor(e.to_string()))?)
            }
        };
        let chain = pem::certificates(o.cert_chain, "certificate chain")?;
        let key: Arc<dyn SigningKey> = match self.signer {
            Some(key) => key,
            None => {
                let der = pem::private_key(o.private_key)?;
                provider.key_provider.load_private_key(der).map_err(|e| ConfigError::UnusableKey(e.to_string()))?
            }
        };
        let certified = CertifiedKey::new(chain, key);
        certified.keys_match().or_else(|e| match e {
            // A key whose public half the provider cannot compute is checked by the handshake.
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown) => Ok(()),
            e => Err(ConfigError::UnusableKey(e.to_string())),
        })?;
        let builder = rustls::ServerConfig::builder_with_details(provider, time)
            .with_protocol_versions(versions(o.tls_version)?)
            .map_err(ConfigError::Rustls)?;
        let builder = match verifier {
            Some(v) => builder.with_client_cert_verifier(v),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
        config.alpn_protocols = o.alpn.iter().map(|p| p.as_bytes().to_vec()).collect::<Vec<_>>();
        if self.layout.outgoing_record < MAX_PLAINTEXT + 5 {
            config.max_fragment_size = Some(self.layout.outgoing_record);
        }
        Ok(ServerTls { config: Arc::new(config), layout: self.layout })
    }
}
