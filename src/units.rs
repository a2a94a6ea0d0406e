//! Byte sizes as operators write them (`100GiB`, `500GB`) and as brickyard prints them.
//!
//! Lives at the crate root because config (parsing), plan (capacity maths) and render
//! (human output) all speak sizes, and they must agree on one spelling.

use std::fmt;

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
pub const GIB: u64 = 1024 * MIB;
pub const TIB: u64 = 1024 * GIB;

/// Why a size string was rejected; the config layer turns this into a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error("size is empty")]
    Empty,
    #[error("size `{0}` has no unit")]
    NoUnit(String),
    #[error("size `{0}` has an unknown unit `{1}`")]
    UnknownUnit(String, String),
    #[error("size `{0}` is not a number followed by a unit")]
    NotANumber(String),
    #[error("size `{0}` is too large")]
    Overflow(String),
    #[error("size `{0}` is zero")]
    Zero(String),
}

/// Parse `10GiB`, `1.5 TiB`, `500GB`, `512MiB` into bytes. Binary (KiB..TiB) and
/// decimal (KB..TB) units; a bare number is refused because `100` is ambiguous
/// (bytes? GiB like heketi-cli?) and a wrong guess costs real disk.
pub fn parse_size(input: &str) -> Result<u64, SizeError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(SizeError::Empty);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let unit = unit.trim();
    if num.is_empty() {
        return Err(SizeError::NotANumber(input.to_string()));
    }
    if unit.is_empty() {
        return Err(SizeError::NoUnit(input.to_string()));
    }
    let mult: u64 = match unit {
        "B" => 1,
        "KiB" => KIB,
        "MiB" => MIB,
        "GiB" => GIB,
        "TiB" => TIB,
        "PiB" => 1024 * TIB,
        "KB" | "kB" => 1000,
        "MB" => 1000_u64.pow(2),
        "GB" => 1000_u64.pow(3),
        "TB" => 1000_u64.pow(4),
        "PB" => 1000_u64.pow(5),
        other => return Err(SizeError::UnknownUnit(input.to_string(), other.to_string())),
    };
    let bytes = if let Some((int, frac)) = num.split_once('.') {
        if frac.contains('.') || (int.is_empty() && frac.is_empty()) {
            return Err(SizeError::NotANumber(input.to_string()));
        }
        let int: u64 = if int.is_empty() {
            0
        } else {
            int.parse()
                .map_err(|_| SizeError::Overflow(input.to_string()))?
        };
        // exact decimal arithmetic: no float rounding in capacity maths
        let frac_digits = frac.len().min(9) as u32;
        let frac_val: u64 = if frac_digits == 0 {
            0
        } else {
            frac[..frac_digits as usize]
                .parse()
                .map_err(|_| SizeError::NotANumber(input.to_string()))?
        };
        let scale = 10_u64.pow(frac_digits);
        let whole = int
            .checked_mul(mult)
            .ok_or_else(|| SizeError::Overflow(input.to_string()))?;
        let part = (frac_val as u128 * mult as u128 / scale as u128) as u64;
        whole
            .checked_add(part)
            .ok_or_else(|| SizeError::Overflow(input.to_string()))?
    } else {
        let n: u64 = num
            .parse()
            .map_err(|_| SizeError::Overflow(input.to_string()))?;
        n.checked_mul(mult)
            .ok_or_else(|| SizeError::Overflow(input.to_string()))?
    };
    if bytes == 0 {
        return Err(SizeError::Zero(input.to_string()));
    }
    Ok(bytes)
}

/// A byte count printed the way operators read it: the largest binary unit that
/// keeps the value >= 1, with up to two decimals, trailing zeros dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanBytes(pub u64);

impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        let units = [(TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")];
        for (m, name) in units {
            if b >= m {
                if b.is_multiple_of(m) {
                    return write!(f, "{} {}", b / m, name);
                }
                let hundredths = (b as u128 * 100 / m as u128) as u64;
                let s = format!("{}.{:02}", hundredths / 100, hundredths % 100);
                let s = s.trim_end_matches('0').trim_end_matches('.');
                return write!(f, "{s} {name}");
            }
        }
        write!(f, "{b} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_and_decimal_units() {
        assert_eq!(parse_size("100GiB"), Ok(100 * GIB));
        assert_eq!(parse_size("1.5 TiB"), Ok(TIB + TIB / 2));
        assert_eq!(parse_size("500GB"), Ok(500_000_000_000));
        assert_eq!(parse_size("4KiB"), Ok(4096));
    }

    #[test]
    fn refuses_bare_numbers_zero_and_junk() {
        assert_eq!(parse_size("100"), Err(SizeError::NoUnit("100".into())));
        assert_eq!(parse_size("0GiB"), Err(SizeError::Zero("0GiB".into())));
        assert!(matches!(
            parse_size("ten GiB"),
            Err(SizeError::NotANumber(_))
        ));
        assert!(matches!(
            parse_size("1 parsec"),
            Err(SizeError::UnknownUnit(..))
        ));
        assert!(matches!(
            parse_size("99999999999999999999TiB"),
            Err(SizeError::Overflow(_))
        ));
        assert!(matches!(
            parse_size("1.2.3GiB"),
            Err(SizeError::NotANumber(_))
        ));
    }

    #[test]
    fn prints_human_sizes() {
        assert_eq!(HumanBytes(100 * GIB).to_string(), "100 GiB");
        assert_eq!(HumanBytes(GIB + GIB / 2).to_string(), "1.5 GiB");
        assert_eq!(HumanBytes(512).to_string(), "512 B");
    }
}
