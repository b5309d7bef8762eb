use super::*;
use berth_model::ecs::{DeploymentCircuitBreaker, DeploymentConfiguration, Service};
use berth_model::records::ServiceTracking;

const NOW: f64 = 1_800_000_000.0;

fn service(desired: i32, min: i32, max: i32, strategy: SchedulingStrategy) -> ServiceRecord {
    let deployment = rules::new_deployment(NewDeployment {
        id: "ecs-svc/1".into(),
        task_definition: "td:1".into(),
        desired_count: desired,
        launch_type: None,
        network_configuration: None,
        now: Timestamp(NOW - 100.0),
    });
    ServiceRecord {
        service: Service {
            service_name: Some("web".into()),
            status: Some(rules::ACTIVE.into()),
            desired_count: Some(desired),
            scheduling_strategy: Some(strategy),
            deployment_configuration: Some(DeploymentConfiguration {
                minimum_healthy_percent: Some(min),
                maximum_percent: Some(max),
                ..Default::default()
            }),
            deployments: Some(vec![deployment]),
            events: Some(vec![]),
            ..Default::default()
        },
        client_token: None,
        finished: vec![],
        tracking: ServiceTracking::default(),
    }
}

fn task(id: &str, deployment: &str, status: &str, instance: &str) -> TaskView {
    TaskView {
        id: id.into(),
        task: Task {
            started_by: Some(deployment.into()),
            last_status: Some(status.into()),
            desired_status: Some("RUNNING".into()),
            health_status: Some(HealthStatus::Unknown),
            created_at: Some(Timestamp(NOW - 50.0)),
            started_at: Some(Timestamp(NOW - 40.0)),
            ..Default::default()
        },
        instance_id: instance.into(),
        elb: ElbHealth::NotBehind,
    }
}

fn failed_task(id: &str, deployment: &str) -> TaskView {
    let mut t = task(id, deployment, "STOPPED", "i1");
    t.task.desired_status = Some("STOPPED".into());
    t.task.stop_code = Some(TaskStopCode::EssentialContainerExited);
    t
}

fn instances(ids: &[(&str, bool)]) -> Vec<InstanceView> {
    ids.iter().map(|(id, active)| InstanceView { id: id.to_string(), active: *active }).collect()
}

fn run(rec: &ServiceRecord, tasks: &[TaskView], instances: &[InstanceView]) -> Plan {
    let mut n = 0;
    let mut ids = move || {
        n += 1;
        format!("id-{n}")
    };
    let mut deployments = || "ecs-svc/2".to_string();
    plan(rec, Inputs { tasks, instances, now: Timestamp(NOW), new_id: &mut ids, new_deployment_id: &mut deployments })
}

fn messages(rec: &ServiceRecord) -> Vec<String> {
    rec.service.events.iter().flatten().filter_map(|e| e.message.clone()).collect()
}

fn stopped_ids(p: &Plan) -> Vec<&str> {
    p.stop.iter().map(|(id, _)| id.as_str()).collect()
}

#[test]
fn a_new_replica_service_starts_its_desired_count() {
    let p = run(&service(3, 100, 200, SchedulingStrategy::Replica), &[], &instances(&[("i1", true)]));
    assert_eq!(p.start, 3);
    assert!(p.stop.is_empty());
}

#[test]
fn steady_once_the_primary_runs_the_desired_count_alone() {
    let rec = service(2, 100, 200, SchedulingStrategy::Replica);
    let tasks = [task("a", "ecs-svc/1", "RUNNING", "i1"), task("b", "ecs-svc/1", "RUNNING", "i1")];
    let p = run(&rec, &tasks, &instances(&[("i1", true)]));
    assert_eq!(p.start, 0);
    let rec = p.record.expect("changed");
    let d = &rec.service.deployments.as_ref().unwrap()[0];
    assert_eq!(d.rollout_state, Some(DeploymentRolloutState::Completed));
    assert_eq!((rec.service.running_count, rec.service.pending_count), (Some(2), Some(0)));
    assert_eq!(d.updated_at, Some(Timestamp(NOW)), "its counts changed");
    assert_eq!(
        messages(&rec),
        ["(service web) has reached a steady state.", "(service web) (deployment ecs-svc/1) deployment completed."]
    );
    assert_eq!(rec.tracking.last_completed.as_ref().and_then(|d| d.id.as_deref()), Some("ecs-svc/1"));
    // Idempotent: the same observation again changes nothing.
    let again = run(&rec, &tasks, &instances(&[("i1", true)]));
    assert!(again.record.is_none() && again.start == 0 && again.stop.is_empty());
}

