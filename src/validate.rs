//! Every check made before a request is sent. A failure here is an
//! [`ErrorKind::InvalidInput`](crate::error::ErrorKind::InvalidInput) and no request goes out.
//!
//! Messages never echo a rejected value: a token pasted into the wrong field must not end up
//! in an error message or a log.

use crate::error::Error;
#[allow(unused_imports)]
use crate::prelude::*;
use crate::text::{is_whole, push_u64};

/// Largest timer delay JS engines honour: a larger `setTimeout` delay fires at once.
pub const MAX_TIMER_MS: u64 = 2_147_483_647;
/// Retries beyond this are refused: at 1200 requests / 5 min they only burn the budget.
pub const MAX_RETRIES: u64 = 10;
/// `validity_period_days` range the API accepts (1 day to 30 years).
pub const VALIDITY_DAYS: (u64, u64) = (1, 10_950);

/// A Cloudflare account id: 1 to 32 ASCII letters and digits (32 hex in practice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountId(String);

impl AccountId {
    /// Validates an account id.
    pub fn parse<J>(value: &str) -> Result<Self, Error<J>> {
        Self::parse_as(value, "account_id")
    }

    /// Validates an account id given as the option `name` (`account_id` or `accountId`).
    pub fn parse_as<J>(value: &str, name: &str) -> Result<Self, Error<J>> {
        let mut m = String::from(name);
        if value.is_empty() {
            m.push_str(" is required (the 32-character account id)");
            return Err(Error::invalid(m));
        }
        if value.len() > 32 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            m.push_str(" must be 1 to 32 ASCII letters and digits");
            return Err(Error::invalid(with_length(m, value)));
        }
        Ok(Self(value.to_owned()))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Appends ` (got N characters)`: how long the rejected value was, never the value itself.
fn with_length(mut message: String, rejected: &str) -> String {
    message.push_str(" (got ");
    push_u64(&mut message, rejected.chars().count() as u64);
    message.push_str(" characters)");
    message
}

/// A certificate id: a UUID (8-4-4-4-12 hex digits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateId(String);

impl CertificateId {
    /// Validates a certificate id. Only hex digits and dashes pass, so nothing in it can
    /// change the request path (`/`, `..`, `%2F`, `?`, `#`, look-alike characters).
    pub fn parse<J>(value: &str) -> Result<Self, Error<J>> {
        let ok = value.len() == 36
            && value.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        if value.is_empty() {
            return Err(Error::invalid("certificateId is required"));
        }
        if !ok {
            let m = String::from(
                "certificateId must be a UUID like f174e90a-fafe-4643-bbbc-4a0ed4fc8415",
            );
            return Err(Error::invalid(with_length(m, value)));
        }
        Ok(Self(value.to_owned()))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How requests authenticate: exactly one scheme.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Token(String),
    /// `X-Auth-Email` + `X-Auth-Key` (Global API key).
    Key {
        /// The account email.
        email: String,
        /// The Global API key.
        key: String,
    },
}

impl core::fmt::Debug for Auth {
    // Never print a credential, even in a debug dump.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Token(_) => "Auth::Token([redacted])",
            Self::Key { .. } => "Auth::Key([redacted])",
        })
    }
}

impl Auth {
    /// Picks the scheme from the options; empty strings count as absent.
    pub fn from_options<J>(
        api_token: Option<&str>,
        api_email: Option<&str>,
        api_key: Option<&str>,
    ) -> Result<Self, Error<J>> {
        fn some(v: Option<&str>) -> Option<&str> {
            v.filter(|s| !s.is_empty())
        }
        let (token, email, key) = (some(api_token), some(api_email), some(api_key));
        for (name, value) in [("apiToken", token), ("apiEmail", email), ("apiKey", key)] {
            if let Some(v) = value {
                check_credential(name, v)?;
            }
        }
        match (token, email, key) {
            (Some(_), _, Some(_)) | (Some(_), Some(_), None) => Err(Error::invalid(
                "give either apiToken or apiEmail + apiKey, not both",
            )),
            (Some(t), None, None) => Ok(Self::Token(t.to_owned())),
            (None, Some(e), Some(k)) => Ok(Self::Key { email: e.to_owned(), key: k.to_owned() }),
            (None, Some(_), None) => Err(Error::invalid("apiEmail needs apiKey (the Global API key)")),
            (None, None, Some(_)) => Err(Error::invalid("apiKey needs apiEmail")),
            (None, None, None) => Err(Error::invalid(
                "no credentials: give apiToken (an API token with Zero Trust Write) or apiEmail + apiKey",
            )),
        }
    }

