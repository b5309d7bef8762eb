use super::*;
use std::collections::{BTreeMap, BTreeSet};

fn instance(arn: &str, cpu: i64, memory: i64) -> InstanceSnapshot {
    InstanceSnapshot {
        arn: arn.into(),
        active: true,
        registered: Resources { cpu, memory, ..Default::default() },
        ..Default::default()
    }
}

fn demand(cpu: i64, memory: i64) -> Demand {
    Demand { resources: Resources { cpu, memory, ..Default::default() }, group: "family:web".into(), gpus: 0 }
}

/// First-fit: no strategy, no constraint.
fn ff() -> Policy {
    Policy::default()
}

fn at(i: usize) -> Result<Placed, PlacementFailure> {
    Ok(Placed { instance: i, gpus: vec![] })
}

fn indexes(results: &[Result<Placed, PlacementFailure>]) -> Vec<Option<usize>> {
    results.iter().map(|r| r.as_ref().ok().map(|p| p.instance)).collect()
}

fn with_tcp(mut d: Demand, ports: &[u16]) -> Demand {
    d.resources.ports_tcp = ports.iter().copied().collect();
    d
}

fn failure(arn: &str, shortfall: Shortfall) -> Result<Placed, PlacementFailure> {
    Err(PlacementFailure::Insufficient { instance_arn: arn.into(), shortfall })
}

#[test]
fn first_fit_fills_instances_in_order_without_over_committing() {
    let instances = [instance("a", 1024, 512), instance("b", 1024, 512)];
    let demands = vec![demand(0, 200); 6];
    let got = place(&instances, &demands, &ff());
    assert_eq!(got[..4], [at(0), at(0), at(1), at(1)]);
    assert_eq!(got[4], failure("a", Shortfall::Memory));
    assert_eq!(got[5], failure("a", Shortfall::Memory));
}

#[test]
fn place_in_leaves_the_reservations_in_the_snapshot() {
    let mut instances = [instance("a", 1024, 1024)];
    let placed = place_in(&mut instances, &[demand(100, 200), with_tcp(demand(1, 1), &[80])], &ff());
    assert_eq!(placed, [at(0), at(0)]);
    assert_eq!((instances[0].reserved.cpu, instances[0].reserved.memory), (101, 201));
    assert!(instances[0].reserved.ports_tcp.contains(&80));
    assert_eq!(instances[0].task_groups["family:web"], 2);
}

#[test]
fn only_active_instances_receive_tasks() {
    let mut draining = instance("draining", 4096, 4096);
    draining.active = false;
    let got = place(&[draining.clone(), instance("active", 1024, 1024)], &[demand(10, 10)], &ff());
    assert_eq!(got, [at(1)]);
    assert_eq!(place(&[draining], &[demand(10, 10)], &ff()), [Err(PlacementFailure::NoActiveInstances)]);
    assert_eq!(place(&[], &[demand(10, 10)], &ff()), [Err(PlacementFailure::NoActiveInstances)]);
}

#[test]
fn fixed_host_ports_conflict_per_protocol() {
    let mut host = instance("a", 4096, 4096);
    host.registered.ports_tcp = [22].into();
    let web = with_tcp(demand(1, 1), &[8080]);
    let got = place(&[host.clone()], &[web.clone(), web.clone()], &ff());
    assert_eq!(got, [at(0), failure("a", Shortfall::Ports)]);
    // The host's own ports are never given out.
    assert_eq!(place(&[host.clone()], &[with_tcp(demand(1, 1), &[22])], &ff()), [failure("a", Shortfall::Ports)]);
    // tcp 53 and udp 53 are different ports.
    let mut dns = demand(1, 1);
    dns.resources.ports_udp = [53].into();
    let got = place(&[host], &[with_tcp(demand(1, 1), &[53]), dns.clone(), dns], &ff());
    assert_eq!(got, [at(0), at(0), failure("a", Shortfall::Ports)]);
}

