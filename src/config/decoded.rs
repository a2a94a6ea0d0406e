//! What decoding produces and the cross-entity rules check: typed values that still
//! carry their spans (the low half of "raw -> typed -> model"). Its own module so that
//! `decode` (which runs the rules) and `rules` (which read these) do not import each other.

use super::model::{Device, DirPath, Ssh};
use super::raw::Span;

/// A decoded node, spans kept: the low half of "raw -> typed -> model".
pub(crate) struct NodeIn {
    pub(crate) name: String,
    pub(crate) manage: String,
    pub(crate) manage_span: Span,
    pub(crate) storage: String,
    pub(crate) storage_span: Span,
    pub(crate) zone: u32,
    pub(crate) devices: Vec<Device>,
    pub(crate) paths: Vec<DirPath>,
    pub(crate) drain: bool,
    pub(crate) ssh: Ssh,
}