#[test]
fn a_rolling_deployment_respects_minimum_and_maximum() {
    // desired 4, min 50 / max 200: 4 new may start at once, 2 old may stop at once.
    let mut rec = service(4, 50, 200, SchedulingStrategy::Replica);
    let mut new = rules::new_deployment(NewDeployment {
        id: "ecs-svc/2".into(),
        task_definition: "td:2".into(),
        desired_count: 4,
        launch_type: None,
        network_configuration: None,
        now: Timestamp(NOW),
    });
    new.status = Some(rules::PRIMARY.into());
    let deployments = rec.service.deployments.as_mut().unwrap();
    deployments[0].status = Some(rules::ACTIVE_DEPLOYMENT.into());
    deployments.insert(0, new);
    let old: Vec<TaskView> = (0..4).map(|i| task(&format!("o{i}"), "ecs-svc/1", "RUNNING", "i1")).collect();
    let p = run(&rec, &old, &instances(&[("i1", true)]));
    assert_eq!(p.start, 4);
    assert_eq!(p.stop.len(), 2);
    assert!(messages(p.record.as_ref().unwrap())[0].starts_with("(service web) has stopped 2 running tasks: (task "));

    // With min 100 / max 100 nothing can move.
    let cfg = rec.service.deployment_configuration.as_mut().unwrap();
    cfg.minimum_healthy_percent = Some(100);
    cfg.maximum_percent = Some(100);
    let p = run(&rec, &old, &instances(&[("i1", true)]));
    assert_eq!((p.start, p.stop.len()), (0, 0));

    // Once the new tasks run, every old one goes and the old deployment is finished when empty.
    let cfg = rec.service.deployment_configuration.as_mut().unwrap();
    cfg.maximum_percent = Some(200);
    let mut all: Vec<TaskView> = (0..4).map(|i| task(&format!("n{i}"), "ecs-svc/2", "RUNNING", "i1")).collect();
    all.extend(old.iter().cloned());
    let p = run(&rec, &all, &instances(&[("i1", true)]));
    assert_eq!(p.start, 0);
    let mut stopped = stopped_ids(&p);
    stopped.sort();
    assert_eq!(stopped, ["o0", "o1", "o2", "o3"]);
    let new_only: Vec<TaskView> = all[..4].to_vec();
    let rec = p.record.unwrap();
    let p = run(&rec, &new_only, &instances(&[("i1", true)]));
    let rec = p.record.unwrap();
    assert_eq!(rec.service.deployments.as_ref().unwrap().len(), 1);
    assert_eq!(rec.finished.len(), 1);
    assert_eq!(rec.finished[0].status, ServiceDeploymentStatus::Stopped);
}

#[test]
fn large_services_grow_in_steps_named_ten_tasks_an_event() {
    let p = run(&service(1200, 100, 200, SchedulingStrategy::Replica), &[], &instances(&[("i1", true)]));
    assert_eq!(p.start, MAX_START_PER_STEP);
    let rec = service(12, 100, 200, SchedulingStrategy::Replica);
    let ids: Vec<String> = (0..12).map(|i| format!("t{i}")).collect();
    let mut n = 0;
    let rec = started(&rec, &ids, None, Timestamp(NOW), &mut || {
        n += 1;
        n.to_string()
    })
    .unwrap();
    let events = messages(&rec);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], "(service web) has started 2 tasks: (task t10) (task t11).");
    assert!(events[1].starts_with("(service web) has started 10 tasks: (task t0) (task t1) "));
}

#[test]
fn stopping_tasks_count_against_the_maximum_until_stopped() {
    // min 0 / max 100 (fixed host ports): the old task is stopped first, the new one
    // starts only once it is STOPPED.
    let mut rec = service(1, 0, 100, SchedulingStrategy::Replica);
    let mut new = rec.service.deployments.as_ref().unwrap()[0].clone();
    new.id = Some("ecs-svc/2".into());
    let deployments = rec.service.deployments.as_mut().unwrap();
    deployments[0].status = Some(rules::ACTIVE_DEPLOYMENT.into());
    deployments.insert(0, new);
    let cluster = instances(&[("i1", true)]);
    let old = task("old", "ecs-svc/1", "RUNNING", "i1");
    let p = run(&rec, std::slice::from_ref(&old), &cluster);
    assert_eq!((stopped_ids(&p), p.start), (vec!["old"], 0));
    let mut stopping = old.clone();
    stopping.task.desired_status = Some("STOPPED".into());
    assert_eq!(run(&rec, std::slice::from_ref(&stopping), &cluster).start, 0);
    stopping.task.last_status = Some("STOPPED".into());
    assert_eq!(run(&rec, &[stopping], &cluster).start, 1);
}

