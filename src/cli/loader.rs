//! The one way every command finds and reads its config: `-c FILE` or discovery of
//! brickyard.yaml/.yml/.hcl in the current directory; YAML, HCL or a `.json` Desired
//! model, all through `config::load` and so all validated. Findings go to stderr; an
//! invalid config is an error here, so no command can run on one.

use std::path::{Path, PathBuf};

use brickyard::config::{self, Desired, LoadError, Loaded};

use super::error::CommandError;
use super::ui::Ui;

/// A valid config and where it came from.
pub(crate) struct Config {
    pub(crate) path: PathBuf,
    /// The operator named the file with `-c` (hints then repeat `-c FILE`).
    pub(crate) explicit: bool,
    pub(crate) desired: Desired,
}

/// `-c FILE`, or the one config file of the current directory.
pub(crate) fn config_path(flag: Option<&Path>) -> Result<PathBuf, LoadError> {
    match flag {
        Some(p) => Ok(p.to_path_buf()),
        None => config::discover(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
    }
}

/// Every finding about the config, valid or not (for `validate`).
pub(crate) fn read(flag: Option<&Path>) -> Result<(PathBuf, Loaded), LoadError> {
    let path = config_path(flag)?;
    let loaded = config::load(&path)?;
    Ok((path, loaded))
}

/// The validated config; its findings (warnings included) are printed on stderr.
pub(crate) fn load(ui: &Ui, flag: Option<&Path>) -> Result<Config, CommandError> {
    let (path, loaded) = read(flag)?;
    if !loaded.diagnostics.is_empty() {
        ui.print_diagnostics(&loaded);
    }
    match loaded.desired {
        Some(desired) => Ok(Config {
            path,
            explicit: flag.is_some(),
            desired,
        }),
        None => Err(CommandError::message(format!(
            "{} is not valid (see above)",
            path.display()
        ))),
    }
}
