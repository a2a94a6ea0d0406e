//! Hashes that tie a saved plan to its inputs: apply refuses a plan whose facts
//! fingerprint no longer matches what it gathers, or whose config hash changed.
//! Canonical JSON (serde of BTreeMap-based models: fixed key order) -> SHA-256 hex.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// `sha256:<hex>` of the canonical JSON of `value`.
pub fn hash<T: Serialize>(value: &T) -> String {
    // Serialising these models cannot fail (no maps with non-string keys); an empty
    // document still hashes deterministically if it ever did.
    let json = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(&json);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::Observed;

    #[test]
    fn same_input_same_hash_and_changes_change_it() {
        let a = Observed::default();
        let mut b = Observed::default();
        assert_eq!(hash(&a), hash(&b));
        b.format_version = 7;
        assert_ne!(hash(&a), hash(&b));
        assert!(hash(&a).starts_with("sha256:"));
        assert_eq!(hash(&a).len(), 7 + 64);
    }
}
