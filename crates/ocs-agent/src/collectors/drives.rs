//! DRIVES: mounted file systems that hold data (not /proc, cgroups, tmpfs, snap images or
//! container layers): mount point, device, type, total and free space, label and UUID.

use std::collections::BTreeMap;

use super::{Context, Row};
use crate::error::Error;

/// One line of `/proc/mounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Device or source.
    pub device: String,
    /// Mount point.
    pub point: String,
    /// File system type.
    pub fstype: String,
}

/// File system types that hold data worth inventorying.
fn is_data_fs(fstype: &str) -> bool {
    matches!(
        fstype,
        "ext2"
            | "ext3"
            | "ext4"
            | "xfs"
            | "btrfs"
            | "vfat"
            | "exfat"
            | "ntfs"
            | "ntfs3"
            | "fuseblk"
            | "f2fs"
            | "zfs"
            | "jfs"
            | "reiserfs"
            | "nfs"
            | "nfs4"
            | "cifs"
            | "smb3"
            | "iso9660"
            | "udf"
            | "hfsplus"
            | "bcachefs"
            | "ocfs2"
            | "gfs2"
            | "glusterfs"
            | "ceph"
            | "fuse.sshfs"
            | "apfs"
            | "virtiofs"
            | "9p"
    )
}

/// Mount points that are system plumbing even when the type is a data one.
fn is_plumbing(point: &str) -> bool {
    [
        "/proc",
        "/sys",
        "/dev",
        "/run",
        "/snap",
        "/var/lib/docker",
        "/var/lib/containers",
        "/var/lib/kubelet",
    ]
    .iter()
    .any(|p| point == *p || point.starts_with(&format!("{p}/")))
        && !point.starts_with("/run/media/")
}

/// Parses `/proc/mounts`, undoing the octal escapes of spaces and tabs.
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    let unescape = |s: &str| {
        s.replace("\\040", " ")
            .replace("\\011", "\t")
            .replace("\\134", "\\")
    };
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some(Mount {
                device: unescape(f.next()?),
                point: unescape(f.next()?),
                fstype: f.next()?.to_owned(),
            })
        })
        .collect()
}

/// The mounts to report: data file systems, outside plumbing, each mount point once; the
/// root file system is kept even when it is an overlay (containers).
pub fn data_mounts(mounts: Vec<Mount>) -> Vec<Mount> {
    let mut seen = std::collections::BTreeSet::new();
    mounts
        .into_iter()
        .filter(|m| {
            (is_data_fs(&m.fstype) || m.point == "/" && m.fstype == "overlay")
                && !is_plumbing(&m.point)
        })
        .filter(|m| seen.insert(m.point.clone()))
        .collect()
}

/// (total, free) bytes of a mount point: statvfs when live, `cmd/statvfs.txt` captured.
fn space(
    ctx: &Context,
    point: &str,
    captured: &BTreeMap<String, (u64, u64)>,
) -> Option<(u64, u64)> {
    if ctx.is_live() {
        let st = rustix::fs::statvfs(point).ok()?;
        // Free space as users see it (f_bavail), like df.
        Some((st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize))
    } else {
        captured.get(point).copied()
    }
}

/// Maps device names (`vda1`) to the names of symbolic links in `/dev/disk/by-*`.
fn by_links(ctx: &Context, kind: &str) -> BTreeMap<String, String> {
    let dir = format!("/dev/disk/{kind}");
    ctx.list(&dir)
        .into_iter()
        .filter_map(|name| {
            let target = ctx.link_name(&format!("{dir}/{name}"))?;
            // udev escapes spaces in labels as \x20.
            Some((target, name.replace("\\x20", " ")))
        })
        .collect()
}

/// Reads the mounted file systems.
pub fn collect(ctx: &Context) -> Result<Vec<Row>, Error> {
    let mounts = ctx
        .read("/proc/self/mounts")
        .or_else(|_| ctx.read("/proc/mounts"))?;
    let captured: BTreeMap<String, (u64, u64)> = if ctx.is_live() {
        BTreeMap::new()
    } else {
        ctx.read_opt("/cmd/statvfs.txt")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut f = l.rsplitn(3, ' ');
                let free = f.next()?.parse().ok()?;
                let total = f.next()?.parse().ok()?;
                Some((f.next()?.to_owned(), (total, free)))
            })
            .collect()
    };
    let labels = by_links(ctx, "by-label");
    let uuids = by_links(ctx, "by-uuid");
    Ok(data_mounts(parse_mounts(&mounts))
        .into_iter()
        .map(|m| {
            let mut row = Row::new();
            row.set("TYPE", m.point.clone());
            row.set("VOLUMN", m.device.clone());
            row.set("FILESYSTEM", m.fstype.clone());
            if let Some((total, free)) = space(ctx, &m.point, &captured) {
                row.set("TOTAL", (total / (1024 * 1024)).to_string());
                row.set("FREE", (free / (1024 * 1024)).to_string());
            }
            // /dev/mapper names are links to dm-N, which the by-label links point at.
            let dev = ctx
                .link_name(&m.device)
                .unwrap_or_else(|| m.device.rsplit('/').next().unwrap_or("").to_owned());
            let dev = dev.as_str();
            row.set_opt("LABEL", labels.get(dev).cloned());
            row.set_opt("SERIAL", uuids.get(dev).cloned());
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
        assert_eq!(rows.len(), 1);
        let root = &rows[0];
        assert_eq!(field(root, "TYPE"), "/");
        assert_eq!(field(root, "VOLUMN"), "/dev/vda");
        assert_eq!(field(root, "FILESYSTEM"), "ext4");
        assert_eq!(field(root, "TOTAL"), "258019");
    }

    #[test]
    fn the_laptop() {
        let rows = collect(&machine("laptop-fedora", true)).unwrap();
        let points: Vec<&str> = rows.iter().map(|r| field(r, "TYPE")).collect();
        assert_eq!(
            points,
            [
                "/",
                "/boot",
                "/boot/efi",
                "/home",
                "/run/media/alice/BACKUP 2"
            ]
        );
        let home = &rows[3];
        assert_eq!(field(home, "FILESYSTEM"), "btrfs");
        assert_eq!(field(home, "LABEL"), "fedora");
        assert_eq!(
            field(home, "SERIAL"),
            "6f1c2d3e-aaaa-bbbb-cccc-0123456789ab"
        );
        assert_eq!(field(home, "TOTAL"), "953344");
        assert_eq!(field(home, "FREE"), "512000");
    }

    #[test]
    fn filtering() {
        let m = parse_mounts("overlay / overlay rw 0 0\n/dev/sda1 /var/lib/docker/overlay2 ext4 rw 0 0\n/dev/loop3 /snap/core/1 squashfs ro 0 0\ntmpfs /tmp tmpfs rw 0 0\n//srv/share /mnt/my\\040share cifs rw 0 0\n/dev/sda2 /home ext4 rw 0 0\n/dev/sda2 /home ext4 rw 0 0\n");
        let kept: Vec<String> = data_mounts(m).into_iter().map(|m| m.point).collect();
        assert_eq!(kept, ["/", "/mnt/my share", "/home"]);
    }
}
