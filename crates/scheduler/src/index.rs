//! The placement engine: per-call precomputation, the fit check, and the two ways of
//! finding the best candidate (an ordered index, or a scan); see the crate docs.

use crate::policy::{BinpackField, Constraint, Policy, SpreadField, Strategy};
use crate::{Demand, InstanceSnapshot, Placed, PlacementFailure, Shortfall};
use berth_model::cluster_query::Expr;
use std::collections::{BTreeSet, HashMap};

/// A candidate's rank under the per-instance strategies (padded with zeros); lower wins.
type Key = [i64; crate::policy::MAX_STRATEGIES];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The index when the strategies allow it and there are enough demands to repay
    /// building it, else a scan.
    Auto,
    /// Always scan (tests compare the two).
    #[cfg_attr(not(test), allow(dead_code))]
    Scan,
}

pub(crate) struct Engine<'a> {
    inst: &'a mut [InstanceSnapshot],
    strategies: &'a [Strategy],
    seed: u64,
    /// ACTIVE and every memberOf that cannot change during the call holds.
    candidate: Vec<bool>,
    /// memberOf expressions over `task:group`, evaluated at each check.
    dynamic: Vec<&'a Expr>,
    distinct: bool,
    rem_cpu: Vec<i64>,
    rem_mem: Vec<i64>,
    /// For each strategy that spreads over an attribute: each instance's value id.
    values: Vec<Option<Vec<u32>>>,
    /// The current group's tasks per value id, for those strategies (candidates only).
    value_counts: Vec<Vec<u32>>,
    /// The group whose counts are loaded.
    group: Option<String>,
    group_count: Vec<u32>,
    /// Some when the strategies allow the index.
    index: Option<Index>,
    draws: u64,
    /// The last failure, valid until something is placed (identical demands that follow
    /// fail the same way without another search).
    last_failure: Option<(Demand, PlacementFailure)>,
}

/// Candidates in one ordered set per combination of leading spread values.
struct Index {
    /// How many strategies lead as attribute spreads.
    levels: usize,
    leaves: Vec<Leaf>,
    leaf_of: Vec<u32>,
    all: Vec<u32>,
}

struct Leaf {
    values: Vec<u32>,
    set: BTreeSet<(Key, u32)>,
}

const NONE: u32 = u32::MAX;

/// Fewer demands than this are placed by scanning.
const INDEX_MIN_DEMANDS: usize = 16;

impl<'a> Engine<'a> {
    pub(crate) fn new(inst: &'a mut [InstanceSnapshot], policy: &'a Policy, mode: Mode, demands: usize) -> Self {
        let n = inst.len();
        let mut dynamic = vec![];
        let mut fixed = vec![];
        let mut distinct = false;
        for c in &policy.constraints {
            match c {
                Constraint::DistinctInstance => distinct = true,
                Constraint::MemberOf(e) if Policy::is_dynamic(e) => dynamic.push(e),
                Constraint::MemberOf(e) => fixed.push(e),
            }
        }
        let candidate: Vec<bool> = inst
            .iter()
            .map(|s| s.active && fixed.iter().all(|e| e.eval(&|subject| s.subject_values(subject))))
            .collect();
        let values = policy
            .strategies
            .iter()
            .map(|s| match s {
                Strategy::Spread(SpreadField::Attribute(name)) => {
                    let mut ids: HashMap<Option<&str>, u32> = HashMap::new();
                    Some(
                        inst.iter()
                            .map(|s| {
                                let v = s.attributes.get(name).map(|v| v.as_deref().unwrap_or(""));
                                let next = ids.len() as u32;
                                *ids.entry(v).or_insert(next)
                            })
                            .collect(),
                    )
                }
                _ => None,
            })
            .collect();
        let leading =
            policy.strategies.iter().take_while(|s| matches!(s, Strategy::Spread(SpreadField::Attribute(_)))).count();
        // Building the index costs about as much as a few scans.
        let indexable = mode == Mode::Auto
            && demands >= INDEX_MIN_DEMANDS
            && policy.strategies[leading..]
                .iter()
                .all(|s| matches!(s, Strategy::Binpack(_) | Strategy::Spread(SpreadField::Instance)));
        let mut engine = Engine {
            rem_cpu: inst.iter().map(InstanceSnapshot::remaining_cpu).collect(),
            rem_mem: inst.iter().map(InstanceSnapshot::remaining_memory).collect(),
            inst,
            strategies: &policy.strategies,
            seed: policy.seed,
            candidate,
            dynamic,
            distinct,
            values,
            value_counts: vec![],
            group: None,
            group_count: vec![0; n],
            index: indexable.then(|| Index { levels: leading, leaves: vec![], leaf_of: vec![NONE; n], all: vec![] }),
            draws: 0,
            last_failure: None,
        };
        engine.build_leaves();
        engine
    }

