//! The crypto provider and clock a configuration uses when the caller gives none.

use alloc::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::time_provider::TimeProvider;

use crate::error::ConfigError;

/// The built-in crypto provider: ring with feature `ring` (the default), else aws-lc-rs with
/// feature `aws-lc-rs`.
pub fn default_provider() -> Result<Arc<CryptoProvider>, ConfigError> {
    #[cfg(feature = "ring")]
    {
        Ok(Arc::new(rustls::crypto::ring::default_provider()))
    }
    #[cfg(all(not(feature = "ring"), feature = "aws-lc-rs"))]
    {
        Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    {
        Err(ConfigError::NoCryptoProvider)
    }
}

/// The system clock with `std`; without it there is none and one must be given.
pub(crate) fn default_time_provider() -> Result<Arc<dyn TimeProvider>, ConfigError> {
    #[cfg(feature = "std")]
    {
        Ok(Arc::new(rustls::time_provider::DefaultTimeProvider))
    }
    #[cfg(not(feature = "std"))]
    {
        Err(ConfigError::NoTimeProvider)
    }
}

/// The caller's crypto provider and clock, or the built-in ones.
pub(crate) fn provider_and_clock(
    provider: Option<Arc<CryptoProvider>>,
    time: Option<Arc<dyn TimeProvider>>,
) -> Result<(Arc<CryptoProvider>, Arc<dyn TimeProvider>), ConfigError> {
    let provider = match provider {
        Some(p) => p,
        None => default_provider()?,
    };
    let time = match time {
        Some(t) => t,
        None => default_time_provider()?,
    };
    Ok((provider, time))
}

/// The protocol versions to offer.
pub(crate) fn versions(
    version: tern_proto::client::TlsVersion,
) -> Result<&'static [&'static rustls::SupportedProtocolVersion], ConfigError> {
    use tern_proto::client::TlsVersion;
    match version {
        #[cfg(feature = "tls12")]
        TlsVersion::Any => Ok(rustls::ALL_VERSIONS),
        #[cfg(not(feature = "tls12"))]
        TlsVersion::Any => Ok(TLS13_ONLY),
        #[cfg(feature = "tls12")]
        TlsVersion::Tls12 => Ok(TLS12_ONLY),
        #[cfg(not(feature = "tls12"))]
        TlsVersion::Tls12 => Err(ConfigError::Rustls(rustls::Error::General("TLS 1.2 needs feature tls12".into()))),
        TlsVersion::Tls13 => Ok(TLS13_ONLY),
    }
}

#[cfg(feature = "tls12")]
static TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
