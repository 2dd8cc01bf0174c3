//! Redistribution groups (seed 001): computers that serve package fragments to the agents
//! near them. Create one from search results (or add to / overwrite one), rename and
//! describe it, set where its members serve fragments (`pack_url`, `$IP$` / `$NAME$`
//! replaced per member), remove members, delete it. [`servers_of`] is what activating a
//! package for a group needs; [`list_redistribution_groups`] feeds pickers.

use ocs_storage::{HostId, RedistributionGroup, RedistributionGroupId, RedistributionMember};

use crate::app::auth::Admin;
use crate::app::{AppError, AppState};

/// Longest group name.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Longest fragments location.
pub const MAX_PACK_URL_CHARS: usize = 1024;

/// A member of a redistribution group and where it serves fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedistributionServer {
    /// The computer.
    pub hardware_id: HostId,
    /// Its name.
    pub name: String,
    /// Its address.
    pub ip: String,
    /// The group's `pack_url` with `$IP$` and `$NAME$` replaced by this member's.
    pub pack_loc: String,
}

/// `pack_url` for one member.
pub fn substitute(pack_url: &str, ip: &str, name: &str) -> String {
    pack_url.replace("$IP$", ip).replace("$NAME$", name)
}

fn check_text(what: &str, text: &str, max: usize, required: bool) -> Result<String, AppError> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(AppError::bad_request(
            "E_REDISTRIBUTION_FIELD",
            format!("{what} is required"),
        ));
    }
    if text.chars().count() > max
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(AppError::bad_request(
            "E_REDISTRIBUTION_FIELD",
            format!("{what}: at most {max} characters, no control characters"),
        ));
    }
    Ok(text.to_owned())
}

/// Every redistribution group's ID and name, by name (for pickers).
pub async fn list_redistribution_groups(
    state: &AppState,
) -> Result<Vec<(RedistributionGroupId, String)>, AppError> {
    Ok(state
        .store
        .list_redistribution_groups()
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect())
}

/// Every group with its member count.
pub async fn groups(state: &AppState) -> Result<Vec<RedistributionGroup>, AppError> {
    Ok(state.store.list_redistribution_groups().await?)
}

/// One group and its members.
pub async fn group(
    state: &AppState,
    id: RedistributionGroupId,
) -> Result<(RedistributionGroup, Vec<RedistributionMember>), AppError> {
    let group = state
        .store
        .find_redistribution_group(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("redistribution group {}", id.0)))?;
    let members = state.store.redistribution_members(id).await?;
    Ok((group, members))
}

/// The members of a group with their fragments locations.
pub async fn servers_of(
    state: &AppState,
    id: RedistributionGroupId,
) -> Result<Vec<RedistributionServer>, AppError> {
    let (group, members) = group(state, id).await?;
    Ok(members
        .into_iter()
        .map(|m| RedistributionServer {
            pack_loc: substitute(&group.pack_url, &m.ip, &m.name),
            hardware_id: m.hardware_id,
            name: m.name,
            ip: m.ip,
        })
        .collect())
}

/// How computers join a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A new group with this name and description.
    Create {
        /// Name.
        name: String,
        /// Description.
        description: String,
    },
    /// An existing group, keeping its members.
    AddTo(RedistributionGroupId),
    /// An existing group, whose members become exactly these computers.
    Overwrite(RedistributionGroupId),
}

/// Puts computers in a redistribution group; returns the group and its member count.
pub async fn add_servers(
    state: &AppState,
    admin: &Admin<'_>,
    target: Target,
    hosts: &[HostId],
) -> Result<(RedistributionGroupId, i64), AppError> {
    let (id, replace) = match target {
        Target::Create { name, description } => {
            let name = check_text("name", &name, MAX_NAME_CHARS, true)?;
            let description =
                check_text("description", &description, MAX_DESCRIPTION_CHARS, false)?;
            let id = state
                .store
                .create_redistribution_group(&name, &description, state.clock.now())
                .await?;
            (id, false)
        }
        Target::AddTo(id) => (id, false),
        Target::Overwrite(id) => (id, true),
    };
    group(state, id).await?;
    let members = state
        .store
        .add_redistribution_servers(id, hosts, replace)
        .await?;
    tracing::info!(group = id.0, added = hosts.len(), members, replace, admin = %admin.viewer.login, "redistribution group members set");
    Ok((id, members))
}

/// Renames, describes and sets the fragments location of a group.
pub async fn update(
    state: &AppState,
    admin: &Admin<'_>,
    id: RedistributionGroupId,
    name: &str,
    description: &str,
    pack_url: &str,
) -> Result<(), AppError> {
    let name = check_text("name", name, MAX_NAME_CHARS, true)?;
    let description = check_text("description", description, MAX_DESCRIPTION_CHARS, false)?;
    let pack_url = check_text("pack_url", pack_url, MAX_PACK_URL_CHARS, true)?;
    if pack_url.contains(char::is_whitespace) {
        return Err(AppError::bad_request(
            "E_REDISTRIBUTION_FIELD",
            "pack_url: no spaces",
        ));
    }
    state
        .store
        .update_redistribution_group(id, &name, &description, &pack_url)
        .await?;
    tracing::info!(group = id.0, admin = %admin.viewer.login, "redistribution group changed");
    Ok(())
}

/// Removes one member.
pub async fn remove_server(
    state: &AppState,
    admin: &Admin<'_>,
    id: RedistributionGroupId,
    host: HostId,
) -> Result<(), AppError> {
    if !state.store.remove_redistribution_server(id, host).await? {
        return Err(AppError::NotFound(format!(
            "computer {} in redistribution group {}",
            host.0, id.0
        )));
    }
    tracing::info!(group = id.0, host = host.0, admin = %admin.viewer.login, "redistribution server removed");
    Ok(())
}

/// Deletes a group.
pub async fn delete(
    state: &AppState,
    admin: &Admin<'_>,
    id: RedistributionGroupId,
) -> Result<(), AppError> {
    if !state.store.delete_redistribution_group(id).await? {
        return Err(AppError::NotFound(format!("redistribution group {}", id.0)));
    }
    tracing::info!(group = id.0, admin = %admin.viewer.login, "redistribution group deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_url_names_each_member() {
        assert_eq!(
            substitute("$IP$/download", "192.0.2.1", "relay"),
            "192.0.2.1/download"
        );
        assert_eq!(
            substitute("$NAME$:8080/pkg", "192.0.2.1", "relay"),
            "relay:8080/pkg"
        );
    }

    #[test]
    fn texts_are_limited() {
        assert!(check_text("name", "  ", MAX_NAME_CHARS, true).is_err());
        assert!(check_text(
            "name",
            &"x".repeat(MAX_NAME_CHARS + 1),
            MAX_NAME_CHARS,
            true
        )
        .is_err());
        assert_eq!(
            check_text("name", " paris ", MAX_NAME_CHARS, true).unwrap(),
            "paris"
        );
    }
}