    pub(crate) fn place_all(mut self, demands: &[Demand]) -> Vec<Result<Placed, PlacementFailure>> {
        demands.iter().map(|d| self.place(d)).collect()
    }

    fn place(&mut self, demand: &Demand) -> Result<Placed, PlacementFailure> {
        if let Some((d, f)) = &self.last_failure
            && d == demand
        {
            return Err(f.clone());
        }
        if self.group.as_deref() != Some(demand.group.as_str()) {
            self.load_group(&demand.group);
        }
        self.draws += 1;
        let found = if self.index.is_some() { self.search_index(demand) } else { self.scan(demand) };
        match found {
            Some(i) => {
                self.last_failure = None;
                Ok(Placed { instance: i, gpus: self.reserve(i, demand) })
            }
            None => {
                let f = self.closest(demand);
                self.last_failure = Some((demand.clone(), f.clone()));
                Err(f)
            }
        }
    }

    /// Whether `demand` can go on candidate `i` now; the check failed otherwise.
    fn fits(&self, i: usize, demand: &Demand) -> Result<(), Shortfall> {
        if !self.candidate[i] {
            return Err(Shortfall::MemberOf);
        }
        if !self.dynamic.is_empty() {
            let s = &self.inst[i];
            if !self.dynamic.iter().all(|e| e.eval(&|subject| s.subject_values(subject))) {
                return Err(Shortfall::MemberOf);
            }
        }
        if self.distinct && self.group_count[i] > 0 {
            return Err(Shortfall::DistinctInstance);
        }
        if demand.resources.cpu > self.rem_cpu[i] {
            return Err(Shortfall::Cpu);
        }
        if demand.resources.memory > self.rem_mem[i] {
            return Err(Shortfall::Memory);
        }
        if demand.gpus > 0 || !demand.resources.ports_tcp.is_empty() || !demand.resources.ports_udp.is_empty() {
            self.inst[i].check_ports_and_gpus(demand)?;
        }
        Ok(())
    }

    /// The failure for a demand nothing took: the ACTIVE instance that got furthest.
    fn closest(&self, demand: &Demand) -> PlacementFailure {
        let mut best: Option<(Shortfall, usize)> = None;
        for i in 0..self.inst.len() {
            if !self.inst[i].active {
                continue;
            }
            // Nothing fit, so every check fails somewhere.
            let shortfall = self.fits(i, demand).err().unwrap_or(Shortfall::Gpu);
            if best.is_none_or(|(b, _)| shortfall > b) {
                best = Some((shortfall, i));
            }
        }
        match best {
            None => PlacementFailure::NoActiveInstances,
            Some((shortfall, i)) => {
                PlacementFailure::Insufficient { instance_arn: self.inst[i].arn.clone(), shortfall }
            }
        }
    }

    fn reserve(&mut self, i: usize, demand: &Demand) -> Vec<String> {
        let levels = self.index.as_ref().map(|x| x.levels);
        let old = levels.map(|levels| self.key(i, levels));
        let gpus = self.inst[i].reserve(demand);
        self.rem_cpu[i] -= demand.resources.cpu;
        self.rem_mem[i] -= demand.resources.memory;
        self.group_count[i] += 1;
        for (k, values) in self.values.iter().enumerate() {
            if let Some(values) = values {
                self.value_counts[k][values[i] as usize] += 1;
            }
        }
        if let (Some(levels), Some(old)) = (levels, old) {
            let new = self.key(i, levels);
            let index = self.index.as_mut().expect("index");
            let leaf = &mut index.leaves[index.leaf_of[i] as usize];
            leaf.set.remove(&(old, i as u32));
            leaf.set.insert((new, i as u32));
        }
        gpus
    }

    /// Instance `i`'s rank under the strategies from `from` on.
    fn key(&self, i: usize, from: usize) -> Key {
        let mut key = [0; crate::policy::MAX_STRATEGIES];
        for (slot, (k, s)) in key.iter_mut().zip(self.strategies.iter().enumerate().skip(from)) {
            *slot = match s {
                Strategy::Spread(SpreadField::Attribute(_)) => {
                    let v = self.values[k].as_ref().map_or(0, |v| v[i]);
                    i64::from(self.value_counts[k][v as usize])
                }
                Strategy::Spread(SpreadField::Instance) => i64::from(self.group_count[i]),
                Strategy::Binpack(BinpackField::Cpu) => self.rem_cpu[i],
                Strategy::Binpack(BinpackField::Memory) => self.rem_mem[i],
                Strategy::Random => (mix(self.seed ^ mix(self.draws) ^ mix(i as u64 ^ 0x5bd1_e995)) >> 1) as i64,
            };
        }
        key
    }

