//! A raw HTTP/1.1 client for the Kubernetes API tests: every request is
//! written by hand (method, path, headers, body exactly as given) on a
//! fresh connection, and watch responses are decoded chunk by chunk.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncBufReadExt;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::io::BufReader;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

/// Bound on one non-watch request (the slowest is a 3 s
/// ResourceVersionTooLarge wait).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

pub const JSON: &str = "application/json";
pub const MERGE_PATCH: &str = "application/merge-patch+json";
pub const STRATEGIC_PATCH: &str = "application/strategic-merge-patch+json";
pub const JSON_PATCH: &str = "application/json-patch+json";

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON; panics with the raw body if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response {} is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(2000)])
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn request_head(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body_len: Option<usize>,
) -> String {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: raftplane-it\r\nAccept: application/json\r\nConnection: close\r\n"
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if let Some(len) = body_len {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Reads the status line and headers.
async fn read_head(r: &mut BufReader<OwnedReadHalf>) -> io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before a response",
        ));
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in the headers",
            ));
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        let (n, v) = l
            .split_once(':')
            .ok_or_else(|| io::Error::other(format!("bad header {l:?}")))?;
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    Ok((status, headers))
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"))
}

/// Reads one chunk of a chunked body; `None` after the last chunk.
async fn read_chunk(r: &mut BufReader<OwnedReadHalf>) -> io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed inside a chunked body",
        ));
    }
    let size_text = line.trim_end_matches(['\r', '\n']);
    let size_text = size_text.split(';').next().unwrap_or("").trim();
    let size = usize::from_str_radix(size_text, 16)
        .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
    if size == 0 {
        // Trailers end with an empty line.
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 || line.trim_end_matches(['\r', '\n']).is_empty()
            {
                return Ok(None);
            }
        }
    }
    let mut data = vec![0u8; size + 2];
    r.read_exact(&mut data).await?;
    if &data[size..] != b"\r\n" {
        return Err(io::Error::other("chunk not terminated by CRLF"));
    }
    data.truncate(size);
    Ok(Some(data))
}

async fn read_body(
    r: &mut BufReader<OwnedReadHalf>,
    headers: &[(String, String)],
) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if is_chunked(headers) {
        while let Some(c) = read_chunk(r).await? {
            body.extend_from_slice(&c);
        }
    } else if let Some(len) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.resize(len, 0);
        r.read_exact(&mut body).await?;
    } else {
        r.read_to_end(&mut body).await?;
    }
    Ok(body)
}

/// One request on a fresh connection. The body is written while the
/// response is read, so a server that answers (413) before reading all of
/// a large body is still heard.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> io::Result<Response> {
    let fut = async {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (rd, mut wr) = stream.into_split();
        let has_body = !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH");
        let head = request_head(
            addr,
            method,
            path,
            content_type,
            has_body.then_some(body.len()),
        );
        let write = async move {
            wr.write_all(head.as_bytes()).await?;
            wr.write_all(body).await?;
            wr.flush().await?;
            // Keep the write half open until the response is read.
            Ok::<_, io::Error>(wr)
        };
        let read = async move {
            let mut r = BufReader::new(rd);
            let (status, headers) = read_head(&mut r).await?;
            let body = read_body(&mut r, &headers).await?;
            Ok::<_, io::Error>(Response {
                status,
                headers,
                body,
            })
        };
        let (w, r) = tokio::join!(write, read);
        match (w, r) {
            (_, Ok(resp)) => Ok(resp),
            (Err(we), Err(re)) => Err(io::Error::other(format!(
                "write failed ({we}) and read failed ({re})"
            ))),
            (Ok(_), Err(re)) => Err(re),
        }
    };
    tokio::time::timeout(REQUEST_TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{method} {path} timed out"),
            ))
        })
}

/// A client bound to one member's API address.
#[derive(Debug, Clone, Copy)]
pub struct Http {
    pub addr: SocketAddr,
}

impl Http {
    pub fn new(addr: SocketAddr) -> Http {
        Http { addr }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send("GET", path, None, b"").await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send("POST", path, Some(JSON), body.to_string().as_bytes())
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send("PUT", path, Some(JSON), body.to_string().as_bytes())
            .await
    }

    pub async fn patch(&self, path: &str, content_type: &str, body: &Value) -> Response {
        self.send(
            "PATCH",
            path,
            Some(content_type),
            body.to_string().as_bytes(),
        )
        .await
    }

