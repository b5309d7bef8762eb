//! `nextToken` / `maxResults` pagination over a sorted list. The token is the opaque
//! (base64) sort key of the last item returned, so a page boundary stays put when
//! items are added or removed elsewhere, and no token is ever handed out twice in a row.

use crate::error::AwsError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// `items` must already be in the order to return (ascending, or descending when
/// `descending`) by `key`. `max` is the caller's maxResults, checked against `1..=limit`;
/// absent, pages are `limit` long.
pub fn paginate<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    descending: bool,
    next_token: Option<&str>,
    max: Option<i32>,
    limit: i32,
) -> Result<Page<T>, AwsError> {
    let max = match max {
        None => limit,
        Some(m) if (1..=limit).contains(&m) => m,
        Some(m) => {
            return Err(AwsError::ecs_invalid_parameter(format!("maxResults must be between 1 and {limit}; got {m}.")));
        }
    } as usize;
    let after = match next_token {
        None => None,
        Some(token) => Some(decode_token(token)?),
    };
    let mut page: Vec<T> = items
        .into_iter()
        .filter(|item| match &after {
            None => true,
            Some(after) if descending => key(item) < *after,
            Some(after) => key(item) > *after,
        })
        .take(max + 1)
        .collect();
    let next_token = if page.len() > max {
        page.truncate(max);
        page.last().map(|last| URL_SAFE_NO_PAD.encode(key(last)))
    } else {
        None
    };
    Ok(Page { items: page, next_token })
}

fn decode_token(token: &str) -> Result<String, AwsError> {
    URL_SAFE_NO_PAD.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| {
        AwsError::ecs_invalid_parameter("The nextToken is not valid: pass back the value from the previous page.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_pages(items: &[&str], descending: bool, max: i32) -> Vec<Vec<String>> {
        let mut pages = vec![];
        let mut token: Option<String> = None;
        loop {
            let owned: Vec<String> = items.iter().map(|s| s.to_string()).collect();
            let page = paginate(owned, |s| s.clone(), descending, token.as_deref(), Some(max), 100).unwrap();
            if page.next_token.is_some() {
                assert_ne!(page.next_token, token, "a token must not repeat");
            }
            pages.push(page.items);
            match page.next_token {
                Some(t) => token = Some(t),
                None => return pages,
            }
        }
    }

    #[test]
    fn walks_every_item_once_in_both_directions() {
        let asc = ["a", "b", "c", "d", "e"];
        assert_eq!(all_pages(&asc, false, 2), vec![vec!["a", "b"], vec!["c", "d"], vec!["e"]]);
        let desc = ["e", "d", "c", "b", "a"];
        assert_eq!(all_pages(&desc, true, 2), vec![vec!["e", "d"], vec!["c", "b"], vec!["a"]]);
        assert_eq!(all_pages(&asc, false, 5), vec![asc.to_vec()]);
        assert_eq!(all_pages(&[], false, 3), vec![Vec::<String>::new()]);
    }

    #[test]
    fn rejects_bad_sizes_and_tokens() {
        let v = || vec!["a".to_string()];
        for bad in [0, -1, 101] {
            assert!(paginate(v(), |s| s.clone(), false, None, Some(bad), 100).is_err());
        }
        assert!(paginate(v(), |s| s.clone(), false, Some("!!not base64!!"), None, 100).is_err());
    }
}
