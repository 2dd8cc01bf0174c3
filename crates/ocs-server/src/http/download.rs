//! `GET /download/{fileid}/info` and `GET /download/{fileid}/{fileid}-{n}` (issue 12 item 4):
//! the files agents fetch, only for activated packages ([`crate::app::deployment::files`]
//! checks the names and the activation), with `Content-Length`, `Last-Modified` /
//! `If-Modified-Since` and single byte ranges. Bodies stream from disk in 64 KiB reads, so a
//! fragment is never held whole in memory.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncSeekExt, ReadBuf};

use crate::app::deployment::files::{open, PackageFile};
use crate::app::AppState;

/// Bytes read from disk at a time.
const CHUNK: usize = 64 * 1024;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/download/{fileid}/{name}", get(download_get))
}

/// A byte range, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte.
    pub end: u64,
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAsk {
    /// The whole file (no header, several ranges, or one this server does not read).
    Whole,
    /// One range.
    Part(ByteRange),
    /// A range outside the file (416).
    Unsatisfiable,
}

/// Reads a `Range` header. Several ranges get the whole file, which HTTP allows.
pub fn parse_range(value: Option<&str>, len: u64) -> RangeAsk {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        // The last `b` bytes.
        let Ok(n) = b.parse::<u64>() else {
            return RangeAsk::Whole;
        };
        if n == 0 || len == 0 {
            return RangeAsk::Unsatisfiable;
        }
        ByteRange {
            start: len.saturating_sub(n),
            end: len - 1,
        }
    } else {
        let Ok(start) = a.parse::<u64>() else {
            return RangeAsk::Whole;
        };
        let end = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            match b.parse::<u64>() {
                Ok(e) if e >= start => e.min(len.saturating_sub(1)),
                _ => return RangeAsk::Whole,
            }
        };
        if start >= len {
            return RangeAsk::Unsatisfiable;
        }
        ByteRange { start, end }
    };
    RangeAsk::Part(range)
}

/// A file's bytes as a response body, read as the client takes them.
struct FileBody {
    file: tokio::fs::File,
    remaining: u64,
    buf: Vec<u8>,
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.remaining).unwrap_or(CHUNK).min(CHUNK);
        this.buf.resize(want, 0);
        let mut rb = ReadBuf::new(&mut this.buf);
        match Pin::new(&mut this.file).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n == 0 {
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "package file shrank while being sent",
                    ))));
                }
                this.remaining -= n as u64;
                Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::copy_from_slice(
                    rb.filled(),
                )))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}

/// Seconds, since HTTP dates have no finer resolution.
fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

async fn download_get(
    State(state): State<AppState>,
    Path((fileid, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut opened = match open(&state, &fileid, &name).await {
        Ok(f) => f,
        Err(e) if e.status() == 404 => return plain(StatusCode::NOT_FOUND, "not found"),
        Err(e) => {
            tracing::error!(code = e.code(), reason = %e, fileid, "package file");
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return plain(status, e.code());
        }
    };
    let modified = opened.modified.map(whole_seconds);
    let last_modified = modified.map(httpdate::fmt_http_date);
    let header_str = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    if let (Some(m), Some(since)) = (
        modified,
        header_str(header::IF_MODIFIED_SINCE).and_then(|v| httpdate::parse_http_date(v).ok()),
    ) {
        if m <= since {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            if let Some(lm) = last_modified
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                r.headers_mut().insert(header::LAST_MODIFIED, lm);
            }
            return r;
        }
    }
    let len = opened.len;
    let ask = parse_range(header_str(header::RANGE), len);
    let (status, start, count, content_range) = match ask {
        RangeAsk::Whole => (StatusCode::OK, 0, len, None),
        RangeAsk::Part(r) => (
            StatusCode::PARTIAL_CONTENT,
            r.start,
            r.end - r.start + 1,
            Some(format!("bytes {}-{}/{len}", r.start, r.end)),
        ),
        RangeAsk::Unsatisfiable => {
            let mut r = plain(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    if start > 0 {
        if let Err(e) = opened.file.seek(std::io::SeekFrom::Start(start)).await {
            tracing::error!(error = %e, fileid, "package file seek");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "E_INTERNAL");
        }
    }
    let content_type = match opened.kind {
        PackageFile::Info => "application/xml",
        PackageFile::Fragment(_) => "application/octet-stream",
    };
    let body = Body::new(FileBody {
        file: opened.file,
        remaining: count,
        buf: Vec::with_capacity(CHUNK),
    });
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(v) = last_modified.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::LAST_MODIFIED, v);
    }
    if let Some(v) = content_range.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::CONTENT_RANGE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let part = |start, end| RangeAsk::Part(ByteRange { start, end });
        assert_eq!(parse_range(None, 100), RangeAsk::Whole);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), part(0, 9));
        assert_eq!(parse_range(Some("bytes=90-"), 100), part(90, 99));
        assert_eq!(parse_range(Some("bytes=90-500"), 100), part(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), part(90, 99));
        assert_eq!(parse_range(Some("bytes=-500"), 100), part(0, 99));
        assert_eq!(
            parse_range(Some("bytes=100-"), 100),
            RangeAsk::Unsatisfiable
        );
        assert_eq!(parse_range(Some("bytes=-0"), 100), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), RangeAsk::Whole);
        assert_eq!(parse_range(Some("bytes=9-1"), 100), RangeAsk::Whole);
        assert_eq!(parse_range(Some("items=0-1"), 100), RangeAsk::Whole);
        assert_eq!(parse_range(Some("bytes=x-1"), 100), RangeAsk::Whole);
    }
}
