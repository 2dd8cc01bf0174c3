//! `/ocsinventory`: the agent endpoint, byte-compatible with the original. POST carries the
//! protocol; GET and other methods get the original's statuses. One log line per request.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use ocs_proto::codec::encode_body;
use ocs_proto::useragent;

use crate::app::agent::{handle, AgentMeta, AgentReply};
use crate::app::agent_auth;
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// Routes of the agent endpoint (Apache mapped the handler on the path and everything below).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ocsinventory", any(ocsinventory_any))
        .route("/ocsinventory/{*rest}", any(ocsinventory_sub_any))
}

async fn ocsinventory_any(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    endpoint(state, peer, method, headers, body, None).await
}

async fn ocsinventory_sub_any(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    Path(rest): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    endpoint(state, peer, method, headers, body, Some(rest)).await
}

async fn endpoint(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    body: Body,
    sub_path: Option<String>,
) -> Response {
    let started = Instant::now();
    let mut meta = AgentMeta {
        peer: client_ip(&headers, addr.ip(), state.config.agents.trust_forwarded_for),
        user_agent: useragent::sanitise(
            headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        ),
        https: false,
        agent_user: None,
    };
    if method != Method::POST {
        let error = get_error(&state, &method, sub_path.as_deref()).await;
        log_refusal(&meta, None, None, &error, started);
        return error_response(&error);
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
    let body = match declared {
        Some(n) if n > limit => Err(()),
        _ => to_bytes(body, limit).await.map_err(|_| ()),
    };
    let body = match body {
        Ok(b) => b,
        Err(()) => {
            let error = AppError::TooLarge {
                code: "E_BODY_TOO_LARGE",
                message: format!("request body over {limit} bytes"),
            };
            log_refusal(&meta, None, None, &error, started);
            return error_response(&error);
        }
    };
    let handled = handle(&state, &meta, &body).await;
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

/// GET and the other methods, with the original's statuses.
async fn get_error(state: &AppState, method: &Method, sub_path: Option<&str>) -> AppError {
    if *method != Method::GET {
        return AppError::Forbidden {
            code: "E_METHOD",
            message: format!("{method} is not part of the agent protocol (use POST)"),
        };
    }
    let options = match Options::load(&state.store).await {
        Ok(o) => o,
        Err(e) => return e,
    };
    match sub_path.map(|p| p.split('/').next().unwrap_or_default()) {
        Some("deploy") if !options.on("DEPLOY") => AppError::Forbidden {
            code: "E_DEPLOY_OFF",
            message: "DEPLOY is off".into(),
        },
        Some("deploy") => AppError::bad_request("E_NO_SUCH_FILE", "no such deploy file"),
        Some("update") if !options.on("UPDATE") => AppError::Forbidden {
            code: "E_UPDATE_OFF",
            message: "UPDATE is off".into(),
        },
        Some("update") => AppError::NotFound("agent self-update is not supported".into()),
        _ => AppError::bad_request(
            "E_METHOD",
            "agents POST to this URL; GET is not part of the protocol",
        ),
    }
}

fn client_ip(headers: &HeaderMap, peer: IpAddr, trust_forwarded_for: bool) -> IpAddr {
    if !trust_forwarded_for {
        return peer;
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|ip| ip.trim().parse().ok())
        .unwrap_or(peer)
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
    let mut response = error_response(error);
    if error.status() != 401 {
        log_refusal(meta, None, None, error, started);
        return response;
    }
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
        AppError::Internal(_) | AppError::Unavailable(_) => format!(
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
    response
}
