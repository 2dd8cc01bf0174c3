//! `POST /ocsinterface`: the original's SOAP web service (see `app::soap`). The body is
//! bounded by the route's `DefaultBodyLimit`; everything else is the service's.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use crate::app::soap::{self, MAX_BODY_BYTES};
use crate::app::{AppError, AppState};

/// The SOAP route.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/ocsinterface",
        post(soap_post).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
    )
}

async fn soap_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge {
                code: "E_BODY_TOO_LARGE",
                message: format!("the SOAP request is larger than {MAX_BODY_BYTES} bytes"),
            }
        } else {
            AppError::bad_request("E_BAD_BODY", e.body_text())
        }
    });
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let address = crate::http::client::client_ip(&state.config, &headers, peer.ip()).to_string();
    let (bytes, refused) = match body {
        Ok(bytes) => (bytes, None),
        Err(e) => (Bytes::new(), Some(e)),
    };
    let input = match refused {
        None => Ok(&bytes[..]),
        Some(e) => Err(e),
    };
    let answer = soap::handle(&state, authorization, &address, input).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if answer.xml {
        "text/xml; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut response =
        (status, [(header::CONTENT_TYPE, content_type)], answer.body).into_response();
    if answer.challenge {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"OCS Inventory web services\""),
        );
    }
    response
}
