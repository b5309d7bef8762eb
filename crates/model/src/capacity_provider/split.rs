//! How a capacity provider strategy shares tasks out, as ECS does: the provider with a
//! `base` gets tasks first until it runs that many, and the rest go by the ratio of the
//! weights (weight 1 and 4: one task of every five to the first). A service's existing
//! tasks count, so new ones keep the ratio. Pure: no I/O.

use crate::ecs::CapacityProviderStrategyItem;
use std::collections::BTreeMap;

/// The provider of each of `n` new tasks, given how many tasks each provider already
/// runs (`existing`, by provider name). Ties go to the heavier weight, then to the
/// provider listed first (FARGATE base 1 weight 1 and FARGATE_SPOT weight 3 run four
/// tasks as 1 + 3, as ECS does). A strategy
/// whose weights are all zero gives tasks only up to the base.
pub fn assign(strategy: &[CapacityProviderStrategyItem], existing: &BTreeMap<String, u32>, n: usize) -> Vec<String> {
    let mut counts: Vec<u64> =
        strategy.iter().map(|i| u64::from(existing.get(&i.capacity_provider).copied().unwrap_or(0))).collect();
    let base = |i: usize| u64::try_from(strategy[i].base.unwrap_or(0).max(0)).unwrap_or(0);
    let weight = |i: usize| u64::try_from(strategy[i].weight.unwrap_or(0).max(0)).unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let chosen = (0..strategy.len()).find(|&i| counts[i] < base(i)).or_else(|| {
            // The weighted provider furthest behind its share: smallest (beyond-base + 1) / weight,
            // compared as fractions by cross-multiplying.
            (0..strategy.len()).filter(|&i| weight(i) > 0).min_by(|&a, &b| {
                let next = |i: usize| counts[i].saturating_sub(base(i)) + 1;
                (next(a) * weight(b)).cmp(&(next(b) * weight(a))).then(weight(b).cmp(&weight(a))).then(a.cmp(&b))
            })
        });
        let Some(i) = chosen else { break };
        counts[i] += 1;
        out.push(strategy[i].capacity_provider.clone());
    }
    out
}

/// How many of `assigned` went to each provider.
pub fn tally(assigned: &[String]) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for p in assigned {
        *out.entry(p.clone()).or_default() += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(p: &str, weight: i32, base: i32) -> CapacityProviderStrategyItem {
        CapacityProviderStrategyItem { capacity_provider: p.into(), weight: Some(weight), base: Some(base) }
    }

    fn counts(strategy: &[CapacityProviderStrategyItem], n: usize) -> Vec<(String, u32)> {
        tally(&assign(strategy, &BTreeMap::new(), n)).into_iter().collect()
    }

    #[test]
    fn fargate_base_one_then_spot_three_to_one() {
        // The brief's service of 4: FARGATE base 1 weight 1, FARGATE_SPOT weight 3 → 1 + 3;
        // the fifth task goes back to FARGATE (beyond the base 1:3).
        let s = [item("FARGATE", 1, 1), item("FARGATE_SPOT", 3, 0)];
        assert_eq!(counts(&s, 4), [("FARGATE".into(), 1), ("FARGATE_SPOT".into(), 3)]);
        assert_eq!(
            assign(&s, &BTreeMap::new(), 5),
            ["FARGATE", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE"]
        );
        assert_eq!(counts(&s, 9), [("FARGATE".into(), 3), ("FARGATE_SPOT".into(), 6)]);
        // A service's replacement of an interrupted spot task goes back to spot.
        let existing = BTreeMap::from([("FARGATE".into(), 1), ("FARGATE_SPOT".into(), 2)]);
        assert_eq!(assign(&s, &existing, 1), ["FARGATE_SPOT"]);
    }

    #[test]
    fn equal_weights_split_evenly() {
        // ECS's documentation: both weight 1 → the tasks split evenly.
        let s = [item("a", 1, 0), item("b", 1, 0)];
        assert_eq!(counts(&s, 6), [("a".into(), 3), ("b".into(), 3)]);
        assert_eq!(assign(&s, &BTreeMap::new(), 3), ["a", "b", "a"]);
    }

    #[test]
    fn weights_one_and_four_give_one_in_five() {
        // "for every one task that's run using capacityProviderA, four tasks would use capacityProviderB".
        let s = [item("a", 1, 0), item("b", 4, 0)];
        assert_eq!(counts(&s, 10), [("a".into(), 2), ("b".into(), 8)]);
    }

    #[test]
    fn the_base_comes_first_then_the_weights() {
        // ECS's example: A base 1 weight 1, B weight 1 (Fargate Spot style): first to A, then even.
        let s = [item("a", 1, 2), item("b", 1, 0)];
        assert_eq!(assign(&s, &BTreeMap::new(), 2), ["a", "a"]);
        assert_eq!(counts(&s, 6), [("a".into(), 4), ("b".into(), 2)]);
        // Base on a zero-weight provider: only the base goes there.
        let s = [item("a", 0, 2), item("b", 1, 0)];
        assert_eq!(counts(&s, 5), [("a".into(), 2), ("b".into(), 3)]);
    }

    #[test]
    fn existing_tasks_keep_the_ratio() {
        let s = [item("a", 1, 0), item("b", 1, 0)];
        let existing = BTreeMap::from([("a".to_string(), 3)]);
        assert_eq!(assign(&s, &existing, 3), ["b", "b", "b"]);
    }

    #[test]
    fn all_zero_weights_stop_after_the_base() {
        let s = [item("a", 0, 1)];
        assert_eq!(assign(&s, &BTreeMap::new(), 3), ["a"]);
        assert!(assign(&[], &BTreeMap::new(), 2).is_empty());
    }
}
