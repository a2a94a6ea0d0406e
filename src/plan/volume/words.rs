//! Refuse a volume whose option keys or values gluster's CLI would not read as the
//! plain words they look like (review finding #6): a value like `--log-file=/etc/x`
//! becomes an option of gluster itself, run as root; a key recorded on the node in
//! `user.brickyard.options` like `all` or `--glusterd-sock=...` turns our `volume reset`
//! into something else. Config keys and values come from the operator, recorded keys
//! from any gluster administrator of the pool; both are checked before any step is built.
//! A layout with no bricks per set (unvalidated JSON) is refused here too.

use crate::config::{Durability, Volume};
use crate::gather::VolumeFacts;

use crate::plan::address::Address;
use crate::plan::blocker_code::BlockerCode;
use crate::plan::builder::Builder;
use crate::plan::gluster::{unsafe_key, unsafe_value};
use crate::plan::ownership::OPT_OPTIONS;

/// Block the volume for every unsafe word; true when it must not be planned.
pub(super) fn refuse_unsafe(
    b: &mut Builder,
    name: &str,
    vol: &Volume,
    vf: Option<&VolumeFacts>,
) -> bool {
    let addr = Address::volume(name);
    let mut refused = false;
    // a JSON desired state skips validation: sets of no bricks divided by zero, and
    // `data + redundancy` past 255 wraps in u8 arithmetic (finding #7)
    let empty = match vol.durability {
        Durability::None => false,
        Durability::Replicate { replica, .. } => replica == 0,
        Durability::Disperse { data, redundancy } => {
            data == 0 || data.checked_add(redundancy).is_none()
        }
    };
    if empty {
        b.block(
            BlockerCode::UnsafeValue,
            &addr,
            format!("volume {name}: its durability has no bricks per set or more than 255; gluster cannot build it"),
            Some("validate the config (`brickyard validate`): replica and disperse data must be at least 1".into()),
        );
        refused = true;
    }
    for (k, v) in &vol.options {
        let problem = unsafe_key(k)
            .map(|why| format!("option key {k:?} {why}"))
            .or_else(|| unsafe_value(v).map(|why| format!("the value of option {k} {why}")));
        if let Some(problem) = problem {
            b.block(
                BlockerCode::UnsafeValue,
                &addr,
                format!(
                    "volume {name}: {problem}; brickyard will not put it on a gluster command line"
                ),
                Some(
                    "write the value without a leading `-` (gluster options never need one)".into(),
                ),
            );
            refused = true;
        }
    }
    let recorded = vf.and_then(|vf| vf.options.get(OPT_OPTIONS));
    for k in recorded
        .into_iter()
        .flat_map(|s| s.split(','))
        .filter(|k| !k.is_empty())
    {
        if let Some(why) = unsafe_key(k) {
            b.block(
                BlockerCode::UnsafeValue,
                &addr,
                format!("volume {name}: the key {k:?} recorded in its {OPT_OPTIONS} option {why}; brickyard will not reset it"),
                Some(format!("someone changed {OPT_OPTIONS} on the cluster: set it back to the keys brickyard set (`gluster volume set {name} {OPT_OPTIONS} <keys>`)")),
            );
            refused = true;
        }
    }
    refused
}