#[test]
fn the_reason_is_the_closest_instances_first_shortfall() {
    // a lacks CPU; b has CPU but lacks memory: b came closer.
    let got = place(&[instance("a", 10, 4096), instance("b", 4096, 10)], &[demand(100, 100)], &ff());
    assert_eq!(got, [failure("b", Shortfall::Memory)]);
    // c has CPU and memory but the port is taken: c is closest.
    let mut c = instance("c", 4096, 4096);
    c.reserved.ports_tcp = [80].into();
    let got = place(&[instance("a", 10, 4096), c], &[with_tcp(demand(100, 100), &[80])], &ff());
    assert_eq!(got, [failure("c", Shortfall::Ports)]);
    // Ties go to the first instance.
    let got = place(&[instance("a", 10, 10), instance("b", 10, 10)], &[demand(100, 100)], &ff());
    assert_eq!(got, [failure("a", Shortfall::Cpu)]);
    assert_eq!(Shortfall::Memory.reason(), "RESOURCE:MEMORY");
}

#[test]
fn place_on_checks_exactly_that_instance() {
    let mut a = instance("a", 100, 100);
    assert_eq!(place_on(&mut a, &demand(60, 10)), Ok(vec![]));
    assert_eq!(place_on(&mut a, &demand(60, 10)), Err(Shortfall::Cpu));
    a.active = false;
    // Status is the caller's decision.
    assert_eq!(place_on(&mut a, &demand(40, 10)), Ok(vec![]));
    assert_eq!(a.remaining_cpu(), 0);
}

/// A small deterministic generator (SplitMix64), so the randomized test is repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn ports(&mut self, max: usize) -> BTreeSet<u16> {
        (0..self.below(max as u64 + 1)).map(|_| 8000 + self.below(6) as u16).collect()
    }
}

#[test]
fn randomized_placements_never_over_commit_and_never_miss_a_fit() {
    for seed in 0..500u64 {
        let mut rng = Rng(seed);
        let instances: Vec<InstanceSnapshot> = (0..rng.below(5))
            .map(|i| {
                let (cpu, memory) = (rng.below(4096) as i64, rng.below(4096) as i64);
                InstanceSnapshot {
                    arn: format!("i{i}"),
                    active: rng.below(4) != 0,
                    registered: Resources {
                        cpu,
                        memory,
                        ports_tcp: rng.ports(1),
                        ports_udp: rng.ports(1),
                        ..Default::default()
                    },
                    reserved: Resources {
                        cpu: rng.below(cpu as u64 + 1) as i64,
                        memory: rng.below(memory as u64 + 1) as i64,
                        ports_tcp: rng.ports(2),
                        ports_udp: rng.ports(1),
                        ..Default::default()
                    },
                    ..Default::default()
                }
            })
            .collect();
        let demands: Vec<Demand> = (0..rng.below(12))
            .map(|_| Demand {
                resources: Resources {
                    cpu: rng.below(1500) as i64,
                    memory: rng.below(1500) as i64,
                    ports_tcp: rng.ports(2),
                    ports_udp: rng.ports(1),
                    ..Default::default()
                },
                group: format!("g{}", rng.below(3)),
                gpus: 0,
            })
            .collect();

        let results = place(&instances, &demands, &ff());
        assert_eq!(results.len(), demands.len());

        // Replay: every placement fit the instance as it was at that moment, so nothing
        // is over-committed and no port is given twice; every failure had no ACTIVE
        // instance that fit, and names the closest one.
        let mut state = instances.clone();
        for (d, r) in demands.iter().zip(&results) {
            match r {
                Ok(Placed { instance: i, .. }) => {
                    let inst = &mut state[*i];
                    assert!(inst.active, "seed {seed}: placed on an inactive instance");
                    assert!(d.resources.cpu <= inst.remaining_cpu(), "seed {seed}: cpu over-committed");
                    assert!(d.resources.memory <= inst.remaining_memory(), "seed {seed}: memory over-committed");
                    for p in &d.resources.ports_tcp {
                        assert!(!inst.registered.ports_tcp.contains(p) && !inst.reserved.ports_tcp.contains(p));
                    }
                    for p in &d.resources.ports_udp {
                        assert!(!inst.registered.ports_udp.contains(p) && !inst.reserved.ports_udp.contains(p));
                    }
                    assert!(state[..*i].iter().all(|s| !s.active || s.check(d).is_err()), "seed {seed}");
                    state[*i].reserve(d);
                }
                Err(PlacementFailure::NoActiveInstances) => {
                    assert!(state.iter().all(|s| !s.active), "seed {seed}");
                }
                Err(PlacementFailure::Insufficient { instance_arn, shortfall }) => {
                    let shortfalls: Vec<Shortfall> =
                        state.iter().filter(|s| s.active).map(|s| s.check(d).unwrap_err()).collect();
                    let best = shortfalls.iter().max().unwrap();
                    assert_eq!(shortfall, best, "seed {seed}");
                    let first_best = state.iter().find(|s| s.active && s.check(d) == Err(*best)).unwrap();
                    assert_eq!(&first_best.arn, instance_arn, "seed {seed}");
                }
            }
        }
        for s in &state {
            assert!(s.remaining_cpu() >= 0 && s.remaining_memory() >= 0, "seed {seed}: {s:?}");
        }
        // The totals agree with the replay.
        let mut updated = instances.clone();
        place_in(&mut updated, &demands, &ff());
        assert_eq!(updated, state, "seed {seed}");
    }
}

