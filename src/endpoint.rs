//! The operations as plain data: method, path, body, expected result shape. No I/O.
//!
//! Upstream reference: <https://developers.cloudflare.com/api/resources/zero_trust/subresources/gateway/subresources/certificates/>
//! and, for the one configuration change, <https://developers.cloudflare.com/api/resources/zero_trust/subresources/gateway/subresources/configurations/>

#[allow(unused_imports)]
use crate::prelude::*;
use crate::text::push_u64;
use crate::validate::{AccountId, CertificateId};

/// HTTP methods the API uses here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
            Self::Patch => "PATCH",
        }
    }
}

/// What the envelope's `result` must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One certificate: a JSON object.
    One,
    /// `list`: a JSON array.
    Many,
}

/// One API operation with validated inputs; building one cannot fail, so neither can its URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `GET /accounts/{account_id}/gateway/certificates` (zero-trust-certificates-list-zero-trust-certificates).
    List(AccountId),
    /// `POST /accounts/{account_id}/gateway/certificates` (…-create-zero-trust-certificate).
    Create(AccountId, Option<u32>),
    /// `GET …/certificates/{certificate_id}` (…-zero-trust-certificate-details).
    Get(AccountId, CertificateId),
    /// `DELETE …/certificates/{certificate_id}` (…-delete-zero-trust-certificate).
    Delete(AccountId, CertificateId),
    /// `POST …/certificates/{certificate_id}/activate`, answered 202.
    Activate(AccountId, CertificateId),
    /// `POST …/certificates/{certificate_id}/deactivate`, answered 201.
    Deactivate(AccountId, CertificateId),
    /// `PATCH /accounts/{account_id}/gateway/configuration` with exactly
    /// `{"settings":{"certificate":{"id":"…"}}}`: makes the certificate the one TLS inspection
    /// uses. PATCH replaces only the blocks it names; never PUT, which replaces everything.
    UseCertificate(AccountId, CertificateId),
}

impl Operation {
    /// The HTTP method.
    pub fn method(&self) -> Method {
        match self {
            Self::List(_) | Self::Get(..) => Method::Get,
            Self::Create(..) | Self::Activate(..) | Self::Deactivate(..) => Method::Post,
            Self::Delete(..) => Method::Delete,
            Self::UseCertificate(..) => Method::Patch,
        }
    }

    /// The full URL below `base` (already validated and without a trailing `/`).
    pub fn url(&self, base: &str) -> String {
        let (account, id, action) = match self {
            Self::List(a) | Self::Create(a, _) => (a, None, ""),
            Self::Get(a, c) | Self::Delete(a, c) => (a, Some(c), ""),
            Self::Activate(a, c) => (a, Some(c), "/activate"),
            Self::Deactivate(a, c) => (a, Some(c), "/deactivate"),
            Self::UseCertificate(a, _) => (a, None, ""),
        };
        let mut url = String::with_capacity(base.len() + 120);
        url.push_str(base);
        url.push_str("/accounts/");
        url.push_str(account.as_str());
        url.push_str(if matches!(self, Self::UseCertificate(..)) {
            "/gateway/configuration"
        } else {
            "/gateway/certificates"
        });
        if let Some(id) = id {
            url.push('/');
            url.push_str(id.as_str());
        }
        url.push_str(action);
        url
    }

    /// The JSON body, if the operation sends one.
    pub fn body(&self) -> Option<String> {
        match self {
            Self::Create(_, Some(days)) => {
                let mut b = String::from("{\"validity_period_days\":");
                push_u64(&mut b, u64::from(*days));
                b.push('}');
                Some(b)
            }
            Self::Create(_, None) | Self::Activate(..) | Self::Deactivate(..) => Some("{}".into()),
            Self::UseCertificate(_, id) => {
                let mut b = String::from("{\"settings\":{\"certificate\":{\"id\":\"");
                b.push_str(id.as_str()); // a validated UUID: nothing in it needs escaping
                b.push_str("\"}}}");
                Some(b)
            }
            _ => None,
        }
    }

    /// The shape the envelope's `result` must have.
    pub fn shape(&self) -> Shape {
        match self {
            Self::List(_) => Shape::Many,
            _ => Shape::One,
        }
    }

    /// Whether a failed attempt may be sent again. `create` never is: the API allows three
    /// generations per account per day, and a retried POST whose first try did succeed
    /// would spend another.
    pub fn retryable(&self) -> bool {
        !matches!(self, Self::Create(..))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (AccountId, CertificateId) {
        (
            AccountId::parse::<()>("699d98642c564d2e855e9661899b7252").unwrap(),
            CertificateId::parse::<()>("f174e90a-fafe-4643-bbbc-4a0ed4fc8415").unwrap(),
        )
    }

    #[test]
    fn every_operation_on_the_wire() {
        let (a, c) = ids();
        let base = "https://api.cloudflare.com/client/v4";
        let p = "https://api.cloudflare.com/client/v4/accounts/699d98642c564d2e855e9661899b7252/gateway/certificates";
        let id = "/f174e90a-fafe-4643-bbbc-4a0ed4fc8415";
        let table: Vec<(Operation, &str, String, Option<&str>, Shape)> = vec![
            (
                Operation::List(a.clone()),
                "GET",
                p.to_string(),
                None,
                Shape::Many,
            ),
            (
                Operation::Create(a.clone(), None),
                "POST",
                p.to_string(),
                Some("{}"),
                Shape::One,
            ),
            (
                Operation::Create(a.clone(), Some(365)),
                "POST",
                p.to_string(),
                Some("{\"validity_period_days\":365}"),
                Shape::One,
            ),
            (
                Operation::Get(a.clone(), c.clone()),
                "GET",
                format!("{p}{id}"),
                None,
                Shape::One,
            ),
            (
                Operation::Delete(a.clone(), c.clone()),
                "DELETE",
                format!("{p}{id}"),
                None,
                Shape::One,
            ),
            (
                Operation::Activate(a.clone(), c.clone()),
                "POST",
                format!("{p}{id}/activate"),
                Some("{}"),
                Shape::One,
            ),
            (
                Operation::Deactivate(a.clone(), c.clone()),
                "POST",
                format!("{p}{id}/deactivate"),
                Some("{}"),
                Shape::One,
            ),
            (
                Operation::UseCertificate(a, c),
                "PATCH",
                "https://api.cloudflare.com/client/v4/accounts/699d98642c564d2e855e9661899b7252/gateway/configuration".to_string(),
                Some("{\"settings\":{\"certificate\":{\"id\":\"f174e90a-fafe-4643-bbbc-4a0ed4fc8415\"}}}"),
                Shape::One,
            ),
        ];
        for (op, method, url, body, shape) in table {
            assert_eq!(op.method().as_str(), method);
            assert_eq!(op.url(base), url);
            assert_eq!(op.body().as_deref(), body);
            assert_eq!(op.shape(), shape);
            assert_eq!(op.retryable(), !matches!(op, Operation::Create(..)));
        }
    }
}
