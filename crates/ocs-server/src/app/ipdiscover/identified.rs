//! Registering devices as known (the guide's "Registering known hosts"): a MAC gets a type and
//! a description and leaves the non-inventoried lists; and the device types themselves.

use ocs_storage::ipdiscover::identified::{DeviceType, IdentifiedDevice, SeenDevice, TypeDeletion};
use ocs_storage::StoreError;

use crate::app::auth::Admin;
use crate::app::{AppError, AppState};

/// Longest description or type name, in characters.
pub const MAX_TEXT_CHARS: usize = 255;

fn bad(key: &'static str) -> AppError {
    AppError::bad_request("E_BAD_DEVICE", key)
}

/// A MAC written any usual way (`AA:BB:…`, `aa-bb-…`, `aabb.ccdd.eeff`, `aabbccddeeff`) as
/// the netmap keeps it: lower case with colons.
pub fn normalise_mac(mac: &str) -> Option<String> {
    let hex: String = mac
        .trim()
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(
        hex.as_bytes()
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).into_owned())
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// A MAC from a request, or a 400.
pub fn mac_param(mac: &str) -> Result<String, AppError> {
    normalise_mac(mac).ok_or_else(|| bad("identified.bad_mac"))
}

/// Every device type, with its number of devices.
pub async fn types(state: &AppState) -> Result<Vec<DeviceType>, AppError> {
    Ok(state.store.list_device_types().await?)
}

/// Adds a device type.
pub async fn add_type(state: &AppState, admin: &Admin<'_>, name: &str) -> Result<(), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::bad_request("E_BAD_TYPE", "types.bad_name"));
    }
    match state.store.insert_device_type(name).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::bad_request("E_BAD_TYPE", "types.taken"))
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(admin = %admin.viewer.login, name, "device type added");
    Ok(())
}

/// Deletes a device type no device has.
pub async fn delete_type(state: &AppState, admin: &Admin<'_>, id: i64) -> Result<(), AppError> {
    match state.store.delete_device_type(id).await? {
        TypeDeletion::Deleted => {
            tracing::info!(admin = %admin.viewer.login, id, "device type deleted");
            Ok(())
        }
        TypeDeletion::NotFound => Err(AppError::NotFound(format!("device type {id}"))),
        TypeDeletion::InUse(_) => Err(AppError::bad_request("E_TYPE_IN_USE", "types.in_use")),
    }
}

/// What the register form shows of a MAC: its registration if any, and what scans saw.
pub async fn device(
    state: &AppState,
    mac: &str,
) -> Result<(Option<IdentifiedDevice>, Option<SeenDevice>), AppError> {
    Ok((
        state.store.find_identified_device(mac).await?,
        state.store.seen_device(mac).await?,
    ))
}

/// Registers (or re-registers) a MAC as a known device.
pub async fn register(
    state: &AppState,
    admin: &Admin<'_>,
    mac: &str,
    device_type: &str,
    description: &str,
) -> Result<(), AppError> {
    let mac = mac_param(mac)?;
    let (device_type, description) = (device_type.trim(), description.trim());
    if description.chars().count() > MAX_TEXT_CHARS {
        return Err(bad("identified.bad_description"));
    }
    let device = IdentifiedDevice {
        mac: mac.clone(),
        description: description.to_owned(),
        device_type: device_type.to_owned(),
        registered_by: admin.viewer.login.clone(),
        registered_at: state.clock.now(),
    };
    match state.store.register_device(&device).await {
        Ok(()) => {}
        Err(StoreError::NotFound(_)) => return Err(bad("identified.bad_type")),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(admin = %admin.viewer.login, mac, device_type, "device registered as known");
    Ok(())
}

/// Forgets a registration: the device is non-inventoried again.
pub async fn unregister(state: &AppState, admin: &Admin<'_>, mac: &str) -> Result<(), AppError> {
    let mac = mac_param(mac)?;
    if !state.store.unregister_device(&mac).await? {
        return Err(AppError::NotFound(format!("identified device {mac}")));
    }
    tracing::info!(admin = %admin.viewer.login, mac, "device registration removed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_read_in_every_usual_spelling() {
        for m in [
            "00:1B:21:0A:00:15",
            "00-1b-21-0a-00-15",
            "001b.210a.0015",
            "001b210a0015",
        ] {
            assert_eq!(
                normalise_mac(m).as_deref(),
                Some("00:1b:21:0a:00:15"),
                "{m}"
            );
        }
        for m in [
            "",
            "00:1b:21:0a:00",
            "zz:1b:21:0a:00:15",
            "00:1b:21:0a:00:15:16",
        ] {
            assert_eq!(normalise_mac(m), None, "{m}");
        }
    }
}