#[test]
fn a_deployment_begun_mid_rollout_retires_both_older_ones() {
    let mut rec = service(2, 100, 200, SchedulingStrategy::Replica);
    for id in ["ecs-svc/2", "ecs-svc/3"] {
        let mut d = rec.service.deployments.as_ref().unwrap()[0].clone();
        d.id = Some(id.into());
        rules::begin_deployment(&mut rec.service, d, Timestamp(NOW));
    }
    let tasks = [
        task("a", "ecs-svc/1", "RUNNING", "i1"),
        task("b", "ecs-svc/1", "RUNNING", "i1"),
        task("c", "ecs-svc/2", "PENDING", "i1"),
        task("d", "ecs-svc/3", "RUNNING", "i1"),
        task("e", "ecs-svc/3", "RUNNING", "i1"),
    ];
    let p = run(&rec, &tasks, &instances(&[("i1", true)]));
    let mut stopped = stopped_ids(&p);
    stopped.sort();
    assert_eq!(stopped, ["a", "b", "c"], "the newest deployment runs the desired count: every older task goes");
    assert_eq!(p.start, 0);
    let rec = p.record.unwrap();
    let statuses: Vec<_> = rec.service.deployments.iter().flatten().map(|d| d.status.as_deref()).collect();
    assert_eq!(statuses, [Some("PRIMARY"), Some("ACTIVE"), Some("ACTIVE")]);
}

#[test]
fn scale_in_stops_pending_tasks_before_running_ones() {
    let rec = service(1, 100, 200, SchedulingStrategy::Replica);
    let tasks = [task("run", "ecs-svc/1", "RUNNING", "i1"), task("pend", "ecs-svc/1", "PENDING", "i1")];
    let p = run(&rec, &tasks, &instances(&[("i1", true)]));
    assert_eq!(stopped_ids(&p), ["pend"]);
    assert_eq!(p.start, 0);
}

#[test]
fn tasks_on_a_draining_instance_are_replaced_before_they_stop() {
    let rec = service(2, 100, 200, SchedulingStrategy::Replica);
    let tasks = [task("a", "ecs-svc/1", "RUNNING", "i1"), task("b", "ecs-svc/1", "RUNNING", "i2")];
    let cluster = instances(&[("i1", false), ("i2", true)]);
    let p = run(&rec, &tasks, &cluster);
    assert_eq!(p.start, 1);
    assert!(p.stop.is_empty(), "min 100%: the draining task stays until its replacement is healthy");
    let with_replacement = [tasks[0].clone(), tasks[1].clone(), task("c", "ecs-svc/1", "RUNNING", "i2")];
    let p = run(&rec, &with_replacement, &cluster);
    assert_eq!(stopped_ids(&p), ["a"]);
}

#[test]
fn failed_tasks_are_counted_once_and_back_off() {
    let rec = service(1, 100, 200, SchedulingStrategy::Replica);
    let cluster = instances(&[("i1", true)]);
    let p = run(&rec, &[failed_task("f1", "ecs-svc/1")], &cluster);
    assert_eq!(p.start, 1, "the first failure is replaced at once");
    let rec = p.record.unwrap();
    assert_eq!(rec.service.deployments.as_ref().unwrap()[0].failed_tasks, Some(1));
    let p = run(&rec, &[failed_task("f1", "ecs-svc/1")], &cluster);
    assert!(p.record.is_none(), "already counted");
    let p = run(&rec, &[failed_task("f1", "ecs-svc/1"), failed_task("f2", "ecs-svc/1")], &cluster);
    assert_eq!(p.start, 0, "the second failure in a row waits");
    let rec = p.record.unwrap();
    assert_eq!(rec.tracking.failures_in_a_row, 2);
    assert_eq!(rec.tracking.retry_after, Some(Timestamp(NOW + 1.0)));
    assert_eq!(backoff_secs(1), 0.0);
    assert_eq!(backoff_secs(4), 4.0);
    assert_eq!(backoff_secs(40), 60.0);
}

/// A desired-2 service with the circuit breaker and rollback, whose last completed
/// deployment (ecs-svc/0) ran `last_completed_td`, after 3 failed tasks of ecs-svc/1 (td:1).
fn three_failures_with_rollback_to(last_completed_td: &str) -> Plan {
    let mut rec = service(2, 100, 200, SchedulingStrategy::Replica);
    rec.service.deployment_configuration.as_mut().unwrap().deployment_circuit_breaker =
        Some(DeploymentCircuitBreaker {
            enable: true,
            rollback: true,
            reset_on_healthy_task: None,
            threshold_configuration: None,
        });
    let mut completed = rec.service.deployments.as_ref().unwrap()[0].clone();
    completed.id = Some("ecs-svc/0".into());
    completed.task_definition = Some(last_completed_td.into());
    rec.tracking.last_completed = Some(completed);
    let failures: Vec<TaskView> = (0..3).map(|i| failed_task(&format!("f{i}"), "ecs-svc/1")).collect();
    run(&rec, &failures, &instances(&[("i1", true)]))
}

