"""The highly available control plane: three etcd members (Debian's etcd-server) and three `berth server`s on
one etcd store, all started here on loopback ports. Every server serves the whole API; the controllers run on
the elected leader. A killed leader is replaced mid-deployment, one lost etcd member changes nothing, a lost
majority makes writes fail with a 5xx (and loses nothing acknowledged once it returns), and a history of
concurrent writes through different servers reads back in order."""

from __future__ import annotations

import shutil
import threading

import pytest
from botocore.exceptions import ClientError

from agent_harness import SLEEP, TEST_IMAGE, AgentProcess
from berth_harness import container, unique
from berth_harness import register as register_definition
from ha_harness import HaCluster, wait_for

pytestmark = pytest.mark.skipif(shutil.which("etcd") is None, reason="needs Debian's etcd-server")

STABLE = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture
def ha(tmp_path):
    cluster = HaCluster(tmp_path)
    try:
        yield cluster.start()
    finally:
        cluster.close()


def register(ecs, family: str, command=None) -> str:
    c = container(image=TEST_IMAGE, memory=32, command=command or SLEEP)
    return register_definition(ecs, family, [c], networkMode="bridge")["taskDefinition"]["taskDefinitionArn"]


def describe(ecs, cluster: str, service: str) -> dict:
    return ecs.describe_services(cluster=cluster, services=[service])["services"][0]


def test_every_server_serves_one_state_and_a_killed_leader_is_replaced_mid_deployment(ha, test_image):
    a, b, c = (s.client("ecs") for s in ha.servers)
    name = unique("ha")
    a.create_cluster(clusterName=name)
    family = unique("ha-web")
    v1 = register(b, family)
    assert c.describe_clusters(clusters=[name])["clusters"][0]["status"] == "ACTIVE", "written via one, read via another"
    leader = ha.leader()
    # The agent polls a server that is not the leader: the leader's placement learns of it through the store.
    follower = next(s for s in ha.servers if s is not leader)
    agent = AgentProcess(follower, name, ha.workdir / "agent").start()
    ha.agents.append(agent)
    c.create_service(cluster=name, serviceName="web", taskDefinition=v1, desiredCount=2)
    a.get_waiter("services_stable").wait(cluster=name, services=["web"], WaiterConfig=STABLE)
    assert describe(b, name, "web")["runningCount"] == 2

    v2 = register(c, family, command=["sh", "-c", "trap 'exit 0' TERM; sleep 601 & wait"])
    follower_ecs = follower.client("ecs")
    follower_ecs.update_service(cluster=name, service="web", taskDefinition=v2)
    leader.kill()
    survivors = [s for s in ha.servers if s.running()]
    new_leader = ha.leader(survivors)
    assert new_leader is not leader

    def rolled_out():
        s = describe(follower_ecs, name, "web")
        d = s["deployments"]
        return len(d) == 1 and d[0]["taskDefinition"] == v2 and d[0]["rolloutState"] == "COMPLETED" and d[0]["runningCount"] == 2

    wait_for(rolled_out, 120, "the new leader finishing the rollout")
    for survivor in survivors:
        running = survivor.client("ecs").list_tasks(cluster=name, serviceName="web", desiredStatus="RUNNING")["taskArns"]
        tasks = survivor.client("ecs").describe_tasks(cluster=name, tasks=running)["tasks"]
        assert sorted(t["taskDefinitionArn"] for t in tasks) == [v2, v2]


def test_one_lost_etcd_member_changes_nothing_a_lost_majority_fails_writes_and_loses_nothing(ha):
    ecs = [s.client("ecs") for s in ha.servers]
    acknowledged = []
    for i in range(3):
        name = unique("ha-ack")
        ecs[i].create_cluster(clusterName=name)
        acknowledged.append(name)

    ha.members[0].kill()
    for i in range(3):
        name = unique("ha-one-down")
        ecs[i].create_cluster(clusterName=name)
        acknowledged.append(name)

    ha.members[1].kill()
    with pytest.raises(ClientError) as failed:
        ecs[2].create_cluster(clusterName=unique("ha-no-quorum"))
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] >= 500, failed.value.response

    ha.members[0].start()
    ha.members[1].start()
    wait_for(lambda: all(m.healthy() for m in ha.members), 30, "etcd members healthy again")

    def all_listed():
        listed = ecs[0].describe_clusters(clusters=acknowledged)["clusters"]
        return {c["clusterName"] for c in listed if c["status"] == "ACTIVE"} == set(acknowledged)

    wait_for(all_listed, 30, "every acknowledged cluster listed")
    # Writes work again, through every server.
    for client in ecs:
        wait_for(lambda client=client: client.create_cluster(clusterName=unique("ha-back")), 30, "a write after recovery")


def test_concurrent_writes_through_different_servers_read_back_in_order(ha):
    ecs = [s.client("ecs") for s in ha.servers]
    name = unique("ha-hist")
    ecs[0].create_cluster(clusterName=name)
    family = unique("ha-hist")
    definition = register(ecs[1], family)
    errors: list[str] = []
    history: dict[str, list[int]] = {}

    def writer(w: int):
        service = f"svc-{w}"
        ecs[w % 3].create_service(cluster=name, serviceName=service, taskDefinition=definition, desiredCount=0)
        history[service] = []
        for k in range(1, 16):
            ecs[(w + k) % 3].update_service(cluster=name, service=service, desiredCount=k)
            history[service].append(k)
            # Read-your-acknowledged-write through another server: never an older value.
            seen = describe(ecs[(w + k + 1) % 3], name, service)["desiredCount"]
            if seen != k:
                errors.append(f"{service}: wrote {k}, read {seen}")

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(history) == [f"svc-{w}" for w in range(6)]
    for client in ecs:
        described = client.describe_services(cluster=name, services=sorted(history))["services"]
        assert {s["serviceName"]: s["desiredCount"] for s in described} == {s: 15 for s in history}
