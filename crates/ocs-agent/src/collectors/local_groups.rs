//! LOCAL_GROUPS: groups of `/etc/group`, with their members: the users listed in the group
//! line plus the users whose primary group it is (`/etc/passwd`), since both belong to it.

use super::local_users::parse_passwd;
use super::{Context, Row};
use crate::error::Error;

/// `(name, gid, members)` from `/etc/group` text, with primary members added from passwd.
pub fn parse_groups(group: &str, passwd: &str) -> Vec<(String, String, Vec<String>)> {
    let accounts = parse_passwd(passwd);
    group
        .lines()
        .filter(|l| !l.starts_with(['#', '+', '-']))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 || f[0].is_empty() {
                return None;
            }
            let mut members: Vec<String> = f[3]
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect();
            for a in accounts.iter().filter(|a| a.gid == f[2]) {
                if !members.contains(&a.login) {
                    members.push(a.login.clone());
                }
            }
            Some((f[0].to_owned(), f[2].to_owned(), members))
        })
        .collect()
}

/// Reads the local groups.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let group = ctx.read("/etc/group")?;
    let passwd = ctx.read_opt("/etc/passwd").unwrap_or_default();
    Ok(parse_groups(&group, &passwd)
        .into_iter()
        .map(|(name, gid, members)| {
            let mut row = Row::new();
            row.set("NAME", name);
            row.set("ID_GROUP", gid);
            row.set("MEMBER", members.join(","));
            row
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{field, machine};

    #[test]
    fn the_vm() {
        let rows = collect(&machine("vm-debian12", true)).unwrap();
        assert_eq!(rows.len(), 48);
        assert_eq!(field(&rows[0], "NAME"), "root");
        assert_eq!(field(&rows[0], "ID_GROUP"), "0");
        assert_eq!(field(&rows[0], "MEMBER"), "root");
    }

    #[test]
    fn explicit_and_primary_members() {
        let g = parse_groups(
            "sudo:x:27:alice,bob\nalice:x:1000:\n",
            "alice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:27::/home/bob:/bin/sh\n",
        );
        assert_eq!(g[0].2, ["alice", "bob"]);
        assert_eq!(g[1].2, ["alice"]);
    }
}
