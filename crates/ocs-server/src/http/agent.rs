//! `/ocsinventory`: the agent endpoint, byte-compatible with the original. POST carries the
//! protocol; GET and other methods get the original's statuses. One log line per request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Extension, Router};
use ocs_proto::codec::encode_body;
use ocs_proto::useragent;

use crate::app::agent::agent_auth;
use crate::app::agent::{handle, refusal_of_method, AgentMeta, AgentReply};
use crate::app::{AppError, AppState};
use crate::tls::Https;

/// Routes of the agent endpoint (Apache mapped the handler on the path and everything below).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ocsinventory", any(ocsinventory_any))
        .route("/ocsinventory/{*rest}", any(ocsinventory_sub_any))
}

async fn ocsinventory_any(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    tls: Option<Extension<Https>>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    endpoint(state, peer, tls.is_some(), method, headers, body, None).await
}

async fn ocsinventory_sub_any(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    tls: Option<Extension<Https>>,
    Path(rest): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if method == Method::GET {
        if let Some(name) = rest.strip_prefix("deploy/") {
            if let Some(file) = super::web::rollout::deploy_file(&state, name).await {
                return file;
            }
        }
    }
    endpoint(
        state,
        peer,
        tls.is_some(),
        method,
        headers,
        body,
        Some(rest),
    )
    .await
}

async fn endpoint(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    over_tls: bool,
    method: Method,
    headers: HeaderMap,
    body: Body,
    sub_path: Option<String>,
) -> Response {
    let started = Instant::now();
    let mut meta = AgentMeta {
        peer: super::client::client_ip(&state.config, &headers, addr.ip()),
        user_agent: useragent::sanitise(
            headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        ),
        // The SNMP option is only ever sent over HTTPS (reference §2.1.7).
        https: over_tls || super::client::forwarded_https(&state.config, &headers, addr.ip()),
        agent_user: None,
    };
    if method != Method::POST {
        let error = refusal_of_method(&state, method.as_str(), sub_path.as_deref()).await;
        return refuse(&meta, &error, started);
    }
    // Before the body is read: refused agents cost nothing more.
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    match agent_auth::authenticate(&state, authorization, meta.peer).await {
        Ok(user) => meta.agent_user = user,
        Err(error) => return challenge(&state, &meta, &error, started),
    }
    let limit = state.config.limits.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return refuse(&meta, &too_large(limit), started);
    }
    // Held until the reply is sent: the body stays in memory that long.
    let _budget = match state.intake.reserve_body(declared, limit) {
        Ok(p) => p,
        Err(error) => return refuse(&meta, &error, started),
    };
    let read_timeout = Duration::from_secs(state.config.limits.body_read_timeout_secs);
    let body = match read_body(body, limit, read_timeout).await {
        Ok(b) => b,
        Err(error) => return refuse(&meta, &error, started),
    };
    let handled = handle(&state, &meta, body).await;
    match handled.result {
        Ok(reply) => {
            tracing::info!(
                peer = %meta.peer,
                deviceid = handled.deviceid.as_deref().unwrap_or("-"),
                query = handled.query.unwrap_or("-"),
                status = 200,
                outcome = %handled.detail,
                duration_ms = started.elapsed().as_millis() as u64,
                "agent request"
            );
            reply_response(reply, handled.encoding)
        }
        Err(error) => {
            log_refusal(
                &meta,
                handled.deviceid.as_deref(),
                handled.query,
                &error,
                started,
            );
            error_response(&error)
        }
    }
}

/// The whole body, at most `limit` bytes, within `timeout`.
async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<Bytes, AppError> {
    match tokio::time::timeout(timeout, to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(too_large(limit)),
        Err(_) => Err(AppError::Timeout(format!(
            "request body not received within {} s",
            timeout.as_secs()
        ))),
    }
}

/// Logs a refusal made before the body was read, and answers it.
fn refuse(meta: &AgentMeta, error: &AppError, started: Instant) -> Response {
    log_refusal(meta, None, None, error, started);
    error_response(error)
}

fn too_large(limit: usize) -> AppError {
    AppError::TooLarge {
        code: "E_BODY_TOO_LARGE",
        message: format!("request body over {limit} bytes"),
    }
}

fn log_refusal(
    meta: &AgentMeta,
    deviceid: Option<&str>,
    query: Option<&str>,
    error: &AppError,
    started: Instant,
) {
    let duration_ms = started.elapsed().as_millis() as u64;
    let (peer, deviceid, query, code) = (
        meta.peer,
        deviceid.unwrap_or("-"),
        query.unwrap_or("-"),
        error.code(),
    );
    if error.status() >= 500 {
        tracing::error!(%peer, deviceid, query, status = error.status(), code, reason = %error, duration_ms, "agent request failed");
    } else {
        tracing::warn!(%peer, deviceid, query, user_agent = %meta.user_agent, status = error.status(), code, reason = %error, duration_ms, "agent request refused");
    }
}

fn reply_response(reply: AgentReply, encoding: ocs_proto::BodyEncoding) -> Response {
    let body = match reply {
        AgentReply::Xml(xml) => encode_body(xml.as_bytes(), encoding),
        AgentReply::Empty => Vec::new(),
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-compressed"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A refused authentication: 401 with the Basic challenge (the service logged why), or
/// another refusal, logged here.
fn challenge(state: &AppState, meta: &AgentMeta, error: &AppError, started: Instant) -> Response {
    if error.status() != 401 {
        return refuse(meta, error, started);
    }
    let mut response = error_response(error);
    let realm = format!("Basic realm=\"{}\"", state.config.agents.auth.realm);
    if let Ok(value) = HeaderValue::from_str(&realm) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Agents only read the status line; the body says why, for people reading logs or curl.
fn error_response(error: &AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = match error {
        AppError::Internal(_) | AppError::Unavailable(_) | AppError::StorageFull(_) => format!(
            "{status}: the server could not handle the request ({})\n",
            error.code()
        ),
        _ => format!("{status}: {error} ({})\n", error.code()),
    };
    let mut response = (status, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    // As the original does: the connection may hold an unread body, so it is not reused.
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    if let Some(secs) = error.retry_after_secs() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
