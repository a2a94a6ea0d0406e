//! The files brickyard writes and reads back besides the config: facts (`gather -o`) and
//! plans (`plan -o`). They hold the cluster's topology and every volume's options (auth
//! lists, SSL settings), so they are written readable by their owner only, whatever the
//! umask; and they come back from places others may write (a CI cache, a shared
//! directory), so reading them has a size limit instead of a memory blow-up.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Largest facts or plan file read back (real ones are a few MiB even for large clusters).
pub(crate) const MAX_FILE: u64 = 64 * 1024 * 1024;

/// Writes `text` to `path` with mode 0600: created so, and an existing file is set to it
/// before its content is replaced.
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.set_len(0)?;
    f.write_all(text.as_bytes())?;
    f.flush()
}

/// Reads a facts or plan file (`what` names it in the error), refusing one over
/// [`MAX_FILE`] before reading it, and one that grows past it while being read.
pub(crate) fn read_capped(path: &Path, what: &str) -> Result<String, String> {
    let err = |e: std::io::Error| format!("cannot read {what} {}: {e}", path.display());
    let f = std::fs::File::open(path).map_err(err)?;
    let too_big = || {
        format!(
            "{}: the {what} is larger than {} MiB; refusing to read it (is it the right file?)",
            path.display(),
            MAX_FILE / 1024 / 1024
        )
    };
    if f.metadata().map_err(err)?.len() > MAX_FILE {
        return Err(too_big());
    }
    let mut text = String::new();
    f.take(MAX_FILE + 1)
        .read_to_string(&mut text)
        .map_err(err)?;
    if text.len() as u64 > MAX_FILE {
        return Err(too_big());
    }
    Ok(text)
}