// ---- strategies, constraints, GPUs ----

fn zoned(arn: &str, cpu: i64, memory: i64, zone: &str, kind: &str) -> InstanceSnapshot {
    let mut s = instance(arn, cpu, memory);
    s.attributes.insert("ecs.availability-zone".into(), Some(zone.into()));
    s.attributes.insert("ecs.instance-type".into(), Some(kind.into()));
    s.ec2_instance_id = format!("i-{arn}");
    s
}

fn spread(field: &str) -> Strategy {
    match field.strip_prefix("attribute:") {
        Some(name) => Strategy::Spread(SpreadField::Attribute(name.into())),
        None => Strategy::Spread(SpreadField::Instance),
    }
}

fn member_of(expr: &str) -> Constraint {
    Constraint::MemberOf(berth_model::cluster_query::parse(expr).unwrap())
}

fn policy(strategies: Vec<Strategy>, constraints: Vec<Constraint>) -> Policy {
    Policy { strategies, constraints, seed: 7 }
}

#[test]
fn spread_over_an_attribute_balances_its_values() {
    let instances = [
        zoned("a1", 4096, 4096, "a", "m5"),
        zoned("a2", 4096, 4096, "a", "m5"),
        zoned("b1", 4096, 4096, "b", "m5"),
        zoned("c1", 4096, 4096, "c", "m5"),
    ];
    let got =
        place(&instances, &vec![demand(1, 1); 6], &policy(vec![spread("attribute:ecs.availability-zone")], vec![]));
    // a, b, c, then again; within a zone the first instance (no second strategy).
    assert_eq!(indexes(&got), [Some(0), Some(2), Some(3), Some(0), Some(2), Some(3)]);
    // Then by instance inside the zone.
    let both = policy(vec![spread("attribute:ecs.availability-zone"), spread("instanceId")], vec![]);
    let got = place(&instances, &vec![demand(1, 1); 6], &both);
    assert_eq!(indexes(&got), [Some(0), Some(2), Some(3), Some(1), Some(2), Some(3)]);
}

#[test]
fn spread_counts_only_tasks_of_the_same_group() {
    let mut a = zoned("a", 4096, 4096, "a", "m5");
    a.task_groups.insert("family:other".into(), 5);
    let mut b = zoned("b", 4096, 4096, "b", "m5");
    b.task_groups.insert("family:web".into(), 1);
    let got = place(&[a, b], &[demand(1, 1), demand(1, 1)], &policy(vec![spread("instanceId")], vec![]));
    assert_eq!(indexes(&got), [Some(0), Some(0)]);
}

