//! Reading Cloudflare's envelope `{success, errors, messages, result}`, leniently.
//!
//! The reader works on any JSON value through the small [`Json`] view, so the same code runs
//! natively on `serde_json::Value` (tests, fuzzing) and in wasm on the `JsValue` that the
//! platform's `JSON.parse` produced. The certificate handed back is that value itself: unknown
//! fields and unknown enum values pass through untouched.

use crate::endpoint::Shape;
use crate::error::{ApiMessage, Error, ErrorKind};
#[allow(unused_imports)]
use crate::prelude::*;
use crate::text::{excerpt, push_u64};

/// Most API errors kept from one envelope, and longest message kept of each.
const MAX_ERRORS: usize = 20;
const MAX_TEXT: usize = 1000;

/// Read-only view of a parsed JSON value.
pub trait Json: Clone {
    /// The member `key` of an object (`None` when absent or not an object).
    fn get(&self, key: &str) -> Option<Self>;
    /// The value as a boolean.
    fn as_bool(&self) -> Option<bool>;
    /// The value as a number.
    fn as_f64(&self) -> Option<f64>;
    /// The value as a string.
    fn as_string(&self) -> Option<String>;
    /// True for a JSON object (not `null`, not an array).
    fn is_object(&self) -> bool;
    /// True for a JSON array.
    fn is_array(&self) -> bool;
    /// True for JSON `null`.
    fn is_null(&self) -> bool;
    /// The items of an array (empty otherwise), at most `limit` of them.
    fn items(&self, limit: usize) -> Vec<Self>;
}

/// The string member `key`, if it is one.
pub fn string_field<J: Json>(v: &J, key: &str) -> Option<String> {
    v.get(key).and_then(|f| f.as_string())
}

/// The envelope's `errors`, leniently: non-object items are skipped, a missing `code` is 0,
/// long texts are cut.
pub fn api_errors<J: Json>(envelope: &J) -> Vec<ApiMessage> {
    api_errors_redacted(envelope, &[])
}

/// Redacts `secrets` from a text, then cuts it: in that order, so that a cut through a secret
/// cannot leave a piece of it behind.
/// Control characters (line breaks, ANSI escapes) become spaces, so an API text cannot forge
/// log lines or repaint a terminal when the message is printed.
fn clean(mut text: String, secrets: &[&str]) -> String {
    crate::text::redact(&mut text, secrets);
    if text.chars().any(char::is_control) {
        text = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
    }
    cut(text, MAX_TEXT)
}

/// [`api_errors`], with `secrets` removed from every text before it is cut.
pub fn api_errors_redacted<J: Json>(envelope: &J, secrets: &[&str]) -> Vec<ApiMessage> {
    let Some(list) = envelope.get("errors") else {
        return Vec::new();
    };
    list.items(MAX_ERRORS)
        .iter()
        .filter(|item| item.is_object())
        .map(|item| ApiMessage {
            code: item
                .get("code")
                .and_then(|c| c.as_f64())
                .filter(|c| c.is_finite())
                .map_or(0, |c| c as i64),
            message: item
                .get("message")
                .and_then(|m| m.as_string())
                .map(|m| clean(m, secrets))
                .unwrap_or_default(),
            documentation_url: string_field(item, "documentation_url").map(|u| clean(u, secrets)),
            source_pointer: item
                .get("source")
                .and_then(|s| string_field(&s, "pointer"))
                .map(|p| clean(p, secrets)),
        })
        .collect()
}

fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// Interprets one HTTP response: `Ok(result)` for a 2xx success envelope whose `result` has
/// the expected shape, otherwise the error for the status (or [`ErrorKind::Api`] for a 2xx
/// that is not a success envelope). `parsed` is the body parsed as JSON, `None` if it is not.
pub fn interpret<J: Json>(
    status: u16,
    body: &str,
    parsed: Option<J>,
    shape: Shape,
) -> Result<J, Error<J>> {
    interpret_redacted(status, body, parsed, shape, &[])
}

