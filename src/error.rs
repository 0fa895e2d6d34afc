//! The one error type, and the one function that maps an HTTP status to an error kind.

#[allow(unused_imports)]
use crate::prelude::*;
use crate::text::{push_i64, push_u64, redact};

/// What went wrong; its [`name`](ErrorKind::name) is the JS error's `name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input found before any request was sent (credentials, ids, base URL, numbers).
    InvalidInput,
    /// HTTP 400.
    BadRequest,
    /// HTTP 401.
    Authentication,
    /// HTTP 403.
    PermissionDenied,
    /// HTTP 404.
    NotFound,
    /// HTTP 409.
    Conflict,
    /// HTTP 422.
    UnprocessableEntity,
    /// HTTP 429, or a server wait longer than the client will sleep.
    RateLimit,
    /// HTTP >= 500.
    InternalServer,
    /// Any other non-2xx status, or a 2xx whose body is not a success envelope.
    Api,
    /// No response at all (DNS, refused, reset, CORS).
    Connection,
    /// An attempt exceeded `timeoutMs` and no retry was left.
    ConnectionTimeout,
    /// The caller's `AbortSignal` fired.
    UserAbort,
    /// A delete failed because the certificate is not `inactive`, or `retire` waited too long.
    CertificateNotInactive,
    /// `retire` refused a certificate that Gateway TLS inspection uses.
    CertificateInUse,
    /// `retire` refused a custom (BYO-PKI) certificate.
    UnsupportedCertificate,
    /// `createAndActivate` / `setInUse` waited past `waitTimeoutMs`, or `setInUse` refused a
    /// certificate that is not `available`.
    CertificateNotAvailable,
}

impl ErrorKind {
    /// The JS `name` of the error, as the contract fixes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidInput => "InvalidInputError",
            Self::BadRequest => "BadRequestError",
            Self::Authentication => "AuthenticationError",
            Self::PermissionDenied => "PermissionDeniedError",
            Self::NotFound => "NotFoundError",
            Self::Conflict => "ConflictError",
            Self::UnprocessableEntity => "UnprocessableEntityError",
            Self::RateLimit => "RateLimitError",
            Self::InternalServer => "InternalServerError",
            Self::Api => "APIError",
            Self::Connection => "APIConnectionError",
            Self::ConnectionTimeout => "APIConnectionTimeoutError",
            Self::UserAbort => "APIUserAbortError",
            Self::CertificateNotInactive => "CertificateNotInactiveError",
            Self::CertificateInUse => "CertificateInUseError",
            Self::UnsupportedCertificate => "UnsupportedCertificateError",
            Self::CertificateNotAvailable => "CertificateNotAvailableError",
        }
    }

    /// The error kind for a non-2xx HTTP status (the official SDKs' table).
    pub fn for_status(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Authentication,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            409 => Self::Conflict,
            422 => Self::UnprocessableEntity,
            429 => Self::RateLimit,
            s if s >= 500 => Self::InternalServer,
            _ => Self::Api,
        }
    }
}

/// One item of the envelope's `errors` array.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiMessage {
    /// Cloudflare's error code (>= 1000 in practice).
    pub code: i64,
    /// The API's message.
    pub message: String,
    /// `documentation_url`, when the API sent one.
    pub documentation_url: Option<String>,
    /// `source.pointer`, when the API sent one.
    pub source_pointer: Option<String>,
}

/// Every failure of this crate. `J` is the platform's JSON value (a certificate, on the errors
/// that carry one).
#[derive(Clone, Debug, PartialEq)]
pub struct Error<J> {
    /// Which error.
    pub kind: ErrorKind,
    /// HTTP status of the failing response.
    pub status: Option<u16>,
    /// The envelope's `errors`; empty when there was none.
    pub errors: Vec<ApiMessage>,
    /// The `cf-ray` response header.
    pub cf_ray: Option<String>,
    /// The wait the server asked for (Retry-After and friends), in milliseconds.
    pub retry_after_ms: Option<u64>,
    /// The last state seen of the certificate concerned.
    pub certificate: Option<J>,
    /// What the client has to say beyond the API's errors (never holds a credential).
    pub detail: String,
}

