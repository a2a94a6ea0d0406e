//! The `placement` section: zone checking and the brick size bounds, each defaulting to
//! [`Placement::default`].

use super::super::diagnostic::{Diagnostic, codes};
use super::super::model::{Placement, ZoneChecking};
use super::super::raw::Value;
use super::super::schema::PLACEMENT_FIELDS;
use super::Decoder;
use crate::units::HumanBytes;

impl Decoder<'_> {
    pub(super) fn placement(&mut self, v: &Value) -> Option<Placement> {
        let entries = self.map("placement", v)?;
        let f = self.fields("`placement`", entries, PLACEMENT_FIELDS);
        let mut p = Placement::default();
        let mut ok = true;
        if let Some(e) = f.get("zone_checking") {
            match self.choice("placement.zone_checking", &e.value, &["strict", "none"]) {
                Some("none") => p.zone_checking = ZoneChecking::None,
                Some(_) => {}
                None => ok = false,
            }
        }
        let min = f.get("brick_min_size");
        let max = f.get("brick_max_size");
        if let Some(e) = min {
            match self.size("placement.brick_min_size", &e.value) {
                Some(b) => p.brick_min_size = b,
                None => ok = false,
            }
        }
        if let Some(e) = max {
            match self.size("placement.brick_max_size", &e.value) {
                Some(b) => p.brick_max_size = b,
                None => ok = false,
            }
        }
        if ok && p.brick_min_size > p.brick_max_size {
            let span = max.or(min).map(|e| e.value.span).unwrap_or(v.span);
            let mut d = Diagnostic::error(
                codes::BRICK_SIZE_RANGE,
                format!(
                    "brick_min_size ({}) is larger than brick_max_size ({})",
                    HumanBytes(p.brick_min_size),
                    HumanBytes(p.brick_max_size)
                ),
            )
            .label(span, "this bound")
            .help("brick_min_size must be at most brick_max_size (defaults: 1GiB and 4TiB)");
            if let (Some(a), Some(b)) = (min, max) {
                d.labels.clear();
                d = d
                    .label(a.value.span, "minimum")
                    .label(b.value.span, "maximum");
            }
            self.diags.push(d);
            ok = false;
        }
        ok.then_some(p)
    }
}