    /// Loads the task counts of `group` (the index is keyed by them).
    fn load_group(&mut self, group: &str) {
        for (i, s) in self.inst.iter().enumerate() {
            self.group_count[i] = s.task_groups.get(group).copied().unwrap_or(0);
        }
        self.value_counts = self
            .values
            .iter()
            .map(|values| match values {
                None => vec![],
                Some(values) => {
                    let mut counts = vec![0u32; values.iter().max().map_or(0, |m| *m as usize + 1)];
                    for (i, v) in values.iter().enumerate() {
                        if self.candidate[i] {
                            counts[*v as usize] += self.group_count[i];
                        }
                    }
                    counts
                }
            })
            .collect();
        self.group = Some(group.to_string());
        if let Some(levels) = self.index.as_ref().map(|x| x.levels) {
            let keys: Vec<(usize, Key)> =
                (0..self.inst.len()).filter(|i| self.candidate[*i]).map(|i| (i, self.key(i, levels))).collect();
            let index = self.index.as_mut().expect("index");
            for leaf in &mut index.leaves {
                leaf.set.clear();
            }
            for (i, key) in keys {
                index.leaves[index.leaf_of[i] as usize].set.insert((key, i as u32));
            }
        }
    }

    /// Assigns each candidate to its leaf (by its leading spread values).
    fn build_leaves(&mut self) {
        let Some(index) = self.index.as_mut() else { return };
        let mut by_values: HashMap<Vec<u32>, u32> = HashMap::new();
        for i in 0..self.inst.len() {
            if !self.candidate[i] {
                continue;
            }
            let vals: Vec<u32> = (0..index.levels).map(|k| self.values[k].as_ref().map_or(0, |v| v[i])).collect();
            let next = index.leaves.len() as u32;
            let leaf = *by_values.entry(vals.clone()).or_insert_with(|| {
                index.leaves.push(Leaf { values: vals, set: BTreeSet::new() });
                next
            });
            index.leaf_of[i] = leaf;
        }
        index.all = (0..index.leaves.len() as u32).collect();
    }

    fn search_index(&self, demand: &Demand) -> Option<usize> {
        let index = self.index.as_ref()?;
        self.search_level(index, 0, &index.all, demand)
    }

    /// The best fitting candidate among `leaves`, which tie on the spread levels before
    /// `level`: the values at `level` holding the fewest tasks first, tied values together.
    fn search_level(&self, index: &Index, level: usize, leaves: &[u32], demand: &Demand) -> Option<usize> {
        if level == index.levels {
            return self.best_in_leaves(index, leaves, demand);
        }
        let counts = &self.value_counts[level];
        let mut ranked: Vec<(u32, u32)> =
            leaves.iter().map(|l| (counts[index.leaves[*l as usize].values[level] as usize], *l)).collect();
        ranked.sort_unstable();
        let mut start = 0;
        let mut tied: Vec<u32> = Vec::with_capacity(ranked.len());
        while start < ranked.len() {
            let count = ranked[start].0;
            let end = start + ranked[start..].iter().take_while(|(c, _)| *c == count).count();
            tied.clear();
            tied.extend(ranked[start..end].iter().map(|(_, l)| *l));
            if let Some(found) = self.search_level(index, level + 1, &tied, demand) {
                return Some(found);
            }
            start = end;
        }
        None
    }

    /// The least (key, index) fitting candidate over several leaves: each leaf's first
    /// fit is its best, starting where binpack says the demand could fit at all.
    fn best_in_leaves(&self, index: &Index, leaves: &[u32], demand: &Demand) -> Option<usize> {
        let mut from: Key = [i64::MIN; crate::policy::MAX_STRATEGIES];
        match self.strategies.get(index.levels) {
            Some(Strategy::Binpack(BinpackField::Memory)) => from[0] = demand.resources.memory,
            Some(Strategy::Binpack(BinpackField::Cpu)) => from[0] = demand.resources.cpu,
            _ => {}
        }
        let mut best: Option<(Key, u32)> = None;
        for l in leaves {
            let set = &index.leaves[*l as usize].set;
            for entry in set.range((from, 0)..) {
                if best.is_some_and(|b| *entry >= b) {
                    break;
                }
                if self.fits(entry.1 as usize, demand).is_ok() {
                    best = Some(*entry);
                    break;
                }
            }
        }
        best.map(|(_, i)| i as usize)
    }

    fn scan(&self, demand: &Demand) -> Option<usize> {
        let mut best: Option<(Key, usize)> = None;
        for i in 0..self.inst.len() {
            if !self.candidate[i] || self.fits(i, demand).is_err() {
                continue;
            }
            let key = self.key(i, 0);
            if best.is_none_or(|b| (key, i) < b) {
                best = Some((key, i));
            }
        }
        best.map(|(_, i)| i)
    }
}

/// SplitMix64's finalizer: the random strategy's draws.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
pub(crate) fn place_scanning(
    instances: &mut [InstanceSnapshot],
    demands: &[Demand],
    policy: &Policy,
) -> Vec<Result<Placed, PlacementFailure>> {
    Engine::new(instances, policy, Mode::Scan, demands.len()).place_all(demands)
}
