//! `brickyard import cluster`: the config for what a cluster holds, so that a cluster
//! built by hand, by gluster-ansible or by Heketi comes under brickyard without moving
//! data. Pure: a seed config (the nodes and how to reach them) and the facts gathered
//! with it in, config text out. `read` decides what the config says (nodes with the
//! storage addresses gluster uses, the paths that hold bricks, every volume with its
//! live layout, size and options, `adopt: true` on volumes not yet brickyard's);
//! `write` spells it in YAML or HCL, leaving out what is a default. The CLI validates
//! the text and plans it before printing it: planning it shows only adoption steps.

pub mod heketi_db;
mod read;
mod write;

pub use read::{ImportError, Imported, from_facts};

use crate::config::Format;
use crate::gather::Observed;

/// The imported config for `seed` + `observed`, as text in `format`.
pub fn cluster(
    seed: &crate::config::Desired,
    observed: &Observed,
    format: Format,
) -> Result<(String, Imported), ImportError> {
    let imported = from_facts(seed, observed)?;
    Ok((text(&imported, format), imported))
}

/// `imported` spelled in `format`.
pub fn text(imported: &Imported, format: Format) -> String {
    match format {
        Format::Yaml => write::yaml(imported),
        Format::Hcl => write::hcl(imported),
    }
}
