//! The smallest HTTP/1.1 that HubSpot clients need: one request at a time per
//! connection (keep-alive), heads parsed by `httparse`, bodies by
//! `Content-Length` or `Transfer-Encoding: chunked`, responses always with a
//! `Content-Length`. It knows nothing about HubSpot.

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted; far above any sane batch (100 inputs).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// One parsed request.
#[derive(Debug, Default)]
pub(crate) struct Request {
    pub method: String,
    /// Path without the query string, percent-decoding not applied.
    pub path: String,
    /// The raw query string (after `?`), possibly empty.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// False when the client asked to close after this exchange.
    pub keep_alive: bool,
}

impl Request {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Query parameters, percent-decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        parse_form(&self.query)
    }
}

/// Decodes `a=1&b=x%20y` (also the `application/x-www-form-urlencoded` body form).
pub(crate) fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+` as space; invalid escapes are kept as-is.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// One response to write.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Response {
            status,
            content_type: "application/json;charset=utf-8",
            headers: Vec::new(),
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// A response without a body (204).
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            content_type: "",
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// Why reading a request failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The socket failed or closed mid-request: nothing to answer.
    Io,
    /// The bytes are not HTTP we accept: answer this status, then close.
    Bad(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Io
    }
}

/// A connection's read side with its buffer of not-yet-consumed bytes.
pub(crate) struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Self {
        Conn {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    fn fill(&mut self) -> io::Result<usize> {
        let len = self.buf.len();
        self.buf.resize(len + 16 * 1024, 0);
        let n = loop {
            match self.stream.read(&mut self.buf[len..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        self.buf.truncate(len + *n.as_ref().unwrap_or(&0));
        n
    }

    /// Reads the next request; `Ok(None)` when the client closed cleanly
    /// between requests.
    pub fn read_request(&mut self) -> Result<Option<Request>, ReadError> {
        let (mut req, head_len, body_kind) = loop {
            if let Some(parsed) = self.parse_head()? {
                break parsed;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Bad(431, "request head too large"));
            }
            if self.fill()? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(ReadError::Io)
                };
            }
        };
        self.buf.drain(..head_len);
        if req
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        req.body = match body_kind {
            Body::Length(n) => self.take(n)?,
            Body::Chunked => self.take_chunked()?,
        };
        Ok(Some(req))
    }

    fn parse_head(&mut self) -> Result<Option<(Request, usize, Body)>, ReadError> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        let head_len = match parsed.parse(&self.buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(ReadError::Bad(400, "malformed request head")),
        };
        let target = parsed.path.unwrap_or("/");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut req = Request {
            method: parsed.method.unwrap_or("GET").to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: parsed
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect(),
            body: Vec::new(),
            keep_alive: true,
        };
        let connection = req.header("connection").map(str::to_ascii_lowercase);
        req.keep_alive = match parsed.version {
            Some(0) => connection.as_deref() == Some("keep-alive"),
            _ => connection.as_deref() != Some("close"),
        };
        let chunked = req
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let body = if chunked {
            Body::Chunked
        } else {
            match req.header("content-length") {
                None => Body::Length(0),
                Some(v) => match v.trim().parse::<usize>() {
                    Ok(n) if n <= MAX_BODY => Body::Length(n),
                    Ok(_) => return Err(ReadError::Bad(413, "request body too large")),
                    Err(_) => return Err(ReadError::Bad(400, "bad content-length")),
                },
            }
        };
        Ok(Some((req, head_len, body)))
    }

    /// Takes exactly `n` bytes from the stream.
    fn take(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(ReadError::Io);
            }
        }
        let rest = self.buf.split_off(n);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// Takes one line (without CRLF) from the stream.
    fn take_line(&mut self) -> Result<String, ReadError> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Bad(400, "chunk header too long"));
            }
            if self.fill()? == 0 {
                return Err(ReadError::Io);
            }
        }
    }

    fn take_chunked(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.take_line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| ReadError::Bad(400, "bad chunk size"))?;
            if size == 0 {
                // Trailers, if any, end with an empty line.
                while !self.take_line()?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > MAX_BODY {
                return Err(ReadError::Bad(413, "request body too large"));
            }
            body.extend(self.take(size)?);
            if !self.take_line()?.is_empty() {
                return Err(ReadError::Bad(400, "chunk not followed by CRLF"));
            }
        }
    }

    /// Writes `resp` in one `write_all`, so small answers leave in one segment.
    pub fn write_response(&mut self, resp: &Response, keep_alive: bool) -> io::Result<()> {
        let mut out = Vec::with_capacity(256 + resp.body.len());
        write!(out, "HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status))?;
        if !resp.content_type.is_empty() {
            write!(out, "Content-Type: {}\r\n", resp.content_type)?;
        }
        write!(out, "Content-Length: {}\r\n", resp.body.len())?;
        if !keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        for (k, v) in &resp.headers {
            write!(out, "{k}: {v}\r\n")?;
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&resp.body);
        self.stream.write_all(&out)?;
        self.stream.flush()
    }
}

enum Body {
    Length(usize),
    Chunked,
}

/// The reason phrase for the status codes the emulator sends.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        207 => "Multi-Status",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        423 => "Locked",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Feeds `raw` through a real socket pair and reads requests back.
    fn read_all(raw: &'static [u8]) -> Vec<Result<Option<Request>, ReadError>> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(raw).unwrap();
        });
        let (stream, _) = listener.accept().unwrap();
        writer.join().unwrap();
        let mut conn = Conn::new(stream);
        let mut out = Vec::new();
        loop {
            let r = conn.read_request();
            let stop = !matches!(r, Ok(Some(_)));
            out.push(r);
            if stop {
                return out;
            }
        }
    }

    #[test]
    fn reads_keep_alive_requests_back_to_back() {
        let got = read_all(
            b"POST /a?x=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nConnection: close\r\n\r\n",
        );
        let first = got[0].as_ref().unwrap().as_ref().unwrap();
        assert_eq!((first.path.as_str(), first.query.as_str()), ("/a", "x=1"));
        assert_eq!(first.body, b"abc");
        assert!(first.keep_alive);
        let second = got[1].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(second.path, "/b");
        assert!(!second.keep_alive);
        assert!(matches!(got[2], Ok(None)));
    }

    #[test]
    fn decodes_chunked_bodies() {
        let got = read_all(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        );
        assert_eq!(got[0].as_ref().unwrap().as_ref().unwrap().body, b"abcde");
    }

    #[test]
    fn rejects_garbage_heads() {
        let got = read_all(b"\x01\x02 nonsense\r\n\r\n");
        assert!(matches!(got[0], Err(ReadError::Bad(400, _))));
    }

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(percent_decode("a%40b.com+x%2"), "a@b.com x%2");
        assert_eq!(
            parse_form("grant_type=refresh_token&client_id=abc"),
            vec![
                ("grant_type".to_string(), "refresh_token".to_string()),
                ("client_id".to_string(), "abc".to_string())
            ]
        );
    }
}