#[test]
fn binpack_picks_the_fullest_instance_that_fits() {
    let instances = [instance("roomy", 4096, 4000), instance("tight", 4096, 600), instance("full", 4096, 100)];
    let mem = policy(vec![Strategy::Binpack(BinpackField::Memory)], vec![]);
    let got = place(&instances, &vec![demand(1, 250); 4], &mem);
    // tight takes two (600 → 100), then roomy.
    assert_eq!(indexes(&got), [Some(1), Some(1), Some(0), Some(0)]);
    let cpu_instances = [instance("a", 4000, 4096), instance("b", 300, 4096)];
    let cpu = policy(vec![Strategy::Binpack(BinpackField::Cpu)], vec![]);
    assert_eq!(indexes(&place(&cpu_instances, &vec![demand(200, 1); 2], &cpu)), [Some(1), Some(0)]);
}

#[test]
fn spread_then_binpack_fills_the_fullest_instance_of_the_emptiest_zone() {
    let instances = [
        zoned("a-big", 4096, 8192, "a", "m5"),
        zoned("a-small", 4096, 1024, "a", "m5"),
        zoned("b-big", 4096, 8192, "b", "m5"),
        zoned("b-small", 4096, 2048, "b", "m5"),
    ];
    let p = policy(vec![spread("attribute:ecs.availability-zone"), Strategy::Binpack(BinpackField::Memory)], vec![]);
    let got = place(&instances, &vec![demand(1, 512); 6], &p);
    // Zones tie at 2 after four: the fullest fitting instance of both (b-small) wins.
    assert_eq!(indexes(&got), [Some(1), Some(3), Some(1), Some(3), Some(3), Some(0)]);
}

#[test]
fn random_is_repeatable_for_a_seed_and_uses_every_instance() {
    let instances: Vec<InstanceSnapshot> = (0..8).map(|i| instance(&format!("i{i}"), 100_000, 100_000)).collect();
    let p = policy(vec![Strategy::Random], vec![]);
    let first = place(&instances, &vec![demand(1, 1); 200], &p);
    assert_eq!(first, place(&instances, &vec![demand(1, 1); 200], &p));
    let used: BTreeSet<usize> = first.iter().map(|r| r.as_ref().unwrap().instance).collect();
    assert_eq!(used.len(), 8);
    let other = place(&instances, &vec![demand(1, 1); 200], &Policy { seed: 8, ..p });
    assert_ne!(first, other);
}

#[test]
fn distinct_instance_puts_each_task_of_a_group_on_its_own_instance() {
    let mut busy = instance("busy", 4096, 4096);
    busy.task_groups.insert("family:web".into(), 1);
    let instances = [busy, instance("b", 4096, 4096), instance("c", 4096, 4096)];
    let p = policy(vec![], vec![Constraint::DistinctInstance]);
    let got = place(&instances, &vec![demand(1, 1); 3], &p);
    assert_eq!(got[..2], [at(1), at(2)]);
    assert_eq!(got[2], failure("busy", Shortfall::DistinctInstance));
    // Another group is not affected.
    let mut db = demand(1, 1);
    db.group = "family:db".into();
    assert_eq!(place(&instances, &[db], &p), [at(0)]);
}