/// [`interpret`], with `secrets` removed from the API's texts and from the body's excerpt
/// before either is cut to length.
pub fn interpret_redacted<J: Json>(
    status: u16,
    body: &str,
    parsed: Option<J>,
    shape: Shape,
    secrets: &[&str],
) -> Result<J, Error<J>> {
    let ok_status = (200..300).contains(&status);
    let Some(envelope) = parsed.filter(|p| p.is_object()) else {
        let mut detail = String::from(if ok_status {
            "the response is not a JSON envelope"
        } else {
            "non-JSON response"
        });
        let text = if secrets.is_empty() {
            excerpt(body, 160)
        } else {
            let mut clean_body = body.to_owned();
            crate::text::redact(&mut clean_body, secrets);
            excerpt(&clean_body, 160)
        };
        if !text.is_empty() {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        return Err(status_error(status, detail, Vec::new()));
    };
    let errors = api_errors_redacted(&envelope, secrets);
    if !ok_status {
        return Err(status_error(status, String::new(), errors));
    }
    if envelope.get("success").and_then(|s| s.as_bool()) != Some(true) {
        return Err(status_error(
            status,
            "success is not true in a 2xx response".into(),
            errors,
        ));
    }
    let result = envelope.get("result");
    let fits = |r: &J| match shape {
        Shape::One => r.is_object(),
        Shape::Many => r.is_array(),
    };
    match result {
        Some(r) if fits(&r) => Ok(r),
        Some(r) if !r.is_null() => Err(status_error(
            status,
            match shape {
                Shape::One => "result is not a certificate object",
                Shape::Many => "result is not an array",
            }
            .into(),
            errors,
        )),
        Some(_) => Err(status_error(status, "result is null".into(), errors)),
        None => Err(status_error(status, "result is missing".into(), errors)),
    }
}

/// The error for `status`; a 2xx that got here is an [`ErrorKind::Api`].
fn status_error<J>(status: u16, detail: String, errors: Vec<ApiMessage>) -> Error<J> {
    let kind = if (200..300).contains(&status) {
        ErrorKind::Api
    } else {
        ErrorKind::for_status(status)
    };
    let mut e = Error::new(kind, detail);
    e.status = Some(status);
    e.errors = errors;
    e
}

/// A certificate's `binding_status`, when it is a string.
pub fn binding_status<J: Json>(cert: &J) -> Option<String> {
    string_field(cert, "binding_status")
}

/// Describes a certificate in a few words for messages: `id (binding_status)`.
pub fn describe<J: Json>(cert: &J) -> String {
    let mut s = String::from("certificate ");
    s.push_str(&cut(
        string_field(cert, "id").unwrap_or_else(|| "?".into()),
        64,
    ));
    s.push_str(" is ");
    s.push_str(&cut(
        binding_status(cert).unwrap_or_else(|| "in an unknown state".into()),
        64,
    ));
    s
}

/// `n` as a decimal string (used by tests and messages).
pub fn decimal(n: u64) -> String {
    let mut s = String::new();
    push_u64(&mut s, n);
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The native `Json` view used by the core's tests.
    impl Json for Value {
        fn get(&self, key: &str) -> Option<Self> {
            self.as_object().and_then(|o| o.get(key)).cloned()
        }
        fn as_bool(&self) -> Option<bool> {
            Value::as_bool(self)
        }
        fn as_f64(&self) -> Option<f64> {
            Value::as_f64(self)
        }
        fn as_string(&self) -> Option<String> {
            self.as_str().map(str::to_owned)
        }
        fn is_object(&self) -> bool {
            Value::is_object(self)
        }
        fn is_array(&self) -> bool {
            Value::is_array(self)
        }
        fn is_null(&self) -> bool {
            Value::is_null(self)
        }
        fn items(&self, limit: usize) -> Vec<Self> {
            self.as_array()
                .map(|a| a.iter().take(limit).cloned().collect())
                .unwrap_or_default()
        }
    }

    fn run(status: u16, body: &str, shape: Shape) -> Result<Value, Error<Value>> {
        interpret(status, body, serde_json::from_str(body).ok(), shape)
    }

    /// The spec's certificate example values, as one certificate.
    pub(crate) fn spec_certificate() -> Value {
        json!({
            "binding_status": "available",
            "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "created_at": "2014-01-01T05:20:00.12345Z",
            "expires_on": "2014-01-01T05:20:00.12345Z",
            "fingerprint": "E9:19:49:AA:DD:D8:1E:C1:20:2A:D8:22:BF:A5:F8:FC:1A:F7:10:9F:C7:5B:69:AB:0:31:91:8B:61:B4:BF:1C",
            "id": "f174e90a-fafe-4643-bbbc-4a0ed4fc8415",
            "in_use": false,
            "issuer_org": "Example Inc.",
            "issuer_raw": "O=Example Inc.,L=California,ST=San Francisco,C=US",
            "type": "gateway_managed",
            "updated_at": "2014-01-01T05:20:00.12345Z",
            "uploaded_on": "2014-01-01T05:20:00.12345Z"
        })
    }

    #[test]
    fn success_envelopes_give_the_result_untouched() {
        let mut cert = spec_certificate();
        cert["a_field_added_later"] = json!({"nested": [1, 2]});
        cert["binding_status"] = json!("active"); // legacy name: passed through
        let body =
            json!({"success": true, "errors": [], "messages": [], "result": cert}).to_string();
        assert_eq!(run(200, &body, Shape::One).unwrap(), cert);
        let list = json!({"success": true, "errors": [], "messages": [], "result": [cert, cert],
            "result_info": {"page": 1, "per_page": 20, "count": 2, "total_count": 2}})
        .to_string();
        assert_eq!(
            run(200, &list, Shape::Many)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        // activate answers 202 and deactivate 201: both are successes.
        assert!(run(202, &body, Shape::One).is_ok());
        assert!(run(201, &body, Shape::One).is_ok());
    }

    #[test]
    fn the_spec_failure_example() {
        let body = r#"{"success":false,"errors":[{"code":7003,"message":"No route for the URI"}],"messages":[],"result":null}"#;
        let e = run(404, body, Shape::One).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.status, Some(404));
        assert_eq!(e.errors[0].code, 7003);
        assert_eq!(e.message(), "HTTP 404: [7003] No route for the URI");
    }

    #[test]
    fn error_items_are_read_leniently() {
        let body = json!({"success": false, "errors": [
            {"code": 1003, "message": "bad", "documentation_url": "https://d", "source": {"pointer": "/x"}},
            "not an object",
            {"message": "no code"},
            {"code": "1004", "message": 5},
            {"code": 1e300, "message": "x".repeat(5000)}
        ], "messages": [], "result": null})
        .to_string();
        let e = run(400, &body, Shape::One).unwrap_err();
        assert_eq!(e.errors.len(), 4);
        assert_eq!(e.errors[0].documentation_url.as_deref(), Some("https://d"));
        assert_eq!(e.errors[0].source_pointer.as_deref(), Some("/x"));
        assert_eq!(
            (e.errors[1].code, e.errors[1].message.as_str()),
            (0, "no code")
        );
        assert_eq!((e.errors[2].code, e.errors[2].message.as_str()), (0, ""));
        assert!(e.errors[3].message.len() <= MAX_TEXT + 3);
        let many: Vec<Value> = (0..100)
            .map(|i| json!({"code": 1000 + i, "message": "m"}))
            .collect();
        let e = run(
            400,
            &json!({"success": false, "errors": many}).to_string(),
            Shape::One,
        )
        .unwrap_err();
        assert_eq!(e.errors.len(), MAX_ERRORS);
    }

    #[test]
    fn a_2xx_that_is_not_a_success_envelope_is_an_api_error() {
        let cert = spec_certificate();
        let cases = [
            (json!({"success": false, "errors": [{"code": 1001, "message": "nope"}], "result": null}).to_string(), "success is not true"),
            (json!({"success": true, "errors": [], "result": null}).to_string(), "result is null"),
            (json!({"success": true, "errors": []}).to_string(), "result is missing"),
            (json!({"success": true, "result": [cert]}).to_string(), "not a certificate object"),
            (json!({"success": true, "result": "text"}).to_string(), "not a certificate object"),
            (json!({"success": "true", "result": cert}).to_string(), "success is not true"),
            ("{\"success\":true,\"result\":{\"id\":".to_string(), "not a JSON envelope"),
            ("[1,2]".to_string(), "not a JSON envelope"),
            (String::new(), "not a JSON envelope"),
        ];
        for (body, needle) in cases {
            let e = run(200, &body, Shape::One).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Api, "{body}");
            assert!(e.message().contains(needle), "{body} -> {}", e.message());
        }
        let e = run(
            200,
            &json!({"success": true, "result": cert}).to_string(),
            Shape::Many,
        )
        .unwrap_err();
        assert!(e.message().contains("not an array"));
        let e = run(
            200,
            &json!({"success": false, "errors": [{"code": 1001, "message": "nope"}]}).to_string(),
            Shape::One,
        )
        .unwrap_err();
        assert!(e.message().contains("[1001] nope"));
    }

    #[test]
    fn html_error_pages_give_the_status_error_with_an_excerpt() {
        let html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>";
        let e = run(502, html, Shape::One).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InternalServer);
        assert!(e.errors.is_empty());
        assert_eq!(
            e.message(),
            "HTTP 502: non-JSON response: 502 Bad Gateway 502 Bad Gateway cloudflare"
        );
        let e = run(403, "", Shape::One).unwrap_err();
        assert_eq!(e.message(), "HTTP 403: non-JSON response");
        let e = run(400, "{}", Shape::One).unwrap_err();
        assert_eq!(
            (e.kind, e.message().as_str()),
            (ErrorKind::BadRequest, "HTTP 400")
        );
    }

    #[test]
    fn secrets_are_redacted_before_texts_are_cut() {
        let token = "SECRET-TOKEN-3f9a1c";
        // The excerpt's cut (160 characters) falls inside the token.
        let body = format!("{}{token} trailing", "x ".repeat(76));
        let e = interpret_redacted::<Value>(502, &body, None, Shape::One, &[token]).unwrap_err();
        assert!(!e.message().contains("SECRET-TOKEN"), "{}", e.message());
        // The API message's cut (1000 bytes) falls inside the token.
        let long = format!("{}{token}", "y".repeat(990));
        let envelope = json!({"success": false, "errors": [{"code": 1000, "message": long}]});
        let e = interpret_redacted(400, "", Some(envelope), Shape::One, &[token]).unwrap_err();
        assert!(!e.message().contains("SECRET-T"), "{}", e.message());
    }

    #[test]
    fn control_characters_in_api_texts_become_spaces() {
        let envelope = json!({"success": false, "errors": [{"code": 1000, "message": "bad\nFAKE LOG LINE\u{1b}[31m"}]});
        let e = interpret(400, "", Some(envelope), Shape::One).unwrap_err();
        assert_eq!(e.errors[0].message, "bad FAKE LOG LINE [31m");
    }

    #[test]
    fn describe_a_certificate() {
        assert_eq!(
            describe(&spec_certificate()),
            "certificate f174e90a-fafe-4643-bbbc-4a0ed4fc8415 is available"
        );
        assert_eq!(describe(&json!({})), "certificate ? is in an unknown state");
        assert_eq!(decimal(42), "42");
    }
}