impl<J> Error<J> {
    /// An error of `kind` with a message and nothing else.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            errors: Vec::new(),
            cf_ray: None,
            retry_after_ms: None,
            certificate: None,
            detail: detail.into(),
        }
    }

    /// Shorthand for [`ErrorKind::InvalidInput`].
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, detail)
    }

    /// Attaches a certificate state.
    pub fn with_certificate(mut self, certificate: J) -> Self {
        self.certificate = Some(certificate);
        self
    }

    /// Changes the kind, keeping status, errors and the rest.
    pub fn into_kind(mut self, kind: ErrorKind, detail: impl Into<String>) -> Self {
        self.kind = kind;
        self.detail = detail.into();
        self
    }

    /// The human-readable message: the HTTP status, the client's detail and every API error
    /// as `[code] message`, e.g. `HTTP 404: [7003] No route for the URI`.
    pub fn message(&self) -> String {
        let mut out = String::new();
        if let Some(status) = self.status {
            out.push_str("HTTP ");
            push_u64(&mut out, u64::from(status));
        }
        let sep = |out: &mut String| {
            if !out.is_empty() {
                out.push_str(if out.starts_with("HTTP ") && !out.contains(':') {
                    ": "
                } else {
                    "; "
                });
            }
        };
        if !self.detail.is_empty() {
            sep(&mut out);
            out.push_str(&self.detail);
        }
        for e in &self.errors {
            sep(&mut out);
            out.push('[');
            push_i64(&mut out, e.code);
            out.push_str("] ");
            out.push_str(&e.message);
        }
        if let Some(ms) = self.retry_after_ms {
            sep(&mut out);
            out.push_str("retry after ");
            push_u64(&mut out, ms);
            out.push_str(" ms");
        }
        if out.is_empty() {
            out.push_str(self.kind.name());
        }
        out
    }

    /// Removes every occurrence of the given secrets from every text the error carries.
    pub fn redact(&mut self, secrets: &[&str]) {
        redact(&mut self.detail, secrets);
        for e in &mut self.errors {
            redact(&mut e.message, secrets);
            if let Some(u) = &mut e.documentation_url {
                redact(u, secrets);
            }
            if let Some(p) = &mut e.source_pointer {
                redact(p, secrets);
            }
        }
        if let Some(r) = &mut self.cf_ray {
            redact(r, secrets);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let table = [
            (400, "BadRequestError"),
            (401, "AuthenticationError"),
            (403, "PermissionDeniedError"),
            (404, "NotFoundError"),
            (405, "APIError"),
            (408, "APIError"),
            (409, "ConflictError"),
            (422, "UnprocessableEntityError"),
            (429, "RateLimitError"),
            (500, "InternalServerError"),
            (502, "InternalServerError"),
            (520, "InternalServerError"),
            (302, "APIError"),
            (418, "APIError"),
        ];
        for (status, name) in table {
            assert_eq!(ErrorKind::for_status(status).name(), name, "{status}");
        }
    }

    #[test]
    fn message_lists_status_and_every_api_error() {
        let mut e: Error<()> = Error::new(ErrorKind::NotFound, "");
        e.status = Some(404);
        e.errors = vec![
            ApiMessage {
                code: 7003,
                message: "No route for the URI".into(),
                ..Default::default()
            },
            ApiMessage {
                code: 1001,
                message: "second".into(),
                ..Default::default()
            },
        ];
        assert_eq!(
            e.message(),
            "HTTP 404: [7003] No route for the URI; [1001] second"
        );
        e.detail = "the detail".into();
        assert_eq!(
            e.message(),
            "HTTP 404: the detail; [7003] No route for the URI; [1001] second"
        );
        let e: Error<()> = Error::invalid("certificateId must be a UUID");
        assert_eq!(e.message(), "certificateId must be a UUID");
        let e: Error<()> = Error::new(ErrorKind::Connection, "");
        assert_eq!(e.message(), "APIConnectionError");
    }

    #[test]
    fn redact_covers_every_text() {
        let mut e: Error<()> = Error::new(ErrorKind::BadRequest, "sent secret-token-1");
        e.errors = vec![ApiMessage {
            code: 1,
            message: "echo secret-token-1".into(),
            ..Default::default()
        }];
        e.redact(&["secret-token-1"]);
        assert!(!e.message().contains("secret-token-1"));
        assert!(e.message().contains("[redacted]"));
    }
}