#[test]
fn member_of_restricts_candidates_and_fails_with_member_of() {
    let instances = [zoned("a", 4096, 4096, "a", "m5.large"), zoned("b", 4096, 4096, "b", "g4dn.xlarge")];
    let gpu_type = policy(vec![], vec![member_of("attribute:ecs.instance-type =~ g4dn.*")]);
    assert_eq!(place(&instances, &[demand(1, 1)], &gpu_type), [at(1)]);
    let zone = policy(vec![], vec![member_of("attribute:ecs.availability-zone in [c, d]")]);
    assert_eq!(place(&instances, &[demand(1, 1)], &zone), [failure("a", Shortfall::MemberOf)]);
    // An instance that passes the constraint but lacks memory came closer.
    let both = policy(vec![], vec![member_of("ec2InstanceId == i-b")]);
    assert_eq!(place(&instances, &[demand(1, 5000)], &both), [failure("b", Shortfall::Memory)]);
    // task:group sees the tasks placed earlier in the same call.
    let mut db = demand(1, 1);
    db.group = "family:db".into();
    let near_db = policy(vec![spread("instanceId")], vec![member_of("task:group == family:db")]);
    let got = place(&instances, &[db.clone(), demand(1, 1), demand(1, 1)], &Policy { ..policy(vec![], vec![]) });
    assert_eq!(indexes(&got), [Some(0), Some(0), Some(0)]);
    let mut later = instances.clone();
    place_in(&mut later, &[db], &ff());
    assert_eq!(indexes(&place(&later, &[demand(1, 1), demand(1, 1)], &near_db)), [Some(0), Some(0)]);
    let running = policy(vec![], vec![member_of("runningTasksCount < 1 and not agentConnected == false")]);
    let mut connected = instances.clone();
    connected[1].agent_connected = true;
    assert_eq!(place(&connected, &[demand(1, 1)], &running), [at(1)]);
}

#[test]
fn draining_instances_receive_nothing_whatever_the_strategy() {
    let mut draining = zoned("d", 100_000, 100_000, "z", "m5");
    draining.active = false;
    let small = zoned("s", 4096, 300, "z", "m5");
    let p = policy(vec![spread("attribute:ecs.availability-zone"), Strategy::Binpack(BinpackField::Memory)], vec![]);
    let got = place(&[draining, small], &vec![demand(1, 200); 2], &p);
    assert_eq!(got, [at(1), failure("s", Shortfall::Memory)]);
}

#[test]
fn gpus_are_reserved_by_id() {
    let mut g = instance("g", 4096, 4096);
    g.gpus = vec!["gpu2".into(), "gpu0".into(), "gpu1".into()];
    g.reserved.gpus.insert("gpu0".into());
    let mut two = demand(1, 1);
    two.gpus = 2;
    let mut one = demand(1, 1);
    one.gpus = 1;
    let mut snapshot = [g, instance("plain", 4096, 4096)];
    let got = place_in(&mut snapshot, &[two.clone(), two, one.clone(), one], &ff());
    assert_eq!(got[0], Ok(Placed { instance: 0, gpus: vec!["gpu1".into(), "gpu2".into()] }));
    assert_eq!(got[1], failure("g", Shortfall::Gpu));
    assert_eq!(got[2], failure("g", Shortfall::Gpu));
    assert_eq!(snapshot[0].free_gpus(), 0);
    assert_eq!(Shortfall::Gpu.reason(), "RESOURCE:GPU");
}

#[test]
fn failure_messages_read_like_ecs_service_events() {
    let f = PlacementFailure::Insufficient {
        instance_arn: "arn:aws:ecs:us-east-1:1:container-instance/c/abc".into(),
        shortfall: Shortfall::Memory,
    };
    assert_eq!(
        f.message("service web"),
        "(service web) was unable to place a task because no container instance met all of its requirements. \
         The closest matching (container-instance abc) has insufficient memory available."
    );
}

// ---- randomized invariants over strategies and constraints ----

const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
const TYPES: [&str; 3] = ["m5.large", "c5.xlarge", "g4dn.xlarge"];

