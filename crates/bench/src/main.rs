//! berth's benchmarks.
//!
//! `bench placement --instances 10000 --tasks 100000` builds a heterogeneous cluster in
//! memory (several instance types and availability zones, some instances already part
//! full), then places the tasks with spread(attribute:ecs.availability-zone) +
//! binpack(memory) and a memberOf constraint through berth-scheduler, on one thread, and
//! prints the rate. The last line is `placements/s: N`.
#![forbid(unsafe_code)]

use berth_model::cluster_query;
use berth_scheduler::{
    BinpackField, Constraint, Demand, InstanceSnapshot, Placed, PlacementFailure, Policy, Resources, SpreadField,
    Strategy,
};
use clap::{Parser, Subcommand};
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "berth benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Place tasks on a simulated cluster with berth's scheduler (pure, one core).
    Placement {
        #[arg(long, default_value_t = 10_000)]
        instances: usize,
        #[arg(long, default_value_t = 100_000)]
        tasks: usize,
        /// Tasks per scheduler call: 0 places them all in one call (as a service
        /// controller would); 10 is RunTask's largest count, which pays the per-call
        /// precomputation every 10 tasks.
        #[arg(long, default_value_t = 0)]
        batch: usize,
    },
}

/// (instance type, CPU units, MiB, GPUs)
const TYPES: [(&str, i64, i64, usize); 6] = [
    ("m5.large", 2048, 7680, 0),
    ("m5.xlarge", 4096, 15_616, 0),
    ("c5.2xlarge", 8192, 15_104, 0),
    ("r5.large", 2048, 15_616, 0),
    ("r5.2xlarge", 8192, 63_488, 0),
    ("g4dn.xlarge", 4096, 15_616, 1),
];
const ZONES: [&str; 4] = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"];
const MEMBER_OF: &str = "attribute:ecs.instance-type != g4dn.xlarge and attribute:ecs.os-type == linux";

fn main() {
    match Cli::parse().command {
        Command::Placement { instances, tasks, batch } => placement(instances, tasks, batch),
    }
}

/// A repeatable generator (SplitMix64), so every run sees the same cluster.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

fn cluster(n: usize) -> Vec<InstanceSnapshot> {
    let mut rng = Rng(42);
    (0..n)
        .map(|i| {
            let (kind, cpu, memory, gpus) = TYPES[rng.below(TYPES.len() as u64) as usize];
            let zone = ZONES[rng.below(ZONES.len() as u64) as usize];
            let attributes: BTreeMap<String, Option<String>> = [
                ("ecs.instance-type", kind),
                ("ecs.availability-zone", zone),
                ("ecs.os-type", "linux"),
                ("ecs.cpu-architecture", "x86_64"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect();
            // A quarter of the instances already run something.
            let used = if rng.below(4) == 0 { rng.below(memory as u64 / 2) as i64 } else { 0 };
            InstanceSnapshot {
                arn: format!("arn:aws:ecs:us-east-1:000000000000:container-instance/bench/{i:032x}"),
                active: true,
                registered: Resources {
                    cpu,
                    memory,
                    ports_tcp: [22, 2375, 2376, 51678, 51679].into(),
                    ports_udp: [22, 2375, 2376, 51678, 51679].into(),
                    ..Default::default()
                },
                reserved: Resources { cpu: used * cpu / memory, memory: used, ..Default::default() },
                gpus: (0..gpus).map(|g| format!("gpu{g}")).collect(),
                attributes,
                task_groups: BTreeMap::new(),
                ec2_instance_id: format!("i-{i:017x}"),
                running_tasks_count: 0,
                agent_connected: true,
                agent_version: "0.1.0".into(),
                registered_at: "2026-01-01T00:00:00Z".into(),
            }
        })
        .collect()
}

fn demands(n: usize) -> Vec<Demand> {
    // Three task sizes, as a mix of services would ask.
    const SIZES: [(i64, i64); 3] = [(256, 512), (512, 1024), (128, 256)];
    let mut rng = Rng(7);
    (0..n)
        .map(|_| {
            let (cpu, memory) = SIZES[rng.below(SIZES.len() as u64) as usize];
            Demand {
                resources: Resources { cpu, memory, ..Default::default() },
                gpus: 0,
                group: "service:bench".into(),
            }
        })
        .collect()
}

fn placement(instances: usize, tasks: usize, batch: usize) {
    let mut snapshot = cluster(instances);
    let demands = demands(tasks);
    let policy = Policy {
        strategies: vec![
            Strategy::Spread(SpreadField::Attribute("ecs.availability-zone".into())),
            Strategy::Binpack(BinpackField::Memory),
        ],
        constraints: vec![Constraint::MemberOf(cluster_query::parse(MEMBER_OF).expect("valid expression"))],
        seed: 1,
    };
    println!("instances: {instances} ({} types, {} zones); tasks: {tasks}", TYPES.len(), ZONES.len());
    println!("policy: spread(attribute:ecs.availability-zone), binpack(memory); memberOf({MEMBER_OF})");
    let started = Instant::now();
    let results: Vec<Result<Placed, PlacementFailure>> = if batch == 0 {
        berth_scheduler::place_in(&mut snapshot, &demands, &policy)
    } else {
        demands.chunks(batch).flat_map(|chunk| berth_scheduler::place_in(&mut snapshot, chunk, &policy)).collect()
    };
    let elapsed = started.elapsed();

    let placed = results.iter().filter(|r| r.is_ok()).count();
    let mut per_zone: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results.iter().flatten() {
        let s = &snapshot[r.instance];
        assert!(s.remaining_cpu() >= 0 && s.remaining_memory() >= 0, "over-committed: {}", s.arn);
        assert_ne!(s.attributes["ecs.instance-type"].as_deref(), Some("g4dn.xlarge"), "memberOf broken");
        *per_zone.entry(s.attributes["ecs.availability-zone"].as_deref().unwrap_or("")).or_default() += 1;
    }
    println!("batch: {}", if batch == 0 { "all in one call".to_string() } else { format!("{batch} per call") });
    println!("placed: {placed}; failed: {}", results.len() - placed);
    println!("per zone: {per_zone:?}");
    println!("elapsed: {:.3} s", elapsed.as_secs_f64());
    println!("placements/s: {:.0}", results.len() as f64 / elapsed.as_secs_f64());
}
