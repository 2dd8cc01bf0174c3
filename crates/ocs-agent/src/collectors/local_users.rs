//! LOCAL_USERS: accounts of `/etc/passwd`: login, UID, primary GID, full name (first GECOS
//! field), home and shell. Password hashes live elsewhere (`/etc/shadow`) and are never read.

use super::{Context, Row};
use crate::error::Error;

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Login name.
    pub login: String,
    /// UID.
    pub uid: String,
    /// Primary GID.
    pub gid: String,
    /// Full name.
    pub name: String,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// Parses `/etc/passwd`; NIS/LDAP include lines (`+`, `-`) and malformed lines are skipped.
pub fn parse_passwd(text: &str) -> Vec<Account> {
    text.lines()
        .filter(|l| !l.starts_with(['#', '+', '-']))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 || f[0].is_empty() {
                return None;
            }
            Some(Account {
                login: f[0].to_owned(),
                uid: f[2].to_owned(),
                gid: f[3].to_owned(),
                name: f[4].split(',').next().unwrap_or("").to_owned(),
                home: f[5].to_owned(),
                shell: f[6].to_owned(),
            })
        })
        .collect()
}

/// Reads the local accounts.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let text = ctx.read("/etc/passwd")?;
    Ok(parse_passwd(&text)
        .into_iter()
        .map(|a| {
            let mut row = Row::new();
            row.set("LOGIN", a.login.clone());
            row.set("ID_USER", a.uid);
            row.set("GID", a.gid);
            row.set("NAME", if a.name.is_empty() { a.login } else { a.name });
            row.set("HOME", a.home);
            row.set("SHELL", a.shell);
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
        assert_eq!(rows.len(), 25);
        let root = &rows[0];
        assert_eq!(field(root, "LOGIN"), "root");
        assert_eq!(
            field(root, "ID_USER"),
            "0",
            "UID 0 is a value, not an absence"
        );
        assert_eq!(field(root, "GID"), "0");
        assert_eq!(field(root, "HOME"), "/root");
    }

    #[test]
    fn gecos_and_junk() {
        let a = parse_passwd(
            "alice:x:1000:1000:Alice Martin,,,:/home/alice:/bin/bash\n+::::::\nbroken\n",
        );
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].name, "Alice Martin");
    }
}
