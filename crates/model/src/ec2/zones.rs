//! The availability zones berth serves in a region: `{region}a`, `b` and `c`, with zone
//! ids as AWS writes them (`use1-az1`).

/// An availability zone's name and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub id: String,
}

const LETTERS: [char; 3] = ['a', 'b', 'c'];

/// The zones of `region`, in order.
pub fn zones(region: &str) -> Vec<Zone> {
    let short = region_short_name(region);
    LETTERS
        .iter()
        .enumerate()
        .map(|(i, letter)| Zone { name: format!("{region}{letter}"), id: format!("{short}-az{}", i + 1) })
        .collect()
}

/// The zone named `name` in `region`, if berth serves it.
pub fn zone(region: &str, name: &str) -> Option<Zone> {
    zones(region).into_iter().find(|z| z.name == name)
}

/// `us-east-1` → `use1`, `ap-southeast-2` → `apse2`, as zone ids abbreviate regions.
fn region_short_name(region: &str) -> String {
    let mut parts = region.split('-');
    let area = parts.next().unwrap_or_default();
    let direction: String = parts
        .next()
        .unwrap_or_default()
        .replace("north", "n")
        .replace("south", "s")
        .replace("east", "e")
        .replace("west", "w")
        .replace("central", "c");
    let number = parts.next().unwrap_or_default();
    format!("{area}{direction}{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_abbreviate_the_region() {
        let z = zones("us-east-1");
        assert_eq!(z[0], Zone { name: "us-east-1a".into(), id: "use1-az1".into() });
        assert_eq!(zones("ap-southeast-2")[2].id, "apse2-az3");
        assert_eq!(zones("eu-central-1")[1].id, "euc1-az2");
        assert!(zone("us-east-1", "us-east-1d").is_none());
    }
}
