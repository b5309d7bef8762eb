//! Pure mappings between berth's and etcd's numbering and key ranges.

use berth_store::Revision;

/// etcd's revision of berth revision `rev` (0, "never written", stays 0).
pub fn to_etcd(rev: Revision) -> i64 {
    if rev <= 0 { 0 } else { rev + 1 }
}

/// berth's revision of etcd revision `rev` (etcd's empty store is at revision 1).
pub fn from_etcd(rev: i64) -> Revision {
    (rev - 1).max(0)
}

/// The smallest key greater than every key starting with `prefix`, as etcd's range end:
/// the prefix with its last byte below 0xff incremented and what follows dropped, or
/// `[0]` ("to the end of the keyspace") when there is no such byte.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    match prefix.iter().rposition(|b| *b < 0xff) {
        Some(i) => {
            let mut end = prefix[..=i].to_vec();
            end[i] += 1;
            end
        }
        None => vec![0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_map_both_ways() {
        assert_eq!(to_etcd(0), 0);
        assert_eq!(from_etcd(1), 0);
        assert_eq!(from_etcd(0), 0);
        for rev in [1, 2, 1000] {
            assert_eq!(from_etcd(to_etcd(rev)), rev);
        }
    }

    #[test]
    fn prefix_end_increments_the_last_byte_below_ff() {
        assert_eq!(prefix_end(b""), vec![0]);
        assert_eq!(prefix_end(b"a"), b"b".to_vec());
        assert_eq!(prefix_end(b"berth/"), b"berth0".to_vec());
        assert_eq!(prefix_end(&[b'a', 0xff, 0xff]), b"b".to_vec());
        assert_eq!(prefix_end(&[0xff]), vec![0]);
    }
}
