//! Unpacking an assembled package archive (tar.gz or ZIP, told apart by their first bytes)
//! into the package's `tmp` directory, with no entry landing outside it.
//!
//! The rule is strict on purpose: every entry path must be relative and made of plain
//! names only (no `..`, no root, no drive); a link (symbolic or hard) must point to a
//! relative target without `..`. A symbolic link that obeys the rule cannot lead out of
//! the directory, however links are chained, so later entries written "through" it stay
//! inside too. An archive that breaks the rule is refused whole (the caller reports
//! `ERR_BUILD`), never partly unpacked and run. Device files and FIFOs are skipped.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

/// Why an archive cannot be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Neither gzip nor ZIP.
    #[error("the package is neither a tar.gz nor a ZIP archive")]
    UnknownFormat,
    /// An entry that would land outside the package directory.
    #[error("archive entry {0:?} would land outside the package directory")]
    Escapes(String),
    /// A corrupt archive or a write failure.
    #[error("cannot unpack the archive: {0}")]
    Io(#[from] std::io::Error),
    /// A corrupt ZIP archive.
    #[error("cannot read the ZIP archive: {0}")]
    Zip(#[from] zip::result::ZipError),
}

/// Unpacks `archive` into `dest` (which exists).
pub fn extract(archive: &Path, dest: &Path) -> Result<(), ExtractError> {
    let mut magic = [0u8; 4];
    let n = File::open(archive)?.read(&mut magic)?;
    match &magic[..n] {
        [0x1f, 0x8b, ..] => extract_tar_gz(archive, dest),
        [b'P', b'K', 3, 4] => extract_zip(archive, dest),
        _ => Err(ExtractError::UnknownFormat),
    }
}

/// Whether a path inside an archive is relative and made of plain names only.
pub fn is_safe_relative(path: &Path) -> bool {
    let mut any = false;
    for c in path.components() {
        match c {
            Component::Normal(_) => any = true,
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    any
}

fn checked(path: &Path) -> Result<PathBuf, ExtractError> {
    if is_safe_relative(path) {
        Ok(path.to_owned())
    } else {
        Err(ExtractError::Escapes(path.display().to_string()))
    }
}

fn extract_tar_gz(archive: &Path, dest: &Path) -> Result<(), ExtractError> {
    // First pass: check every entry, so a bad archive leaves nothing behind.
    let open = || -> std::io::Result<tar::Archive<flate2::read::GzDecoder<BufReader<File>>>> {
        Ok(tar::Archive::new(flate2::read::GzDecoder::new(
            BufReader::new(File::open(archive)?),
        )))
    };
    let mut check = open()?;
    for entry in check.entries()? {
        let entry = entry?;
        checked(&entry.path()?)?;
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry.link_name()?.unwrap_or_default();
            checked(&target)?;
        }
    }
    let mut tar = open()?;
    tar.set_preserve_permissions(true);
    tar.set_overwrite(true);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let kind = entry.header().entry_type();
        if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
            tracing::warn!(path = %entry.path()?.display(), "special file in the package skipped");
            continue;
        }
        let path = checked(&entry.path()?)?;
        if !entry.unpack_in(dest)? {
            return Err(ExtractError::Escapes(path.display().to_string()));
        }
    }
    Ok(())
}

