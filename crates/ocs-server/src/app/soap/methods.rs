//! The methods of the original's SOAP interface, each with its argument checks and the
//! error codes it answers (`<RESULT><ERROR>CODE</ERROR></RESULT>`, a value, as the original
//! sent them). Methods that change data need an account with the administrator role.

use ocs_storage::ipdiscover::identified::{IdentifiedDevice, TypeDeletion};
use ocs_storage::{HostId, OptionRow, StoreError};

use super::envelope::Call;
use super::writer::{Node, SoapValue};
use super::{client_fault, computers};
use crate::app::deletion::{self, Deleter, DeletionReason};
use crate::app::ipdiscover::identified::normalise_mac;
use crate::app::options::{self, Kind, Options};
use crate::app::web_services::WebServiceUser;
use crate::app::{AppError, AppState};

/// `<RESULT><ERROR>code</ERROR></RESULT>`, the original's error value.
pub fn error_value(code: &str) -> Result<Vec<SoapValue>, AppError> {
    let doc = Node::parent("RESULT", vec![Node::text("ERROR", Some(code))]).document()?;
    Ok(vec![SoapValue::Text(doc)])
}

/// XML entities decoded, as the original did for arguments not starting with `<` (text
/// that is not valid escaped XML is taken as it is).
pub fn decode(text: &str) -> String {
    if text.starts_with('<') {
        return text.to_owned();
    }
    quick_xml::escape::unescape(text).map_or_else(|_| text.to_owned(), |t| t.into_owned())
}

