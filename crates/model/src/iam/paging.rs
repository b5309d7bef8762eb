//! IAM's `Marker` / `MaxItems` paging: at most MaxItems (1–1000, 100 by default) items,
//! `IsTruncated` and a marker when more remain. The marker is the last returned item's
//! sort key, so it never repeats and is never empty.

use super::IamError;

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page begins; None on the last page.
    pub marker: Option<String>,
}

impl<T> Page<T> {
    pub fn is_truncated(&self) -> bool {
        self.marker.is_some()
    }
}

/// The page after `marker` of `items`, which are in `key` order.
pub fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    marker: Option<&str>,
    max_items: Option<i32>,
) -> Result<Page<T>, IamError> {
    let size = match max_items {
        None => 100,
        Some(n) if n < 1 => {
            return Err(IamError::constraint(
                &n.to_string(),
                "maxItems",
                "Member must have value greater than or equal to 1",
            ));
        }
        Some(n) if n > 1000 => {
            return Err(IamError::constraint(
                &n.to_string(),
                "maxItems",
                "Member must have value less than or equal to 1000",
            ));
        }
        Some(n) => usize::try_from(n).unwrap_or(100),
    };
    let mut rest: Vec<T> = items.into_iter().filter(|i| marker.is_none_or(|m| key(i).as_str() > m)).collect();
    let marker = if rest.len() > size { rest.get(size - 1).map(&key) } else { None };
    rest.truncate(size);
    Ok(Page { items: rest, marker })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_markers_to_the_end() {
        let items: Vec<String> = (0..5).map(|i| format!("k{i}")).collect();
        let first = page(items.clone(), |s| s.clone(), None, Some(2)).unwrap();
        assert_eq!(first.items, ["k0", "k1"]);
        assert_eq!(first.marker.as_deref(), Some("k1"));
        let second = page(items.clone(), |s| s.clone(), first.marker.as_deref(), Some(2)).unwrap();
        assert_eq!(second.items, ["k2", "k3"]);
        let last = page(items.clone(), |s| s.clone(), second.marker.as_deref(), Some(2)).unwrap();
        assert_eq!(last.items, ["k4"]);
        assert!(!last.is_truncated());
        assert_eq!(page(items.clone(), |s| s.clone(), None, None).unwrap().items.len(), 5);
        assert!(page(items.clone(), |s| s.clone(), None, Some(0)).is_err());
        assert!(page(items, |s| s.clone(), None, Some(1001)).is_err());
    }
}
