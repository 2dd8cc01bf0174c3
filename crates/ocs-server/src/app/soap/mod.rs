//! The original's SOAP web service (`POST /ocsinterface`, reference §9.1), for the sync
//! tools and scripts written against it with SOAP::Lite: off unless the option
//! `WEB_SERVICE_ENABLED` is 1, then open to console accounts allowed to use web services
//! (HTTP Basic, [`web_services::authenticate`]).
//!
//! A request goes: [`envelope`] (the call: method and positional string arguments) →
//! [`methods`] (one function per method of the original, its argument checks and error
//! codes; [`computers`] for `get_computers_V1`, whose request document [`document`] reads)
//! → [`writer`] (the returned XML strings, laid out as the original's XML::Simple wrote
//! them, and the SOAP envelope). Errors the original returned as values
//! (`<RESULT><ERROR>BAD_…</ERROR></RESULT>`) stay values; a request we cannot read, a call
//! that would change data by an account without the administrator role, and internal
//! failures are SOAP faults with a reason.

pub mod computers;
pub mod document;
pub mod envelope;
pub mod methods;
pub mod writer;

use crate::app::options::Options;
use crate::app::{web_services, AppError, AppState};

/// Largest request body taken (`DefaultBodyLimit` of the route).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Bounds on what a call may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Arguments of a call, elements of a request document.
    pub max_arguments: usize,
    /// Bytes of one argument or value.
    pub max_argument_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_arguments: 10_000,
            max_argument_bytes: 256 * 1024,
        }
    }
}

/// A refusal of what the client sent (a `soap:Client` fault).
pub(crate) fn client_fault(message: impl Into<String>) -> AppError {
    AppError::bad_request("E_SOAP_REQUEST", message)
}

/// What the handler sends back.
#[derive(Debug)]
pub struct SoapResponse {
    /// HTTP status.
    pub status: u16,
    /// Body: a SOAP envelope (`text/xml`), or plain text for a 401.
    pub body: String,
    /// Whether the body is a SOAP envelope.
    pub xml: bool,
    /// Whether to challenge for Basic credentials.
    pub challenge: bool,
}

fn fault_response(method: &str, peer: &str, e: &AppError) -> SoapResponse {
    let status = match e {
        AppError::Unauthorized(_) => {
            return SoapResponse {
                status: 401,
                body: format!("{e}\n"),
                xml: false,
                challenge: true,
            }
        }
        AppError::Forbidden { .. } => 403,
        AppError::TooLarge { .. } => 413,
        AppError::TooManyRequests(_) => 429,
        AppError::Unavailable(_) | AppError::Overloaded(_) | AppError::Timeout(_) => 503,
        _ => 500,
    };
    let client = matches!(
        e,
        AppError::BadRequest { .. }
            | AppError::TooLarge { .. }
            | AppError::Forbidden { .. }
            | AppError::NotFound(_)
    );
    if client {
        tracing::warn!(peer, method, code = e.code(), reason = %e, "SOAP request refused");
    } else {
        tracing::error!(peer, method, code = e.code(), error = %e, "SOAP request failed");
    }
    let reason = if client {
        e.to_string()
    } else {
        format!(
            "{}: the server could not answer; its log says why",
            e.code()
        )
    };
    match writer::fault(client, &reason) {
        Ok(body) => SoapResponse {
            status,
            body,
            xml: true,
            challenge: false,
        },
        Err(_) => SoapResponse {
            status: 500,
            body: format!("{reason}\n"),
            xml: false,
            challenge: false,
        },
    }
}

/// Answers one `POST /ocsinterface`: the body (or why it could not be read), the
/// `Authorization` header and the client's address (for logs and the failure budget).
pub async fn handle(
    state: &AppState,
    authorization: Option<&[u8]>,
    peer: &str,
    body: Result<&[u8], AppError>,
) -> SoapResponse {
    let mut method = String::new();
    let result = async {
        let options = Options::load(&state.store).await?;
        if !options.on("WEB_SERVICE_ENABLED") {
            return Err(AppError::Forbidden {
                code: "E_SOAP_DISABLED",
                message: "the SOAP web service is off (set the option WEB_SERVICE_ENABLED to 1)"
                    .into(),
            });
        }
        let user = web_services::authenticate(state, authorization, peer).await?;
        let limits = Limits::default();
        let call = envelope::parse_call(body?, &limits)?;
        method.clone_from(&call.method);
        tracing::debug!(
            user = user.login,
            method = call.method,
            args = call.args.len(),
            "SOAP call"
        );
        let values = methods::dispatch(state, &options, &user, &call).await?;
        writer::response(&call.method, &call.namespace, &values)
    }
    .await;
    match result {
        Ok(body) => SoapResponse {
            status: 200,
            body,
            xml: true,
            challenge: false,
        },
        Err(e) => fault_response(&method, peer, &e),
    }
}