    pub async fn delete(&self, path: &str, body: Option<&Value>) -> Response {
        match body {
            Some(b) => {
                self.send("DELETE", path, Some(JSON), b.to_string().as_bytes())
                    .await
            }
            None => self.send("DELETE", path, None, b"").await,
        }
    }

    /// Any request; panics on a transport error (the member is expected up).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Response {
        request(self.addr, method, path, content_type, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path} on {}: {e}", self.addr))
    }

    pub async fn watch(&self, path: &str) -> io::Result<Watch> {
        Watch::open(self.addr, path).await
    }
}

/// One watch event line.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: String,
    pub object: Value,
}

impl Event {
    pub fn rv(&self) -> u64 {
        rv_of(&self.object)
    }

    pub fn name(&self) -> &str {
        self.object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// metadata.resourceVersion as a number (0 if absent).
pub fn rv_of(obj: &Value) -> u64 {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A streaming watch response. A background task decodes the stream, so
/// [`Watch::next`] can time out without losing data.
pub struct Watch {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The Status of a non-200 answer.
    pub error: Option<Value>,
    events: tokio::sync::mpsc::Receiver<io::Result<Option<Event>>>,
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(r) = self.reader.take() {
            r.abort();
        }
    }
}

/// Decodes watch lines from a (chunked) body.
struct LineReader {
    reader: BufReader<OwnedReadHalf>,
    chunked: bool,
    buf: Vec<u8>,
    ended: bool,
}

impl LineReader {
    async fn next(&mut self) -> io::Result<Option<Event>> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let line = &line[..line.len() - 1];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let v: Value = serde_json::from_slice(line).map_err(|e| {
                    io::Error::other(format!(
                        "watch line is not JSON ({e}): {}",
                        String::from_utf8_lossy(line)
                    ))
                })?;
                let kind = v
                    .get("type")
                    .and_then(Value::as_str)
                    .ok_or_else(|| io::Error::other(format!("watch event without type: {v}")))?
                    .to_string();
                let object = v.get("object").cloned().unwrap_or(Value::Null);
                return Ok(Some(Event { kind, object }));
            }
            if self.ended {
                if self.buf.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                return Err(io::Error::other(format!(
                    "watch stream ended inside a line: {}",
                    String::from_utf8_lossy(&self.buf)
                )));
            }
            if self.chunked {
                match read_chunk(&mut self.reader).await? {
                    Some(c) => self.buf.extend_from_slice(&c),
                    None => self.ended = true,
                }
            } else {
                let mut tmp = [0u8; 16 * 1024];
                let n = self.reader.read(&mut tmp).await?;
                if n == 0 {
                    self.ended = true;
                } else {
                    self.buf.extend_from_slice(&tmp[..n]);
                }
            }
        }
    }
}

impl Watch {
    pub async fn open(addr: SocketAddr, path: &str) -> io::Result<Watch> {
        let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        let (rd, mut wr) = stream.into_split();
        wr.write_all(request_head(addr, "GET", path, None, None).as_bytes())
            .await?;
        let mut reader = BufReader::new(rd);
        let (status, headers) = tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut reader))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "watch head timed out"))??;
        let (tx, events) = tokio::sync::mpsc::channel(4096);
        if status != 200 {
            let body = tokio::time::timeout(REQUEST_TIMEOUT, read_body(&mut reader, &headers))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "watch body timed out"))??;
            let error = serde_json::from_slice(&body).ok();
            return Ok(Watch {
                status,
                headers,
                error,
                events,
                reader: None,
            });
        }
        let mut lines = LineReader {
            reader,
            chunked: is_chunked(&headers),
            buf: Vec::new(),
            ended: false,
        };
        let reader = tokio::spawn(async move {
            // The write half stays open: closing it could end the stream.
            let _wr = wr;
            loop {
                let r = lines.next().await;
                let last = !matches!(r, Ok(Some(_)));
                if tx.send(r).await.is_err() || last {
                    return;
                }
            }
        });
        Ok(Watch {
            status,
            headers,
            error: None,
            events,
            reader: Some(reader),
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The next event: `Ok(None)` when the server ended the stream
    /// cleanly, `Err` when the connection broke, or with kind `TimedOut`
    /// when nothing came within `wait` (the stream stays usable).
    pub async fn next(&mut self, wait: Duration) -> io::Result<Option<Event>> {
        match tokio::time::timeout(wait, self.events.recv()).await {
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no watch event in time",
            )),
            Ok(None) => Err(io::Error::other("watch stream already ended")),
            Ok(Some(r)) => r,
        }
    }
}
