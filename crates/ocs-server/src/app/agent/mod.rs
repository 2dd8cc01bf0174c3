//! The `/ocsinventory` endpoint as a service: decode the body, read the envelope, dispatch on
//! QUERY. Every refusal is an [`AppError`] with a reason, so the handler can log it and answer
//! with a clear status.

pub mod agent_auth;
pub mod capacities;
pub mod contacts;
pub mod files;
pub mod intake;
pub mod inventory;
pub mod prolog;
pub mod useragents;

use std::net::IpAddr;

use ocs_proto::request::RequestError;
use ocs_proto::{BodyEncoding, CodecError, Request, XmlError};

use crate::app::agent::intake::Prepared;
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// Who is asking.
#[derive(Debug, Clone)]
pub struct AgentMeta {
    /// Client address.
    pub peer: IpAddr,
    /// Sanitised User-Agent.
    pub user_agent: String,
    /// Whether the request came over HTTPS.
    pub https: bool,
    /// The authenticated agent user (`agents.auth`); `None` when authentication is off, or
    /// for a local import by an administrator.
    pub agent_user: Option<String>,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentReply {
    /// An XML document, sent in the request's encoding.
    Xml(String),
    /// 200 with an empty body (DOWNLOAD, NOTIFY, SNMP).
    Empty,
}

/// The outcome of one agent request, with what the request log line needs.
#[derive(Debug)]
pub struct Handled {
    /// DEVICEID, once known.
    pub deviceid: Option<String>,
    /// QUERY, once known.
    pub query: Option<&'static str>,
    /// Encoding of the request, which the reply uses.
    pub encoding: BodyEncoding,
    /// The reply or the refusal.
    pub result: Result<AgentReply, AppError>,
    /// A short description of what was done (for the log).
    pub detail: String,
}

/// Attempts of a transaction the database aborted because of a concurrent one.
const ATTEMPTS: usize = 3;

/// Handles one POST to `/ocsinventory`, within the request deadline: past it the work is
/// dropped (its transaction rolls back) and the agent gets 503 and comes back later.
pub async fn handle(state: &AppState, meta: &AgentMeta, body: bytes::Bytes) -> Handled {
    let deadline = std::time::Duration::from_secs(state.config.limits.request_timeout_secs);
    match tokio::time::timeout(deadline, handle_within_deadline(state, meta, body)).await {
        Ok(handled) => handled,
        Err(_) => Handled {
            deviceid: None,
            query: None,
            encoding: BodyEncoding::Zlib,
            result: Err(AppError::Timeout(format!(
                "request abandoned after {} s",
                deadline.as_secs()
            ))),
            detail: String::new(),
        },
    }
}

async fn handle_within_deadline(state: &AppState, meta: &AgentMeta, body: bytes::Bytes) -> Handled {
    let mut handled = Handled {
        deviceid: None,
        query: None,
        encoding: BodyEncoding::Zlib,
        result: Ok(AgentReply::Empty),
        detail: String::new(),
    };
    let options = match Options::load(&state.store).await {
        Ok(o) => o,
        Err(e) => {
            handled.result = Err(e);
            return handled;
        }
    };
    let prepared = match state
        .intake
        .prepare(body.clone(), options.on("COMPRESS_TRY_OTHERS"))
        .await
    {
        Ok(p) => p,
        Err(refused) => {
            handled.encoding = refused.encoding;
            handled.result = Err(refused.error);
            return handled;
        }
    };
    handled.encoding = prepared.encoding;
    handled.deviceid = prepared.request.deviceid().map(str::to_owned);
    handled.query = Some(prepared.request.query().as_str());
    let mut attempt = 1;
    let result = loop {
        match dispatch(state, &options, meta, &prepared, &body).await {
            Err(AppError::Conflict(e)) if attempt < ATTEMPTS => {
                tracing::debug!(attempt, error = %e, "transaction aborted by a concurrent one; running it again");
                attempt += 1;
            }
            other => break other,
        }
    };
    match result {
        Ok((reply, detail)) => {
            handled.result = Ok(reply);
            handled.detail = detail;
        }
        Err(e) => handled.result = Err(e),
    }
    handled
}

async fn dispatch(
    state: &AppState,
    options: &Options,
    meta: &AgentMeta,
    prepared: &Prepared,
    raw: &[u8],
) -> Result<(AgentReply, String), AppError> {
    let request = &prepared.request;
    let source = inventory::Source { raw };
    agent_auth::check_device(state, meta, request.query().as_str(), request.deviceid()).await?;
    match request {
        Request::Prolog { deviceid } => {
            let (reply, detail) = prolog::prolog(state, options, meta, deviceid).await?;
            Ok((AgentReply::Xml(reply.to_xml()), detail))
        }
        Request::Inventory { .. } => {
            let inv = prepared.inventory()?;
            let outcome = inventory::ingest(state, options, meta, inv, source).await?;
            Ok((AgentReply::Xml(outcome.reply.to_xml()), outcome.summary))
        }
        Request::Download { deviceid, report } => {
            capacities::download(state, deviceid, report.as_ref())
                .await
                .map(|d| (AgentReply::Empty, d))
        }
        Request::Notify { deviceid, notify } => capacities::notify(state, meta, deviceid, notify)
            .await
            .map(|d| (AgentReply::Empty, d)),
        Request::Snmp { deviceid, results } => {
            capacities::snmp(state, options, deviceid, results, source)
                .await
                .map(|d| (AgentReply::Empty, d))
        }
        Request::Update { .. } => Ok((
            AgentReply::Xml(ocs_proto::reply::no_update_xml()),
            "NO_UPDATE".into(),
        )),
    }
}

/// GET and the other methods, with the original's statuses.
pub async fn refusal_of_method(state: &AppState, method: &str, sub_path: Option<&str>) -> AppError {
    if method != "GET" {
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

/// Code of a body that inflates past the limit.
pub const INFLATED_TOO_LARGE: &str = "E_INFLATED_TOO_LARGE";

/// Maps a body decoding failure to its status.
pub fn codec_error(e: CodecError) -> AppError {
    match e {
        CodecError::TooLarge { .. } => AppError::TooLarge {
            code: INFLATED_TOO_LARGE,
            message: e.to_string(),
        },
        CodecError::Empty => AppError::bad_request("E_EMPTY_BODY", e.to_string()),
        CodecError::Corrupt { .. } | CodecError::Unrecognised { .. } => {
            AppError::bad_request("E_BAD_COMPRESSION", e.to_string())
        }
    }
}

/// Maps an envelope failure to its status.
pub fn request_error(e: RequestError) -> AppError {
    if let RequestError::Xml(xml) = &e {
        if xml.is_over_limit() {
            return AppError::TooLarge {
                code: "E_DOCUMENT_TOO_LARGE",
                message: e.to_string(),
            };
        }
    }
    let code = match &e {
        RequestError::Xml(XmlError::Doctype) => "E_DOCTYPE",
        RequestError::Xml(XmlError::Encoding(_)) => "E_BAD_ENCODING",
        RequestError::Xml(_) => "E_BAD_XML",
        RequestError::MissingDeviceId | RequestError::InvalidDeviceId(_) => "E_BAD_DEVICEID",
        RequestError::MissingQuery | RequestError::UnknownQuery(_) => "E_BAD_QUERY",
    };
    AppError::bad_request(code, e.to_string())
}