fn random_cluster(rng: &mut Rng, n: usize) -> Vec<InstanceSnapshot> {
    (0..n)
        .map(|i| {
            let mut s = zoned(
                &format!("i{i}"),
                rng.below(4096) as i64 + 256,
                rng.below(4096) as i64 + 256,
                ZONES[rng.below(3) as usize],
                TYPES[rng.below(3) as usize],
            );
            if rng.below(8) == 0 {
                s.attributes.remove("ecs.availability-zone");
            }
            s.active = rng.below(6) != 0;
            s.registered.ports_tcp = rng.ports(1);
            s.reserved.cpu = rng.below(s.registered.cpu as u64 / 2) as i64;
            s.reserved.ports_tcp = rng.ports(1);
            s.gpus = (0..rng.below(3)).map(|g| format!("gpu{g}")).collect();
            s.running_tasks_count = rng.below(4) as u32;
            for g in ["family:web", "family:db"] {
                if rng.below(3) == 0 {
                    s.task_groups.insert(g.into(), rng.below(3) as u32 + 1);
                }
            }
            s
        })
        .collect()
}

fn random_policy(rng: &mut Rng) -> Policy {
    let choices = [
        spread("attribute:ecs.availability-zone"),
        spread("attribute:ecs.instance-type"),
        spread("instanceId"),
        Strategy::Binpack(BinpackField::Memory),
        Strategy::Binpack(BinpackField::Cpu),
        Strategy::Random,
    ];
    let constraints = [
        "attribute:ecs.instance-type =~ '(m5|g4dn).*'",
        "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
        "runningTasksCount <= 2",
        "not task:group == family:db",
        "task:group != family:web or attribute:ecs.instance-type == c5.xlarge",
    ];
    let strategies = (0..rng.below(4)).map(|_| choices[rng.below(choices.len() as u64) as usize].clone()).collect();
    let mut cs: Vec<Constraint> =
        (0..rng.below(3)).map(|_| member_of(constraints[rng.below(constraints.len() as u64) as usize])).collect();
    if rng.below(3) == 0 {
        cs.push(Constraint::DistinctInstance);
    }
    Policy { strategies, constraints: cs, seed: rng.next() }
}

/// What a constraint-respecting, strategy-following placement would choose, computed
/// the slow obvious way: (fixed candidates, the check of each instance, ranks).
fn reference_key(state: &[InstanceSnapshot], p: &Policy, d: &Demand, i: usize) -> Vec<i64> {
    let fixed_ok = |s: &InstanceSnapshot| {
        s.active
            && p.constraints.iter().all(|c| match c {
                Constraint::MemberOf(e) if !Policy::is_dynamic(e) => e.eval(&|sub| s.subject_values(sub)),
                _ => true,
            })
    };
    let count = |s: &InstanceSnapshot| i64::from(s.task_groups.get(&d.group).copied().unwrap_or(0));
    p.strategies
        .iter()
        .map(|s| match s {
            Strategy::Spread(SpreadField::Attribute(name)) => {
                let v = state[i].attributes.get(name).map(|v| v.clone().unwrap_or_default());
                state
                    .iter()
                    .filter(|o| fixed_ok(o) && o.attributes.get(name).map(|v| v.clone().unwrap_or_default()) == v)
                    .map(count)
                    .sum()
            }
            Strategy::Spread(SpreadField::Instance) => count(&state[i]),
            Strategy::Binpack(BinpackField::Cpu) => state[i].remaining_cpu(),
            Strategy::Binpack(BinpackField::Memory) => state[i].remaining_memory(),
            Strategy::Random => 0,
        })
        .chain([i as i64])
        .collect()
}

fn allowed(s: &InstanceSnapshot, p: &Policy, d: &Demand) -> bool {
    s.active
        && s.check(d).is_ok()
        && p.constraints.iter().all(|c| match c {
            Constraint::MemberOf(e) => e.eval(&|sub| s.subject_values(sub)),
            Constraint::DistinctInstance => s.task_groups.get(&d.group).copied().unwrap_or(0) == 0,
        })
}