/// Digits only, as the original's `/^\d+$/`.
pub fn digits(text: Option<&str>) -> Option<i64> {
    let text = text?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `YYYY-MM-DD hh:mm:ss` (UTC) of Unix seconds, as MySQL showed a `DATETIME`.
pub fn datetime(secs: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

fn require_admin(user: &WebServiceUser, method: &str) -> Result<(), AppError> {
    if user.admin {
        return Ok(());
    }
    Err(AppError::Forbidden {
        code: "E_SOAP_FORBIDDEN",
        message: format!(
            "{method} changes data: it needs an account with the administrator role ({} is a user)",
            user.login
        ),
    })
}

fn arg(call: &Call, index: usize) -> Option<&str> {
    call.args.get(index).and_then(|a| a.as_deref())
}

fn page_size(options: &Options) -> i64 {
    options.int("WEB_SERVICE_RESULTS_LIMIT").max(1)
}

/// Runs a call.
pub async fn dispatch(
    state: &AppState,
    options: &Options,
    user: &WebServiceUser,
    call: &Call,
) -> Result<Vec<SoapValue>, AppError> {
    let method = call.method.as_str();
    match method {
        "get_computers_V1" => {
            let request = decode(arg(call, 0).unwrap_or_default());
            computers::get_computers(state, page_size(options), &request).await
        }
        "get_snmp_V1" => computers::get_snmp(&decode(arg(call, 0).unwrap_or_default())),
        "delete_computers_by_id_V1" => {
            require_admin(user, method)?;
            delete_computers(state, user, call).await
        }
        "ocs_config_V1" | "ocs_config_V2" => {
            let v2 = method == "ocs_config_V2";
            if arg(call, 1).is_some() || (v2 && arg(call, 2).is_some()) {
                require_admin(user, method)?;
            }
            config(state, user, call, v2).await
        }
        "get_dico_soft_element_V1" => {
            let word = decode(arg(call, 0).unwrap_or_default());
            Ok(vec![match state.store.soap_dico_soft_element(&word).await? {
                Some(formatted) => SoapValue::Text(formatted),
                None => SoapValue::Nil,
            }])
        }
        "reset_checksum_V1" => {
            require_admin(user, method)?;
            reset_checksum(state, user, call).await
        }
        "get_history_V1" => {
            let Some(offset) = digits(arg(call, 0)) else {
                return error_value("BAD_OFFSET");
            };
            let limit = page_size(options);
            let events = state
                .store
                .soap_history(offset.saturating_mul(limit), limit)
                .await?;
            let nodes = events
                .iter()
                .map(|e| {
                    Node::parent(
                        "EVENT",
                        vec![
                            Node::text("DELETED", Some(&e.deleted)),
                            Node::text("DATE", Some(&datetime(e.date))),
                            Node::text("EQUIVALENT", e.equivalent.as_deref()),
                        ],
                    )
                })
                .collect();
            Ok(vec![SoapValue::Text(Node::parent("EVENTS", nodes).document()?)])
        }
        "clear_history_V1" => {
            let Some(count) = digits(arg(call, 0)) else {
                return error_value("BAD_OFFSET");
            };
            require_admin(user, method)?;
            let cleared = state.store.soap_clear_history(count).await?;
            tracing::info!(user = user.login, cleared, "SOAP: deletion history cleared");
            Ok(vec![SoapValue::Int(i64::try_from(cleared).unwrap_or(i64::MAX))])
        }
        "get_ipdiscover_devices_V1" => ipdiscover_devices(state, options, call).await,
        "ipdiscover_tag_V1" => {
            require_admin(user, method)?;
            ipdiscover_tag(state, call).await
        }
        "ipdiscover_untag_V1" | "ipdiscover_remove_V1" => {
            let Some(mac) = arg(call, 0).and_then(mac_arg) else {
                return error_value("BAD_MAC");
            };
            require_admin(user, method)?;
            let gone = state.store.unregister_device(&mac).await?;
            tracing::info!(user = user.login, mac, gone, "SOAP: device registration removed");
            Ok(vec![SoapValue::Int(i64::from(gone))])
        }
        "ipdiscover_create_type_V1" => {
            require_admin(user, method)?;
            let name = decode(arg(call, 0).unwrap_or_default());
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 255 {
                return error_value("BAD_TYPE");
            }
            match state.store.insert_device_type(name).await {
                Ok(_) => Ok(vec![SoapValue::Int(1)]),
                Err(StoreError::Conflict(_)) => Ok(vec![SoapValue::Int(0)]),
                Err(e) => Err(e.into()),
            }
        }
        "ipdiscover_delete_type_V1" => {
            require_admin(user, method)?;
            let name = decode(arg(call, 0).unwrap_or_default());
            let types = state.store.list_device_types().await?;
            let Some(t) = types.iter().find(|t| t.name == name) else {
                return Ok(vec![SoapValue::Int(0)]);
            };
            match state.store.delete_device_type(t.id).await? {
                TypeDeletion::Deleted => Ok(vec![SoapValue::Int(1)]),
                TypeDeletion::NotFound => Ok(vec![SoapValue::Int(0)]),
                TypeDeletion::InUse(n) => Err(client_fault(format!(
                    "device type {name:?} is the type of {n} identified devices; untag them first"
                ))),
            }
        }
        other => Err(client_fault(format!(
            "no method {other:?} (the methods are those of the original's Apache::Ocsinventory::Interface)"
        ))),
    }
}

async fn delete_computers(
    state: &AppState,
    user: &WebServiceUser,
    call: &Call,
) -> Result<Vec<SoapValue>, AppError> {
    let mut ids = Vec::with_capacity(call.args.len());
    for a in &call.args {
        match digits(a.as_deref()) {
            Some(id) => ids.push(HostId(id)),
            None => return error_value("BAD_ID"),
        }
    }
    let by = Deleter::web_service(&user.login);
    deletion::delete_computers(state, &by, &ids, DeletionReason::Manual).await?;
    Ok(vec![SoapValue::Text("OK".into())])
}

async fn reset_checksum(
    state: &AppState,
    user: &WebServiceUser,
    call: &Call,
) -> Result<Vec<SoapValue>, AppError> {
    let Some(checksum) = digits(arg(call, 0)) else {
        return error_value("BAD_CHECKSUM");
    };
    let mut ids = Vec::new();
    for a in call.args.iter().skip(1) {
        match digits(a.as_deref()) {
            Some(id) => ids.push(id),
            None => return error_value("BAD_ID"),
        }
    }
    let changed = state.store.soap_reset_checksum(checksum, &ids).await?;
    tracing::info!(user = user.login, checksum, changed, "SOAP: CHECKSUM reset");
    Ok(vec![SoapValue::Int(
        i64::try_from(changed).unwrap_or(i64::MAX),
    )])
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

async fn config(
    state: &AppState,
    user: &WebServiceUser,
    call: &Call,
    v2: bool,
) -> Result<Vec<SoapValue>, AppError> {
    let key = arg(call, 0).unwrap_or_default();
    if !valid_key(key) {
        return error_value("BAD_KEY");
    }
    let Some(def) = options::definition(key) else {
        return error_value("KEY_NOT_SUPPORTED");
    };
    let ivalue = arg(call, 1).map(decode);
    let tvalue = if v2 { arg(call, 2).map(decode) } else { None };
    if ivalue.is_some() || tvalue.is_some() {
        // The value of the option's kind is the one written, as the original checked it.
        let value = match def.kind {
            Kind::Int => ivalue,
            Kind::Text => tvalue,
        };
        let Some(row) = value.and_then(|v| options::validate(def, &v).ok()) else {
            return error_value("VALUE_NOT_VALID");
        };
        state.store.upsert_option(&row).await?;
        tracing::info!(user = user.login, option = def.name, "SOAP: option changed");
    }
    let stored: Option<OptionRow> = state
        .store
        .list_options()
        .await?
        .into_iter()
        .find(|r| r.name == def.name);
    if !v2 {
        return Ok(vec![stored
            .and_then(|r| r.ivalue)
            .map_or(SoapValue::Nil, SoapValue::Int)]);
    }
    let Some(row) = stored else {
        return Ok(vec![SoapValue::Nil]);
    };
    let ivalue = row.ivalue.map(|n| n.to_string());
    let doc = Node::parent(
        "RESULT",
        vec![
            Node::text("IVALUE", ivalue.as_deref()),
            Node::text("TVALUE", row.tvalue.as_deref()),
        ],
    )
    .document()?;
    Ok(vec![SoapValue::Text(doc)])
}

/// `YYYY-MM-DD[ hh:mm:ss]` (UTC) as Unix seconds.
fn parse_date(text: &str) -> Option<i64> {
    let (day, clock) = match text.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((d, c)) => (d, Some(c)),
        None => (text, None),
    };
    let shape = |s: &str, lens: &[usize], sep: char| {
        let parts: Vec<&str> = s.split(sep).collect();
        parts.len() == lens.len()
            && parts
                .iter()
                .zip(lens)
                .all(|(p, n)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if !shape(day, &[4, 2, 2], '-') || clock.is_some_and(|c| !shape(c, &[2, 2, 2], ':')) {
        return None;
    }
    let full = format!("{day} {}", clock.unwrap_or("00:00:00"));
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(&full, &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

async fn ipdiscover_devices(
    state: &AppState,
    options: &Options,
    call: &Call,
) -> Result<Vec<SoapValue>, AppError> {
    let Some(since) = arg(call, 0).and_then(parse_date) else {
        return error_value("BAD_DATE");
    };
    let Some(offset) = digits(arg(call, 1)) else {
        return error_value("BAD_OFFSET");
    };
    let only_unknown = match arg(call, 2).unwrap_or("0") {
        "0" => false,
        "1" => true,
        _ => return error_value("BAD_THIRD_PARAMETER"),
    };
    let limit = page_size(options);
    let found = state
        .store
        .soap_discovered(since, only_unknown, offset.saturating_mul(limit), limit)
        .await?;
    let nodes = found
        .iter()
        .map(|d| {
            Node::parent(
                "IFACE",
                vec![
                    Node::text("MAC", Some(&d.mac)),
                    Node::text("IP", Some(&d.ip)),
                    Node::text("MASK", d.mask.as_deref()),
                    Node::text("DATE", Some(&datetime(d.date))),
                    Node::text("NAME", d.name.as_deref()),
                ],
            )
        })
        .collect();
    Ok(vec![SoapValue::Text(
        Node::parent("RESULT", nodes).document()?,
    )])
}

/// A MAC as the original accepted it (`/^\w\w(.\w\w){5}$/`), in our spelling.
fn mac_arg(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let shaped = b.len() == 17 && (0..6).all(|i| word(b[i * 3]) && word(b[i * 3 + 1]));
    if !shaped {
        return None;
    }
    let joined: String = (0..6)
        .map(|i| &text[i * 3..i * 3 + 2])
        .collect::<Vec<_>>()
        .join(":");
    normalise_mac(&joined)
}

async fn ipdiscover_tag(state: &AppState, call: &Call) -> Result<Vec<SoapValue>, AppError> {
    let Some(mac) = arg(call, 0).and_then(mac_arg) else {
        return error_value("BAD_MAC");
    };
    let description = decode(arg(call, 1).unwrap_or_default());
    let device_type = decode(arg(call, 2).unwrap_or_default());
    let by = decode(arg(call, 3).unwrap_or_default());
    if description.chars().count() > 255 {
        return Err(client_fault("the description is limited to 255 characters"));
    }
    let types = state.store.list_device_types().await?;
    if !types.iter().any(|t| t.name == device_type) {
        return error_value("BAD_TYPE");
    }
    if state.store.find_user(&by).await?.is_none() {
        return error_value("BAD_USER");
    }
    let device = IdentifiedDevice {
        mac: mac.clone(),
        description,
        device_type,
        registered_by: by.clone(),
        registered_at: state.clock.now(),
    };
    state.store.register_device(&device).await?;
    tracing::info!(registered_by = by, mac, "SOAP: device registered as known");
    Ok(vec![SoapValue::Int(1)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_as_the_original_did() {
        assert_eq!(digits(Some("012")), Some(12));
        assert_eq!(digits(Some("1 ")), None);
        assert_eq!(digits(Some("-1")), None);
        assert_eq!(digits(None), None);
        assert_eq!(parse_date("2024-03-01"), Some(1_709_251_200));
        assert_eq!(parse_date("2024-03-01 00:00:10"), Some(1_709_251_210));
        assert_eq!(parse_date("2024-3-01"), None);
        assert_eq!(parse_date("2024-03-01T00:00:00"), None);
        assert_eq!(
            mac_arg("00-11-22-AA-bb-CC").as_deref(),
            Some("00:11:22:aa:bb:cc")
        );
        assert_eq!(mac_arg("00:11:22:aa:bb"), None);
        assert!(valid_key("PROLOG_FREQ") && !valid_key("A;B") && !valid_key(""));
        assert_eq!(decode("a &amp; b"), "a & b");
        assert_eq!(decode("<R>&amp;</R>"), "<R>&amp;</R>");
        assert_eq!(decode("bad & raw"), "bad & raw");
    }

    #[test]
    fn errors_are_the_originals_documents() {
        let v = error_value("BAD_KEY").unwrap();
        assert_eq!(
            v,
            [SoapValue::Text(
                "<RESULT>\n  <ERROR>BAD_KEY</ERROR>\n</RESULT>\n".into()
            )]
        );
    }
}
