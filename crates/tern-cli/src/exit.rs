//! Failures and curl's exit codes for them.

use std::time::Duration;

use tern_proto::client::{ClientError, Stage, url};
use tern_tls::{ConfigError, TlsError};

/// A transfer that did not succeed: curl's exit code and a message for stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The process exit code, curl's for the same failure.
    pub(crate) code: i32,
    /// What went wrong, without the `tern: (N)` prefix.
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }

    /// The line printed on stderr, curl style.
    pub(crate) fn line(&self) -> String {
        format!("tern: ({}) {}", self.code, self.message)
    }
}

/// What the message of a failed request may mention.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// Host of the URL being fetched.
    pub(crate) host: String,
    /// Its port.
    pub(crate) port: u16,
    /// Time since the transfer started.
    pub(crate) elapsed: Duration,
    /// Body bytes received of the current response.
    pub(crate) received: u64,
}

/// curl's exit code and message for an error of the std client.
pub(crate) fn from_std(error: &tern_std::Error, cx: &Context) -> Failure {
    match error {
        tern_std::Error::Client(e) => from_client(e, cx),
        tern_std::Error::Resolve { host, .. } => Failure::new(6, format!("Could not resolve host: {host}")),
        tern_std::Error::Tls(e) => from_tls(e),
        other => Failure::new(56, format!("Failure when receiving data from the peer: {other}")),
    }
}

/// curl's exit code and message for a TLS failure: 60 for a refused server certificate, 77
/// for a CA file that cannot be used, 58 for a client certificate or key, 35 for the rest.
pub(crate) fn from_tls(error: &TlsError) -> Failure {
    match error {
        TlsError::Certificate(reason) => Failure::new(60, format!("SSL certificate problem: {reason}")),
        TlsError::Config(ConfigError::BadCertificate { what } | ConfigError::NoCertificate { what })
            if what.contains("CA") =>
        {
            Failure::new(77, format!("error setting certificate file: {error}"))
        }
        TlsError::Config(ConfigError::BadTrustAnchor(_) | ConfigError::NoTrustAnchors) => {
            Failure::new(77, format!("error setting certificate file: {error}"))
        }
        TlsError::Config(_) => Failure::new(58, format!("unable to use client certificate: {error}")),
        _ => Failure::new(35, format!("TLS connect error: {error}")),
    }
}

/// curl's exit code and message for an error of the engine.
pub(crate) fn from_client(error: &ClientError, cx: &Context) -> Failure {
    let (host, port) = (&cx.host, cx.port);
    let (code, message) = match error {
        ClientError::Connect
        | ClientError::Transport(Stage::Connect)
        | ClientError::ConnectionClosed(Stage::Connect) => {
            (7, format!("Failed to connect to {host} port {port}: Couldn't connect to server"))
        }
        ClientError::Timeout(stage) => (
            28,
            format!(
                "Operation timed out after {} milliseconds with {} bytes received ({stage})",
                cx.elapsed.as_millis(),
                cx.received
            ),
        ),
        ClientError::TooManyRedirects { max } => (47, format!("Maximum ({max}) redirects followed")),
        ClientError::TlsUnavailable => {
            (1, "Protocol \"https\" not supported: this tern is built without TLS (it comes with tern-tls)".to_owned())
        }
        ClientError::Url(url::UrlError::UnsupportedScheme) => (1, format!("Protocol not supported: {error}")),
        ClientError::Url(_) | ClientError::BadLocation(_) => (3, format!("URL using bad/illegal format: {error}")),
        ClientError::IncompleteBody { .. } | ClientError::ConnectionClosed(Stage::ReceiveBody) => {
            (18, format!("Transfer closed with outstanding read data remaining: {error}"))
        }
        ClientError::ConnectionClosed(Stage::ReceiveHead) => (52, "Empty reply from server".to_owned()),
        ClientError::ConnectionClosed(Stage::Send) | ClientError::Transport(Stage::Send) => {
            (55, format!("Failed sending data to the peer: {error}"))
        }
        ClientError::Transport(_) => (56, format!("Failure when receiving data from the peer: {error}")),
        ClientError::Remote(_) | ClientError::RedirectWithoutLocation(_) => (8, format!("Weird server reply: {error}")),
        ClientError::Auth(_) => (94, format!("An authentication function returned an error: {error}")),
        ClientError::HeaderTooLong { .. } | ClientError::StoreFull { .. } | ClientError::BufferTooSmall { .. } => {
            (27, format!("Out of memory: {error}"))
        }
        ClientError::Local(_) => (43, format!("A libcurl function was given a bad argument: {error}")),
        _ => (1, error.to_string()),
    };
    Failure::new(code, message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
    use super::*;

    #[test]
    fn common_failures_get_curls_codes() {
        let cx = Context { host: "h".into(), port: 80, elapsed: Duration::ZERO, received: 0 };
        let code = |e: ClientError| from_client(&e, &cx).code;
        assert_eq!(code(ClientError::Connect), 7);
        assert_eq!(code(ClientError::Timeout(Stage::ReceiveHead)), 28);
        assert_eq!(code(ClientError::TooManyRedirects { max: 2 }), 47);
        assert_eq!(code(ClientError::TlsUnavailable), 1);
        assert_eq!(code(ClientError::Url(url::UrlError::MissingHost)), 3);
        assert_eq!(code(ClientError::IncompleteBody { received: 3 }), 18);
        assert_eq!(code(ClientError::ConnectionClosed(Stage::ReceiveHead)), 52);
        let resolve = tern_std::Error::Resolve { host: "x.invalid".into(), source: std::io::ErrorKind::Other.into() };
        assert_eq!(from_std(&resolve, &cx), Failure::new(6, "Could not resolve host: x.invalid"));
    }
}