    /// The request headers of this scheme.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Token(t) => {
                let mut v = String::with_capacity(t.len() + 7);
                v.push_str("Bearer ");
                v.push_str(t);
                vec![("Authorization", v)]
            }
            Self::Key { email, key } => {
                vec![("X-Auth-Email", email.clone()), ("X-Auth-Key", key.clone())]
            }
        }
    }

    /// The secret strings, for redaction.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Self::Token(t) => vec![t.as_str()],
            Self::Key { email, key } => vec![key.as_str(), email.as_str()],
        }
    }
}

/// A credential goes into an HTTP header: visible ASCII and inner spaces only.
fn check_credential<J>(name: &str, value: &str) -> Result<(), Error<J>> {
    if value.len() > 4096 {
        let mut m = String::from(name);
        m.push_str(" is too long (over 4096 characters)");
        return Err(Error::invalid(m));
    }
    if value.chars().any(|c| c.is_control()) {
        let mut m = String::from(name);
        m.push_str(" holds a control character or line break");
        return Err(Error::invalid(m));
    }
    if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) || value.trim() != value {
        let mut m = String::from(name);
        m.push_str(" must be printable ASCII without leading or trailing spaces");
        return Err(Error::invalid(m));
    }
    Ok(())
}

/// Validates `baseUrl` and returns it without trailing slashes: an absolute http(s) URL with a
/// host, no user info, no query or fragment, no white space or control characters.
pub fn base_url<J>(value: &str) -> Result<String, Error<J>> {
    let bad = |why: &str| {
        let mut m = String::from("baseUrl must be an absolute http(s) URL");
        m.push_str(why);
        Err(Error::invalid(m))
    };
    let lower = value.to_ascii_lowercase();
    let rest_at = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        return bad(" such as https://api.cloudflare.com/client/v4");
    };
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return bad(" without spaces, control or non-ASCII characters");
    }
    if value.contains(['?', '#', '\\']) {
        return bad(" without a query, fragment or backslash");
    }
    let rest = value.get(rest_at..).unwrap_or("");
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return bad(" without user info (user:password@)");
    }
    let (host, port) = match authority.strip_prefix('[') {
        // IPv6 literal: [addr] or [addr]:port
        Some(v6) => match v6.split_once(']') {
            Some((addr, "")) => (addr, None),
            Some((addr, tail)) => (addr, Some(tail.strip_prefix(':').unwrap_or(tail))),
            None => ("", None),
        },
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b))
    {
        return bad(" with a host");
    }
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return bad(" with a valid port");
        }
    }
    if rest.split('/').skip(1).any(|seg| seg == "." || seg == "..") {
        return bad(" without . or .. path segments");
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// Validates a whole number option given as a JS number: finite, integral, 0..=max.
pub fn whole_number<J>(name: &str, value: f64, max: u64) -> Result<u64, Error<J>> {
    if value.is_finite() && value >= 0.0 && is_whole(value) && value <= max as f64 {
        return Ok(value as u64);
    }
    let mut m = String::from(name);
    m.push_str(" must be a whole number from 0 to ");
    push_u64(&mut m, max);
    Err(Error::invalid(m))
}

/// Validates `validity_period_days` (1..=10950).
pub fn validity_days<J>(value: f64) -> Result<u32, Error<J>> {
    let (lo, hi) = VALIDITY_DAYS;
    if value.is_finite() && is_whole(value) && value >= lo as f64 && value <= hi as f64 {
        return Ok(value as u32);
    }
    Err(Error::invalid(
        "validity_period_days must be a whole number from 1 to 10950",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    type E = Error<()>;

    #[test]
    fn certificate_ids() {
        assert!(CertificateId::parse::<()>("f174e90a-fafe-4643-bbbc-4a0ed4fc8415").is_ok());
        assert!(CertificateId::parse::<()>("F174E90A-FAFE-4643-BBBC-4A0ED4FC8415").is_ok());
        for bad in [
            "",
            "f174e90a-fafe-4643-bbbc-4a0ed4fc84150",
            "f174e90a-fafe-4643-bbbc-4a0ed4fc841",
            "f174e90afafe4643bbbc4a0ed4fc84150000",
            "../../../../accounts/x/y/z/abcdefghi",
            "f174e90a-fafe-4643-bbbc-4a0ed4fc841/",
            "f174e90a-fafe-4643-bbbc-4a0ed4fc%2F5",
            "f174e90a-fafe-4643-bbbc-4a0ed4fc841?",
            "f174e90a-fafe-4643-bbbc-4a0ed4fc841#",
            "f174e90a-fafe-4643-bbbc-4a0ed4fc841g",
            "f174e90a\u{2010}fafe-4643-bbbc-4a0ed4fc841", // unicode hyphen look-alike
            "f174e90a-fafe-4643-bbbc-4a0ed4fc８４１",     // full-width digits
        ] {
            let e = CertificateId::parse::<()>(bad).unwrap_err();
            assert_eq!(e.kind.name(), "InvalidInputError", "{bad}");
            assert!(e.detail.starts_with("certificateId"), "{bad}");
        }
    }

    #[test]
    fn account_ids() {
        assert!(AccountId::parse::<()>("699d98642c564d2e855e9661899b7252").is_ok());
        assert!(AccountId::parse::<()>("a").is_ok());
        for bad in [
            "",
            "699d98642c564d2e855e9661899b72520",
            "abc/def",
            "abc def",
            "ab..",
            "äbc",
            "abc%2F",
        ] {
            assert!(AccountId::parse::<()>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials() {
        let ok = |t, e, k| Auth::from_options::<()>(t, e, k);
        assert_eq!(
            ok(Some("tok"), None, None).unwrap(),
            Auth::Token("tok".into())
        );
        assert!(matches!(
            ok(None, Some("a@b.c"), Some("k")).unwrap(),
            Auth::Key { .. }
        ));
        assert!(matches!(
            ok(Some("tok"), Some(""), Some("")).unwrap(),
            Auth::Token(_)
        ));
        for (t, e, k, needle) in [
            (None, None, None, "no credentials"),
            (Some(""), None, None, "no credentials"),
            (None, Some("a@b.c"), None, "apiEmail needs apiKey"),
            (None, None, Some("k"), "apiKey needs apiEmail"),
            (Some("t"), None, Some("k"), "not both"),
            (Some("t"), Some("a@b.c"), Some("k"), "not both"),
            (Some("t\r\nX-Evil: 1"), None, None, "control character"),
            (Some("t\0"), None, None, "control character"),
            (None, Some("a@b.c\n"), Some("k"), "control character"),
            (Some("tök"), None, None, "printable ASCII"),
            (Some(" tok"), None, None, "printable ASCII"),
        ] {
            let err: E = ok(t, e, k).unwrap_err();
            assert!(
                err.detail.contains(needle),
                "{:?} -> {}",
                (t, e, k),
                err.detail
            );
        }
        let token = Auth::Token("sekrit".into());
        assert_eq!(
            token.headers(),
            vec![("Authorization", "Bearer sekrit".to_string())]
        );
        assert!(!format!("{token:?}").contains("sekrit"));
        let key = Auth::Key {
            email: "a@b.c".into(),
            key: "k".into(),
        };
        assert_eq!(key.headers().len(), 2);
    }

    #[test]
    fn base_urls() {
        let ok = |u: &str| base_url::<()>(u).unwrap();
        assert_eq!(
            ok("https://api.cloudflare.com/client/v4"),
            "https://api.cloudflare.com/client/v4"
        );
        assert_eq!(
            ok("https://api.cloudflare.com/client/v4/"),
            "https://api.cloudflare.com/client/v4"
        );
        assert_eq!(
            ok("http://127.0.0.1:8787/client/v4//"),
            "http://127.0.0.1:8787/client/v4"
        );
        assert_eq!(ok("HTTP://localhost"), "HTTP://localhost");
        assert_eq!(ok("http://[::1]:8080/x"), "http://[::1]:8080/x");
        for bad in [
            "",
            "api.cloudflare.com/client/v4",
            "/client/v4",
            "ftp://example.com",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://user:pass@example.com",
            "https://token@example.com/x",
            "https://example.com/x?y=1",
            "https://example.com/x#y",
            "https://exa mple.com",
            "https://example.com/\n",
            "https://example.com:99999999/",
            "https://example.com:/",
            "https://example.com/a/../b",
            "https://ex\\ample.com",
        ] {
            let e: E = base_url(bad).unwrap_err();
            assert!(e.detail.starts_with("baseUrl"), "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(
            whole_number::<()>("timeoutMs", 0.0, MAX_TIMER_MS).unwrap(),
            0
        );
        assert_eq!(
            whole_number::<()>("timeoutMs", 60000.0, MAX_TIMER_MS).unwrap(),
            60000
        );
        for bad in [
            -1.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
            1e300,
            MAX_TIMER_MS as f64 + 1.0,
        ] {
            assert!(
                whole_number::<()>("timeoutMs", bad, MAX_TIMER_MS).is_err(),
                "{bad}"
            );
        }
        assert!(whole_number::<()>("maxRetries", 11.0, MAX_RETRIES).is_err());
        assert_eq!(validity_days::<()>(1.0).unwrap(), 1);
        assert_eq!(validity_days::<()>(10950.0).unwrap(), 10950);
        for bad in [0.0, 10951.0, 1.5, -5.0, f64::NAN] {
            assert!(validity_days::<()>(bad).is_err());
        }
    }
}
