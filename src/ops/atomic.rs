//! State files are replaced atomically: a temporary file beside the target, written and
//! fsynced, then renamed over it. A reader sees the old file or the new one, never half of one —
//! also when the disk is full or the process is killed mid-write.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically. On failure the old file is untouched and the temporary
/// file is removed.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent()
            && let Ok(d) = fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `state.json` → `state.tmp.<pid>.<random>` beside it.
fn temp_path(path: &Path) -> PathBuf {
    path.with_extension(format!(
        "tmp.{}.{:x}",
        std::process::id(),
        fastrand::u32(..)
    ))
}

/// Reads a small text file a user named (a configuration, a theme): refused, without opening
/// it, when it is not a regular file — a FIFO would wait for a writer forever, a device would
/// never end — or when it is larger than `limit` bytes. The error says which.
pub fn read_text_file(path: &std::path::Path, limit: u64) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let meta = regular_file(path)?;
    if meta.len() > limit {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("it is {} bytes, more than {limit}", meta.len()),
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_string(&mut text)?;
    Ok(text)
}

/// The metadata of `path` if it is a regular file; otherwise an error saying what it is (a FIFO
/// would wait for a writer forever, a device would never end).
pub fn regular_file(path: &std::path::Path) -> std::io::Result<std::fs::Metadata> {
    use std::io::{Error, ErrorKind};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let kind = {
            use std::os::unix::fs::FileTypeExt;
            let t = meta.file_type();
            if t.is_dir() {
                "a directory"
            } else if t.is_fifo() {
                "a FIFO"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        };
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("it is {kind}, not a regular file"),
        ));
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        // Nothing but the file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing-dir").join("state.json");
        assert!(write(&p, b"x").is_err());
        assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}