#[test]
fn randomized_policies_honour_every_constraint_and_rank() {
    for seed in 0..400u64 {
        let mut rng = Rng(seed);
        let n = rng.below(25) as usize;
        let instances = random_cluster(&mut rng, n);
        let p = random_policy(&mut rng);
        let demands: Vec<Demand> = (0..rng.below(40))
            .map(|_| {
                let mut d = demand(rng.below(700) as i64, rng.below(900) as i64);
                d.resources.ports_tcp = if rng.below(4) == 0 { rng.ports(1) } else { BTreeSet::new() };
                d.gpus = if rng.below(6) == 0 { rng.below(2) as u32 + 1 } else { 0 };
                d.group = if rng.below(4) == 0 { "family:db".into() } else { "family:web".into() };
                d
            })
            .collect();
        let results = place(&instances, &demands, &p);
        let mut scanned = instances.clone();
        assert_eq!(results, index::place_scanning(&mut scanned, &demands, &p), "seed {seed}: index != scan");

        let has_random = p.strategies.contains(&Strategy::Random);
        let mut state = instances.clone();
        for (d, r) in demands.iter().zip(&results) {
            match r {
                Ok(Placed { instance: i, gpus }) => {
                    let s = &state[*i];
                    assert!(allowed(s, &p, d), "seed {seed}: {d:?} on {s:?} breaks a rule of {p:?}");
                    assert_eq!(gpus.len(), d.gpus as usize, "seed {seed}");
                    assert!(gpus.iter().all(|g| s.gpus.contains(g) && !s.reserved.gpus.contains(g)), "seed {seed}");
                    if !has_random {
                        let mine = reference_key(&state, &p, d, *i);
                        for j in (0..state.len()).filter(|j| allowed(&state[*j], &p, d)) {
                            assert!(mine <= reference_key(&state, &p, d, j), "seed {seed}: {j} outranks {i} ({p:?})");
                        }
                    }
                    let taken = state[*i].reserve(d);
                    assert_eq!(&taken, gpus, "seed {seed}");
                }
                Err(PlacementFailure::NoActiveInstances) => assert!(state.iter().all(|s| !s.active), "seed {seed}"),
                Err(PlacementFailure::Insufficient { .. }) => {
                    assert!(!state.iter().any(|s| allowed(s, &p, d)), "seed {seed}: {d:?} fit somewhere");
                }
            }
        }
        for s in &state {
            assert!(s.remaining_cpu() >= 0 && s.remaining_memory() >= 0, "seed {seed}: over-committed {s:?}");
            assert!(s.reserved.gpus.len() <= s.gpus.len(), "seed {seed}: GPUs over-committed");
        }
    }
}

#[test]
fn spread_is_even_within_one_when_capacity_allows() {
    for seed in 0..200u64 {
        let mut rng = Rng(seed);
        let n = rng.below(30) as usize + 1;
        let instances: Vec<InstanceSnapshot> = (0..n)
            .map(|i| {
                zoned(&format!("i{i}"), 1 << 20, 1 << 20, ZONES[rng.below(3) as usize], TYPES[rng.below(3) as usize])
            })
            .collect();
        let tasks = rng.below(100) as usize;
        let mut strategies = vec![spread("attribute:ecs.availability-zone")];
        if rng.below(2) == 0 {
            strategies.push(Strategy::Binpack(BinpackField::Memory));
        }
        let results = place(&instances, &vec![demand(1, 1 + rng.below(64) as i64); tasks], &policy(strategies, vec![]));
        let mut per_zone: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &instances {
            per_zone.entry(s.attributes["ecs.availability-zone"].as_deref().unwrap()).or_default();
        }
        for r in &results {
            let s = &instances[r.as_ref().unwrap().instance];
            *per_zone.get_mut(s.attributes["ecs.availability-zone"].as_deref().unwrap()).unwrap() += 1;
        }
        let (lo, hi) = (per_zone.values().min().unwrap(), per_zone.values().max().unwrap());
        assert!(hi - lo <= 1, "seed {seed}: {per_zone:?}");
    }
}
