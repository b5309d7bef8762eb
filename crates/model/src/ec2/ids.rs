//! EC2's resource ids: a prefix and 17 lowercase hex digits (`i-0123456789abcdef0`).
//! The random bits come from the caller (berth-ec2), so this stays pure.

/// The id prefixes EC2 uses.
pub const INSTANCE: &str = "i";
pub const RESERVATION: &str = "r";
pub const VPC: &str = "vpc";
pub const VPC_CIDR_ASSOC: &str = "vpc-cidr-assoc";
pub const SUBNET: &str = "subnet";
pub const SECURITY_GROUP: &str = "sg";
pub const SECURITY_GROUP_RULE: &str = "sgr";
pub const LAUNCH_TEMPLATE: &str = "lt";
pub const KEY_PAIR: &str = "key";
pub const DHCP_OPTIONS: &str = "dopt";

const HEX_DIGITS: usize = 17;

/// `{prefix}-` and the low 68 bits of `random` as 17 hex digits.
pub fn format(prefix: &str, random: u128) -> String {
    let bits = random & ((1u128 << (HEX_DIGITS * 4)) - 1);
    format!("{prefix}-{bits:0width$x}", width = HEX_DIGITS)
}

/// Whether `id` is shaped like an id with this prefix: `{prefix}-` and 8 or 17 lowercase
/// hex digits (EC2 still accepts the old 8-digit ids). A wrong shape is `.Malformed`,
/// a right shape that is absent `.NotFound`.
pub fn well_formed(prefix: &str, id: &str) -> bool {
    let Some(hex) = id.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('-')) else {
        return false;
    };
    (hex.len() == 8 || hex.len() == HEX_DIGITS) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_17_hex_digits() {
        assert_eq!(format(INSTANCE, 0xabc), "i-00000000000000abc");
        assert_eq!(format(SUBNET, u128::MAX), "subnet-fffffffffffffffff");
        assert!(well_formed(INSTANCE, &format(INSTANCE, 12345)));
    }

    #[test]
    fn malformed_ids_are_told_apart() {
        assert!(well_formed("i", "i-1234abcd"));
        assert!(!well_formed("i", "i-123"));
        assert!(!well_formed("i", "i-0123456789ABCDEF0"));
        assert!(!well_formed("i", "sg-01234567890abcdef"));
        assert!(!well_formed("sg", "sgr-01234567890abcdef"));
        assert!(!well_formed("i", "instance"));
    }
}
