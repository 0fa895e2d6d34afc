//! Minimal, defensive HTTP/1.1 request reader and response writer.

use std::io::{Read, Write};
use std::net::TcpStream;

pub const MAX_HEAD: usize = 64 * 1024;
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
pub enum ReadError {
    /// Peer closed (or timed out) before a complete request head arrived.
    Closed,
    /// Answer with this status and message, then close.
    Reject(u16, &'static str),
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

pub fn read_request(stream: &mut TcpStream) -> Result<Request, ReadError> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = find_head_end(&buf) {
            break p;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Reject(431, "Request header fields too large"));
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(ReadError::Closed),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    if head_end > MAX_HEAD {
        return Err(ReadError::Reject(431, "Request header fields too large"));
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut rest = buf[head_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let version = parts.next().unwrap_or_default();
    if method.is_empty()
        || !method.bytes().all(|c| c.is_ascii_uppercase())
        || !target.starts_with('/')
        || !version.starts_with("HTTP/1.")
    {
        return Err(ReadError::Reject(400, "Malformed request line"));
    }
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(' ') => {
                headers.push((k.to_string(), v.trim().to_string()))
            }
            _ => return Err(ReadError::Reject(400, "Malformed header line")),
        }
    }
    let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
    let mut req = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let chunked = req
        .header("transfer-encoding")
        .map(|v| v.to_ascii_lowercase().contains("chunked"))
        .unwrap_or(false);
    if chunked {
        req.body = read_chunked(stream, rest)?;
    } else if let Some(cl) = req.header("content-length") {
        let len: usize = cl
            .trim()
            .parse()
            .map_err(|_| ReadError::Reject(400, "Invalid Content-Length"))?;
        if len > MAX_BODY {
            return Err(ReadError::Reject(413, "Request body too large"));
        }
        while rest.len() < len {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return Err(ReadError::Closed),
                Ok(n) => rest.extend_from_slice(&chunk[..n]),
            }
        }
        rest.truncate(len);
        req.body = rest;
    }
    Ok(req)
}

fn read_chunked(stream: &mut TcpStream, mut buf: Vec<u8>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    let mut pos = 0usize;
    let mut chunk = [0u8; 8192];
    let mut fill = |buf: &mut Vec<u8>| -> Result<(), ReadError> {
        if buf.len() > MAX_BODY + MAX_HEAD {
            return Err(ReadError::Reject(413, "Request body too large"));
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => Err(ReadError::Closed),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
        }
    };
    loop {
        // size line
        let line_end = loop {
            if let Some(p) = buf[pos..].windows(2).position(|w| w == b"\r\n") {
                break pos + p;
            }
            fill(&mut buf)?;
        };
        let line = String::from_utf8_lossy(&buf[pos..line_end]).into_owned();
        let size_str = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_str, 16)
            .map_err(|_| ReadError::Reject(400, "Invalid chunk size"))?;
        pos = line_end + 2;
        if size == 0 {
            // Trailers: read until an empty line.
            loop {
                if let Some(p) = buf[pos..].windows(2).position(|w| w == b"\r\n") {
                    if p == 0 {
                        return Ok(body);
                    }
                    pos += p + 2;
                } else {
                    fill(&mut buf)?;
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(ReadError::Reject(413, "Request body too large"));
        }
        while buf.len() < pos + size + 2 {
            fill(&mut buf)?;
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn json(status: u16, v: &serde_json::Value) -> Self {
        let mut r = Response::new(status);
        r.set_header("Content-Type", "application/json");
        r.body = serde_json::to_vec(v).unwrap_or_default();
        r
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Replace (case-insensitively) or add a header.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
    }

    /// Status line and headers; `content_length` is what gets announced.
    pub fn head_bytes(&self, content_length: usize) -> Vec<u8> {
        let mut s = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("connection") {
                continue;
            }
            // Header values come from JSON input: keep them on one line.
            let v: String = v.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            s.push_str(k);
            s.push_str(": ");
            s.push_str(&v);
            s.push_str("\r\n");
        }
        s.push_str(&format!(
            "Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
        ));
        s.into_bytes()
    }

    pub fn write_to(&self, stream: &mut TcpStream) -> std::io::Result<()> {
        let mut out = self.head_bytes(self.body.len());
        out.extend_from_slice(&self.body);
        stream.write_all(&out)?;
        stream.flush()
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        520 => "Web Server Returned an Unknown Error",
        521 => "Web Server Is Down",
        522 => "Connection Timed Out",
        523 => "Origin Is Unreachable",
        524 => "A Timeout Occurred",
        525 => "SSL Handshake Failed",
        526 => "Invalid SSL Certificate",
        _ => "Unknown",
    }
}