#[test]
fn the_circuit_breaker_fails_the_deployment_and_rolls_back() {
    let p = three_failures_with_rollback_to("td:0");
    let rec = p.record.unwrap();
    let deployments = rec.service.deployments.as_ref().unwrap();
    assert_eq!(deployments.len(), 1, "the failed deployment has no task left: it is over");
    assert_eq!(deployments[0].id.as_deref(), Some("ecs-svc/2"));
    assert_eq!(deployments[0].task_definition.as_deref(), Some("td:0"));
    let failed = &rec.finished[0];
    assert_eq!(failed.deployment.rollout_state, Some(DeploymentRolloutState::Failed));
    assert_eq!(failed.status, ServiceDeploymentStatus::RollbackSuccessful);
    assert_eq!(rec.service.task_definition.as_deref(), Some("td:0"));
    assert_eq!(p.start, 2);
    let events = messages(&rec);
    assert!(events.contains(&"(service web) (deployment ecs-svc/1) deployment failed: tasks failed to start.".into()));
    assert!(events.contains(&"(service web) rolling back to deployment ecs-svc/0.".into()));
}

#[test]
fn a_failing_rollback_is_not_rolled_back_again() {
    // The last completed deployment ran td:1, as the failing one does.
    let rec = three_failures_with_rollback_to("td:1").record.unwrap();
    let deployments = rec.service.deployments.as_ref().unwrap();
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0].rollout_state, Some(DeploymentRolloutState::Failed));
    assert!(!messages(&rec).iter().any(|m| m.contains("rolling back")));
}

#[test]
fn health_check_bookkeeping_is_kept_for_current_deployments_only() {
    let mut rec = service(0, 100, 200, SchedulingStrategy::Replica);
    rec.tracking.health_checked = ["ecs-svc/1".to_string(), "ecs-svc/old".to_string()].into();
    let rec = run(&rec, &[], &instances(&[])).record.unwrap();
    assert_eq!(rec.tracking.health_checked, ["ecs-svc/1".to_string()].into());
}

#[test]
fn a_daemon_runs_one_task_per_active_instance() {
    let rec = service(0, 0, 100, SchedulingStrategy::Daemon);
    let tasks = [
        task("a", "ecs-svc/1", "RUNNING", "i1"),
        task("dup", "ecs-svc/1", "RUNNING", "i1"),
        task("d", "ecs-svc/1", "RUNNING", "i3"),
    ];
    let p = run(&rec, &tasks, &instances(&[("i1", true), ("i2", true), ("i3", false)]));
    assert_eq!(p.start_on, ["i2"]);
    let mut stopped = stopped_ids(&p);
    stopped.sort();
    assert_eq!(stopped, ["d", "dup"]);
    assert_eq!(p.record.unwrap().service.desired_count, Some(2));
}

#[test]
fn a_deleted_service_stops_its_tasks_then_goes_inactive() {
    let mut rec = service(0, 100, 200, SchedulingStrategy::Replica);
    rec.service.status = Some(rules::DRAINING.into());
    let p = run(&rec, &[task("a", "ecs-svc/1", "RUNNING", "i1")], &instances(&[("i1", true)]));
    assert_eq!(stopped_ids(&p), ["a"]);
    assert_eq!(p.record.unwrap().service.status.as_deref(), Some(rules::DRAINING));
    let p = run(&rec, &[], &instances(&[("i1", true)]));
    assert_eq!(p.record.unwrap().service.status.as_deref(), Some(rules::INACTIVE));
}

#[test]
fn unhealthy_tasks_are_replaced_only_after_the_grace_period() {
    let mut rec = service(1, 100, 200, SchedulingStrategy::Replica);
    rec.service.health_check_grace_period_seconds = Some(60);
    let mut sick = task("sick", "ecs-svc/1", "RUNNING", "i1");
    sick.task.health_status = Some(HealthStatus::Unhealthy);
    let cluster = instances(&[("i1", true)]);
    // Started 40 s ago: within the 60 s grace period.
    assert!(run(&rec, std::slice::from_ref(&sick), &cluster).stop.is_empty());
    rec.service.health_check_grace_period_seconds = Some(30);
    let p = run(&rec, &[sick], &cluster);
    assert_eq!(p.stop, [("sick".to_string(), UNHEALTHY_REASON.to_string())]);
    assert!(!messages(p.record.as_ref().unwrap()).iter().any(|m| m.contains("has stopped")));
}

#[test]
fn health_checked_tasks_count_only_once_healthy() {
    let mut t = task("a", "ecs-svc/1", "RUNNING", "i1");
    assert!(healthy(&t, false));
    assert!(!healthy(&t, true));
    t.task.health_status = Some(HealthStatus::Healthy);
    assert!(healthy(&t, true));
    t.task.health_status = Some(HealthStatus::Unhealthy);
    assert!(!healthy(&t, false));
}