fn extract_zip(archive: &Path, dest: &Path) -> Result<(), ExtractError> {
    let mut zip = zip::ZipArchive::new(BufReader::new(File::open(archive)?))?;
    // First pass, as for tar: names and link targets.
    let mut links = Vec::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i)?;
        checked(Path::new(file.name()))?;
        if file.is_symlink() {
            let mut target = String::new();
            file.read_to_string(&mut target)?;
            checked(Path::new(&target))?;
            links.push((i, target));
        }
    }
    for i in 0..zip.len() {
        let mut file = zip.by_index(i)?;
        let rel = checked(Path::new(file.name()))?;
        let out = dest.join(&rel);
        if let Some((_, target)) = links.iter().find(|(j, _)| *j == i) {
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let _ = std::fs::remove_file(&out);
            std::os::unix::fs::symlink(target, &out)?;
            continue;
        }
        if file.is_dir() {
            std::fs::create_dir_all(&out)?;
            continue;
        }
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut writer = File::create(&out)?;
        std::io::copy(&mut file, &mut writer)?;
        if let Some(mode) = file.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(mode & 0o777))?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A tar.gz with the given regular files (path, content, mode).
    pub(crate) fn tar_gz(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (path, data, mode) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            h.set_entry_type(tar::EntryType::Regular);
            // set_path refuses `..`, which is what the tests need to write: go around it.
            let name = path.as_bytes();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    fn tar_gz_with_link(name: &str, target: &str, kind: tar::EntryType) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_entry_type(kind);
        h.set_mode(0o777);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
        b.into_inner().unwrap().finish().unwrap()
    }

    /// A ZIP with the given files.
    pub(crate) fn zip_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (path, data) in files {
            w.start_file(
                *path,
                zip::write::SimpleFileOptions::default().unix_permissions(0o755),
            )
            .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn unpack(bytes: &[u8]) -> (tempfile::TempDir, Result<(), ExtractError>) {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("build");
        std::fs::write(&archive, bytes).unwrap();
        let dest = dir.path().join("pkg").join("tmp");
        std::fs::create_dir_all(&dest).unwrap();
        let r = extract(&archive, &dest);
        (dir, r)
    }

    #[test]
    fn tar_gz_and_zip_unpack_with_modes() {
        let (dir, r) = unpack(&tar_gz(&[
            ("run.sh", b"#!/bin/sh\n", 0o755),
            ("d/x.txt", b"x", 0o644),
        ]));
        r.unwrap();
        let tmp = dir.path().join("pkg/tmp");
        assert_eq!(std::fs::read(tmp.join("d/x.txt")).unwrap(), b"x");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        let (dir, r) = unpack(&zip_bytes(&[("a/b.txt", b"zip"), ("c", b"")]));
        r.unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("pkg/tmp/a/b.txt")).unwrap(),
            b"zip"
        );
        let (_d, r) = unpack(b"plain text");
        assert!(matches!(r, Err(ExtractError::UnknownFormat)));
    }

    #[test]
    fn zip_slip_and_escaping_links_are_refused() {
        let (dir, r) = unpack(&zip_bytes(&[("ok.txt", b"1"), ("../../evil.txt", b"2")]));
        assert!(matches!(r, Err(ExtractError::Escapes(_))), "{r:?}");
        assert!(!dir.path().join("evil.txt").exists());
        assert!(
            !dir.path().join("pkg/tmp/ok.txt").exists(),
            "nothing unpacked"
        );
        let (_d, r) = unpack(&zip_bytes(&[("/etc/evil", b"2")]));
        assert!(matches!(r, Err(ExtractError::Escapes(_))), "{r:?}");
        let (dir, r) = unpack(&tar_gz(&[("../evil.txt", b"2", 0o644)]));
        assert!(matches!(r, Err(ExtractError::Escapes(_))), "{r:?}");
        assert!(!dir.path().join("pkg/evil.txt").exists());
        for (target, kind) in [
            ("/etc", tar::EntryType::Symlink),
            ("../..", tar::EntryType::Symlink),
            ("../../x", tar::EntryType::Link),
        ] {
            let (_d, r) = unpack(&tar_gz_with_link("l", target, kind));
            assert!(
                matches!(r, Err(ExtractError::Escapes(_))),
                "{target}: {r:?}"
            );
        }
        let (dir, r) = unpack(&tar_gz_with_link("l", "sub/file", tar::EntryType::Symlink));
        r.unwrap();
        assert!(dir.path().join("pkg/tmp/l").symlink_metadata().is_ok());
        assert!(is_safe_relative(Path::new("./a/b")));
        assert!(!is_safe_relative(Path::new(".")));
    }
}
