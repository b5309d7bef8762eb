//! Task-level cpu and memory: the strings clients send and the Fargate sizes.
//!
//! The API takes both as strings so people can write "0.25 vCPU" or "1 GB"; ECS stores
//! the integer form ("256", "1024") and returns that, so berth normalizes on the way in.

use super::InvalidTaskDefinition;

/// CPU units in one vCPU.
const UNITS_PER_VCPU: u128 = 1024;
/// MiB in one GB, as ECS counts a "GB" (it means GiB).
const MIB_PER_GB: u128 = 1024;

/// Task-level cpu normalized as AWS stores it: CPU units as an integer string.
///
/// Accepts an integer number of units ("256") or vCPUs with an optional space and any
/// case ("0.25 vCPU", "1vcpu", "2 vCPUs"). Fractions of a vCPU must come to whole units.
pub fn normalize_cpu(s: &str) -> Result<String, InvalidTaskDefinition> {
    cpu_units(s).map(|n| n.to_string())
}

/// Task-level memory normalized as AWS stores it: MiB as an integer string.
///
/// Accepts an integer number of MiB ("1024") or GB with an optional space and any case
/// ("1 GB", "0.5GB"); "MiB"/"MB"/"GiB" suffixes are accepted too. Fractions of a GB must
/// come to whole MiB.
pub fn normalize_memory(s: &str) -> Result<String, InvalidTaskDefinition> {
    memory_mib(s).map(|n| n.to_string())
}

/// The task-level cpu string as CPU units (see `normalize_cpu`).
pub(crate) fn cpu_units(s: &str) -> Result<u32, InvalidTaskDefinition> {
    let units = [("vcpus", UNITS_PER_VCPU), ("vcpu", UNITS_PER_VCPU)];
    parse_quantity(s, &units).map_err(|problem| {
        let why = match problem {
            Problem::Malformed => "Use CPU units as an integer (for example \"1024\") or vCPUs \
                                  (for example \"1 vCPU\" or \"0.25 vCPU\")."
                .to_string(),
            Problem::NotPositive => "It must be greater than zero.".to_string(),
            Problem::Fractional => "It is not a whole number of CPU units (1 vCPU = 1024 units).".to_string(),
            Problem::TooLarge => format!("The maximum is {} CPU units.", i32::MAX),
        };
        InvalidTaskDefinition::new(format!("Invalid 'cpu' setting for task: \"{s}\". {why}"))
    })
}

/// The task-level memory string in MiB (see `normalize_memory`).
pub(crate) fn memory_mib(s: &str) -> Result<u32, InvalidTaskDefinition> {
    let units = [("gib", MIB_PER_GB), ("gb", MIB_PER_GB), ("mib", 1), ("mb", 1)];
    parse_quantity(s, &units).map_err(|problem| {
        let why = match problem {
            Problem::Malformed => "Use MiB as an integer (for example \"512\") or GB \
                                  (for example \"1 GB\" or \"0.5 GB\")."
                .to_string(),
            Problem::NotPositive => "It must be greater than zero.".to_string(),
            Problem::Fractional => "It is not a whole number of MiB (1 GB = 1024 MiB).".to_string(),
            Problem::TooLarge => format!("The maximum is {} MiB.", i32::MAX),
        };
        InvalidTaskDefinition::new(format!("Invalid 'memory' setting for task: \"{s}\". {why}"))
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Problem {
    Malformed,
    NotPositive,
    Fractional,
    TooLarge,
}

/// Parses "N" (an integer in the base unit) or "N unit" (a decimal times the unit's
/// scale), exactly: decimals are kept as integers over a power of ten, never as floats,
/// so "0.25 vCPU" is 256 and "0.3 vCPU" is rejected rather than rounded.
fn parse_quantity(s: &str, units: &[(&str, u128)]) -> Result<u32, Problem> {
    let text = s.trim();
    let lower = text.to_ascii_lowercase();
    let (number, scale, unit_given) = units
        .iter()
        .find_map(|(suffix, scale)| lower.strip_suffix(suffix).map(|rest| (rest.trim_end(), *scale, true)))
        .unwrap_or((lower.as_str(), 1, false));
    // A sign is only worth a clearer message: no quantity here may be negative.
    let (negative, number) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (whole, fraction) = match number.split_once('.') {
        // Without a unit the value is an API integer: no decimal point.
        Some(_) if !unit_given => return Err(Problem::Malformed),
        Some(parts) => parts,
        None => (number, ""),
    };
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(Problem::Malformed);
    }
    if negative {
        return Err(Problem::NotPositive);
    }
    let fraction = fraction.trim_end_matches('0');
    let whole = whole.trim_start_matches('0');
    // Bounds keep the arithmetic below within u128; anything this long is too large
    // (or too finely divided to be a whole unit) anyway.
    if whole.len() > 12 {
        return Err(Problem::TooLarge);
    }
    if fraction.len() > 18 {
        return Err(Problem::Fractional);
    }
    let parse = |d: &str| {
        if d.is_empty() { Ok(0) } else { d.parse::<u128>() }
    };
    let (Ok(whole), Ok(fraction_digits)) = (parse(whole), parse(fraction)) else {
        return Err(Problem::Malformed);
    };
    let denominator = 10u128.pow(fraction.len() as u32);
    let numerator = (whole * denominator + fraction_digits) * scale;
    if numerator == 0 {
        return Err(Problem::NotPositive);
    }
    if !numerator.is_multiple_of(denominator) {
        return Err(Problem::Fractional);
    }
    let value = numerator / denominator;
    if value > i32::MAX as u128 {
        return Err(Problem::TooLarge);
    }
    Ok(value as u32)
}
