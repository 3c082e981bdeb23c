//! Reading certificates and private keys given as PEM or DER, as ESP-IDF takes them
//! (`cert_pem` / `cert_der`, `client_key_pem` / `client_key_der`): text that starts with a PEM
//! armour line is PEM, anything else is one DER object.

use alloc::vec::Vec;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::ConfigError;

fn is_pem(input: &[u8]) -> bool {
    input.trim_ascii_start().starts_with(b"-----BEGIN")
}

/// Every certificate in `input`: all of a PEM text's `CERTIFICATE` sections (in order), or one
/// DER certificate. `what` names the input in errors.
pub(crate) fn certificates(input: &[u8], what: &'static str) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    if !is_pem(input) {
        if input.first() != Some(&0x30) {
            return Err(ConfigError::BadCertificate { what });
        }
        return Ok(alloc::vec![CertificateDer::from(input.to_vec())]);
    }
    let certs = CertificateDer::pem_slice_iter(input)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ConfigError::BadCertificate { what })?;
    if certs.is_empty() {
        return Err(ConfigError::NoCertificate { what });
    }
    Ok(certs)
}

/// The private key in `input`: the first PKCS#8, SEC1 or PKCS#1 PEM section, or one DER key
/// of any of those forms.
pub(crate) fn private_key(input: &[u8]) -> Result<PrivateKeyDer<'static>, ConfigError> {
    if is_pem(input) {
        PrivateKeyDer::from_pem_slice(input).map_err(|_| ConfigError::BadKey)
    } else {
        PrivateKeyDer::try_from(input).map(|k| k.clone_key()).map_err(|_| ConfigError::BadKey)
    }
}
