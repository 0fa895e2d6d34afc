//! Small string helpers. They avoid `core::fmt` on hot and common paths, which costs bytes in
//! the wasm build.

#[allow(unused_imports)]
use crate::prelude::*;
/// Appends the decimal form of `n`.
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for &b in buf.get(i..).unwrap_or(&[]) {
        out.push(b as char);
    }
}

/// Appends the decimal form of `n`, with a `-` when negative.
pub(crate) fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}

/// A short, printable excerpt of a response body that is not JSON (typically an HTML error
/// page from a proxy): tags, `<style>`/`<script>` contents and control characters removed,
/// white space folded, at most `max` characters.
pub(crate) fn excerpt(body: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0usize;
    let mut rest = body;
    let mut pending_space = false;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            // ASCII-only lowering: Unicode case tables would cost ~10 KB of wasm.
            // The first 8 bytes only: `rest.get(..8)` fails when byte 8 splits a character,
            // and lowering all of `rest` for every tag was quadratic on a large page.
            let bytes = rest.as_bytes();
            let lower_head = bytes.get(..8).unwrap_or(bytes).to_ascii_lowercase();
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            rest = rest.get(end..).unwrap_or("");
            for block in ["<style", "<script"] {
                if lower_head.starts_with(block.as_bytes()) {
                    let close = if block == "<style" {
                        "</style"
                    } else {
                        "</script"
                    };
                    rest = skip_past_ci(rest, close);
                }
            }
            pending_space = true;
            continue;
        }
        rest = rest.get(c.len_utf8()..).unwrap_or("");
        if c.is_whitespace() || c.is_control() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            if count + 1 >= max {
                break;
            }
            out.push(' ');
            count += 1;
        }
        pending_space = false;
        if count >= max {
            break;
        }
        out.push(c);
        count += 1;
    }
    if count >= max {
        out.push('…');
    }
    out
}

/// Byte offset of the first occurrence of the ASCII `needle` (optionally ignoring ASCII case).
/// An ASCII match always starts on a char boundary. Hand-rolled: `str::find(&str)` brings the
/// Two-Way searcher and its panic formatting (~5 KB of wasm) for inputs this small.
pub(crate) fn find_ascii(hay: &str, needle: &str, ignore_case: bool) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || n.len() > h.len() {
        return None;
    }
    h.windows(n.len()).position(|w| {
        if ignore_case {
            w.eq_ignore_ascii_case(n)
        } else {
            w == n
        }
    })
}

/// Skips past the first case-insensitive occurrence of `needle` and the `>` after it.
fn skip_past_ci<'a>(hay: &'a str, needle: &str) -> &'a str {
    match find_ascii(hay, needle, true) {
        Some(i) => {
            let after = hay.get(i..).unwrap_or("");
            let end = after.find('>').map_or(after.len(), |j| j + 1);
            after.get(end..).unwrap_or("")
        }
        None => "",
    }
}

/// Replaces every occurrence of each secret (of 4 characters or more) in `text` with
/// `[redacted]`. Secrets are validated printable ASCII.
pub(crate) fn redact(text: &mut String, secrets: &[&str]) {
    const MARK: &str = "[redacted]";
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        // One pass into a new string: `replace_range` per occurrence moved the rest of the
        // text each time (quadratic on a 1 MB body full of the token). Searching the original
        // text also means the mark itself can never match ("acte").
        let Some(mut at) = find_ascii(text, secret, false) else {
            continue;
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        loop {
            out.push_str(rest.get(..at).unwrap_or(""));
            out.push_str(MARK);
            rest = rest.get(at + secret.len()..).unwrap_or("");
            match find_ascii(rest, secret, false) {
                Some(next) => at = next,
                None => break,
            }
        }
        out.push_str(rest);
        *text = out;
    }
}

/// `x.ceil() as u64` without std's float functions: rounds up, saturating (a negative or NaN
/// `x` gives 0).
pub(crate) fn ceil_u64(x: f64) -> u64 {
    let t = x as u64; // toward zero, saturating
    if (t as f64) < x && t < u64::MAX {
        t + 1
    } else {
        t
    }
}

/// Whether a finite `x` is a whole number within ±2^63 (`x.fract() == 0.0` there).
pub(crate) fn is_whole(x: f64) -> bool {
    (x as i64) as f64 == x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut s = String::new();
        push_u64(&mut s, 0);
        s.push(' ');
        push_u64(&mut s, u64::MAX);
        s.push(' ');
        push_i64(&mut s, i64::MIN);
        assert_eq!(s, "0 18446744073709551615 -9223372036854775808");
    }

    #[test]
    fn excerpt_of_a_cloudflare_html_page() {
        let html = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title>\
            <style>body{color:red}</style><script>var x=1;</script></head>\
            <body><h1>Bad gateway</h1>\n\n  <p>cloudflare</p></body></html>";
        assert_eq!(excerpt(html, 200), "502 Bad Gateway Bad gateway cloudflare");
        assert_eq!(excerpt(html, 10), "502 Bad Ga…");
        assert_eq!(excerpt("a\u{0}b\u{1b}[31mc", 50), "a b [31mc");
        assert_eq!(excerpt("<unclosed", 50), "");
        assert_eq!(excerpt("ünïcödé ✓", 50), "ünïcödé ✓");
    }

    #[test]
    fn ascii_search() {
        assert_eq!(find_ascii("abc</STYLE>x", "</style", true), Some(3));
        assert_eq!(find_ascii("abc</STYLE>x", "</style", false), None);
        assert_eq!(find_ascii("ünï<b>", "<b>", false), Some(5));
        assert_eq!(find_ascii("ab", "abc", false), None);
        assert_eq!(find_ascii("ab", "", false), None);
    }

    #[test]
    fn redaction() {
        let mut s = String::from("token abcd1234 and abcd1234 again");
        redact(&mut s, &["abcd1234", ""]);
        assert_eq!(s, "token [redacted] and [redacted] again");
        let mut s = String::from("a secret inside the mark: acte acte");
        redact(&mut s, &["acte"]);
        assert_eq!(s, "a secret inside the mark: [redacted] [redacted]");
        let mut s = String::from("ünïcödé tok1tok1 ✓");
        redact(&mut s, &["tok1"]);
        assert_eq!(s, "ünïcödé [redacted][redacted] ✓");
    }
}
