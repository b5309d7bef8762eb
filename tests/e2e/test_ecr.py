"""ECR and berth's registry: the real docker CLI logs in with `aws ecr get-login-password`, pushes and pulls
through `/v2`, the ECR API describes what landed, and a real agent pulls a task's image itself.

Every test logs docker in with its own DOCKER_CONFIG dir and removes the images it built or pulled."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time
import uuid

import pytest
import requests

from agent_harness import TEST_IMAGE, AgentProcess, ensure_test_image
from berth_harness import raises_aws, unique

WAIT = {"Delay": 1, "MaxAttempts": 90}


@pytest.fixture(scope="module")
def base_image():
    return ensure_test_image()


class Docker:
    """The docker CLI with a private config dir (its own login), remembering every image it tagged."""

    def __init__(self, berth, tmp_path):
        self.berth = berth
        self.host = f"127.0.0.1:{berth.port}"
        self.config = tmp_path / "docker-config"
        self.config.mkdir()
        self.env = {**berth.env, "DOCKER_CONFIG": str(self.config)}
        self.tmp = tmp_path
        self.refs: set[str] = set()

    def run(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        p = subprocess.run(["docker", *args], env=self.env, input=input, capture_output=True, text=True, timeout=180)
        if check and p.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    def login(self) -> None:
        printed = self.berth.aws_run("ecr", "get-login-password")
        assert printed.returncode == 0 and ":" not in printed.stdout.strip(), printed
        # `aws ecr get-login-password | docker login ...` exactly as users run it.
        p = subprocess.run(
            f"aws ecr get-login-password | docker login --username AWS --password-stdin {self.host}",
            shell=True, env=self.env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert p.returncode == 0, p.stderr
        auths = json.loads((self.config / "config.json").read_text())["auths"]
        assert self.host in auths

    def build(self, ref: str) -> str:
        """A tiny image FROM the test image with a unique file, so its digests are new. Returns REF."""
        ctx = self.tmp / f"build-{uuid.uuid4().hex[:8]}"
        ctx.mkdir()
        (ctx / "marker").write_text(uuid.uuid4().hex)
        (ctx / "Dockerfile").write_text(f"FROM {TEST_IMAGE}\nCOPY marker /marker\n")
        self.run("build", "-q", "-t", ref, str(ctx))
        self.refs.add(ref)
        return ref

    def tag(self, src: str, ref: str) -> str:
        self.run("tag", src, ref)
        self.refs.add(ref)
        return ref

    def push(self, ref: str) -> str:
        """Pushes REF and returns the manifest digest docker reports."""
        out = self.run("push", ref).stdout
        line = [l for l in out.splitlines() if "digest: sha256:" in l][-1]
        return line.split("digest: ")[1].split()[0]

    def repo_digest(self, ref: str) -> str:
        digests = json.loads(self.run("image", "inspect", "-f", "{{json .RepoDigests}}", ref).stdout)
        repo = ref.rsplit(":", 1)[0]
        return next(d.split("@")[1] for d in digests if d.startswith(repo + "@"))

    def rmi(self, *refs: str) -> None:
        self.run("rmi", "-f", *refs, check=False)

    def cleanup(self) -> None:
        # By id too: a pulled image keeps its repo@digest name after its tag is removed.
        ids = {self.run("image", "inspect", "-f", "{{.Id}}", r, check=False).stdout.strip() for r in self.refs}
        if self.refs:
            self.rmi(*sorted(self.refs))
        if ids - {""}:
            self.rmi(*sorted(ids - {""}))


@pytest.fixture
def docker(berth, tmp_path, base_image):
    d = Docker(berth, tmp_path)
    yield d
    d.cleanup()


def create_repo(berth, **kwargs) -> dict:
    name = unique("ecr-e2e").lower()
    args = ["ecr", "create-repository", "--repository-name", f"team/{name}"]
    for k, v in kwargs.items():
        args += [f"--{k}", v]
    return berth.aws(*args)["repository"]


def registry_auth(berth) -> tuple[str, str]:
    token = berth.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, password = base64.b64decode(token).decode().split(":", 1)
    return user, password


def test_push_rmi_pull_gives_identical_digests(berth, docker):
    repo = create_repo(berth)
    uri = repo["repositoryUri"]
    assert uri == f"{docker.host}/{repo['repositoryName']}"
    arn = f"arn:aws:ecr:{berth.region}:{berth.account_id}:repository/{repo['repositoryName']}"
    assert repo["repositoryArn"] == arn
    data = berth.client("ecr").get_authorization_token()["authorizationData"][0]
    assert data["proxyEndpoint"] == f"http://{docker.host}"
    assert 11.9 * 3600 < data["expiresAt"].timestamp() - time.time() <= 12 * 3600

    docker.login()
    ref = docker.tag(docker.build(unique("local").lower() + ":1"), f"{uri}:v1")
    pushed = docker.push(ref)
    assert docker.repo_digest(ref) == pushed

    images = berth.aws("ecr", "describe-images", "--repository-name", repo["repositoryName"])["imageDetails"]
    assert len(images) == 1
    image = images[0]
    assert image["imageDigest"] == pushed and image["imageTags"] == ["v1"]
    assert image["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    # The size is the config's and the layers' as the manifest lists them.
    got = berth.client("ecr").batch_get_image(repositoryName=repo["repositoryName"], imageIds=[{"imageTag": "v1"}])
    manifest = got["images"][0]["imageManifest"]
    assert "sha256:" + hashlib.sha256(manifest.encode()).hexdigest() == pushed
    doc = json.loads(manifest)
    assert image["imageSizeInBytes"] == doc["config"]["size"] + sum(l["size"] for l in doc["layers"])
    ids = berth.aws("ecr", "list-images", "--repository-name", repo["repositoryName"])["imageIds"]
    assert ids == [{"imageDigest": pushed, "imageTag": "v1"}]

    docker.rmi(ref)
    docker.run("pull", ref)
    assert docker.repo_digest(ref) == pushed
    pulled = berth.aws("ecr", "describe-images", "--repository-name", repo["repositoryName"])["imageDetails"][0]
    assert "lastRecordedPullTime" in pulled

    # A non-empty repository is only deleted with --force, and its images with it.
    r = berth.aws_run("ecr", "delete-repository", "--repository-name", repo["repositoryName"])
    assert r.returncode != 0 and "RepositoryNotEmptyException" in r.stderr
    berth.aws("ecr", "delete-repository", "--repository-name", repo["repositoryName"], "--force")
    assert docker.run("pull", ref, check=False).returncode != 0


def test_a_task_runs_an_image_the_agent_pulls_from_the_registry(berth, docker, tmp_path):
    repo = create_repo(berth)
    docker.login()
    local = docker.build(unique("local").lower() + ":1")
    ref = docker.tag(local, f"{repo['repositoryUri']}:run")
    digest = docker.push(ref)
    # Nothing of it stays local: the agent must pull it, with a token it asks the server for itself.
    docker.rmi(ref, local)
    assert docker.run("image", "inspect", ref, check=False).returncode != 0

    cluster = unique("ecr")
    ecs = berth.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(berth, cluster, tmp_path / "agent").start()
    try:
        td = ecs.register_task_definition(
            family=unique("ecr"),
            containerDefinitions=[{
                "name": "app", "image": ref, "memory": 64, "essential": True,
                "command": ["sh", "-c", "trap 'exit 0' TERM; test -f /marker && sleep 600 & wait"],
            }],
        )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
        resp = ecs.run_task(cluster=cluster, taskDefinition=td)
        assert not resp["failures"], resp["failures"]
        arn = resp["tasks"][0]["taskArn"]
        try:
            ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[arn], WaiterConfig=WAIT)
        except Exception:
            task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
            raise AssertionError(f"task did not run: {task.get('stoppedReason')}\n{agent.log_text()[-3000:]}")
        assert docker.repo_digest(ref) == digest
        ecs.stop_task(cluster=cluster, task=arn)
        ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig=WAIT)
    finally:
        agent.close()


def test_an_immutable_repository_refuses_to_move_a_tag(berth, docker):
    repo = create_repo(berth, **{"image-tag-mutability": "IMMUTABLE"})
    name, uri = repo["repositoryName"], repo["repositoryUri"]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    docker.login()
    first = docker.push(docker.tag(docker.build(unique("a").lower() + ":1"), f"{uri}:v1"))
    # The same image again under the same tag is fine.
    assert docker.push(f"{uri}:v1") == first

    other = docker.tag(docker.build(unique("b").lower() + ":1"), f"{uri}:v1")
    p = docker.run("push", other, check=False)
    assert p.returncode != 0
    assert "already exists" in p.stderr and "immutable" in p.stderr, p.stderr
    tagged = berth.client("ecr").describe_images(repositoryName=name, imageIds=[{"imageTag": "v1"}])
    assert tagged["imageDetails"][0]["imageDigest"] == first

    # Over the API too: PutImage of another manifest under the tag.
    second = docker.push(docker.tag(other, f"{uri}:v2"))
    ecr = berth.client("ecr")
    manifest = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageDigest": second}])["images"][0]
    with raises_aws("ImageTagAlreadyExistsException"):
        ecr.put_image(repositoryName=name, imageManifest=manifest["imageManifest"], imageTag="v1")

    # MUTABLE again: the tag moves.
    berth.aws("ecr", "put-image-tag-mutability", "--repository-name", name, "--image-tag-mutability", "MUTABLE")
    ecr.put_image(repositoryName=name, imageManifest=manifest["imageManifest"], imageTag="v1")
    moved = ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": "v1"}])["imageDetails"][0]
    assert moved["imageDigest"] == second


def test_an_unauthenticated_pull_gets_401(berth, docker):
    repo = create_repo(berth)
    url = f"{berth.endpoint}/v2/{repo['repositoryName']}/manifests/latest"
    for auth in (None, ("AWS", "not-a-token"), ("bob", registry_auth(berth)[1])):
        resp = requests.get(url, auth=auth, timeout=10)
        assert resp.status_code == 401, resp.text
        assert resp.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert resp.headers["Docker-Distribution-API-Version"] == "registry/2.0"
        assert resp.json()["errors"][0]["code"] == "UNAUTHORIZED"
    # With the token: the manifest is simply unknown.
    resp = requests.get(url, auth=registry_auth(berth), timeout=10)
    assert resp.status_code == 404 and resp.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    # docker without logging in is refused.
    p = docker.run("pull", f"{repo['repositoryUri']}:latest", check=False)
    assert p.returncode != 0, p.stdout
    assert "no basic auth credentials" in p.stderr or "unauthorized" in p.stderr.lower(), p.stderr


def test_an_upload_with_a_wrong_digest_is_refused_and_leaves_nothing(berth):
    repo = create_repo(berth)
    name = repo["repositoryName"]
    auth = registry_auth(berth)
    base = f"{berth.endpoint}/v2/{name}"
    content = f"berth wrong-digest test {uuid.uuid4().hex}".encode() * 1000
    actual = "sha256:" + hashlib.sha256(content).hexdigest()
    wrong = "sha256:" + hashlib.sha256(content + b"!").hexdigest()

    # Chunked, as docker pushes: POST, PATCH, PUT ?digest=.
    start = requests.post(f"{base}/blobs/uploads/", auth=auth, timeout=10)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    patch = requests.patch(f"{berth.endpoint}{location}", data=content, auth=auth, timeout=10)
    assert patch.status_code == 202 and patch.headers["Range"] == f"0-{len(content) - 1}"
    put = requests.put(f"{berth.endpoint}{location}", params={"digest": wrong}, auth=auth, timeout=10)
    assert put.status_code == 400 and put.json()["errors"][0]["code"] == "DIGEST_INVALID"
    # Monolithic.
    mono = requests.post(f"{base}/blobs/uploads/", params={"digest": wrong}, data=content, auth=auth, timeout=10)
    assert mono.status_code == 400 and mono.json()["errors"][0]["code"] == "DIGEST_INVALID"

    for digest in (actual, wrong):
        head = requests.head(f"{base}/blobs/{digest}", auth=auth, timeout=10)
        assert head.status_code == 404
    assert requests.get(f"{berth.endpoint}{location}", auth=auth, timeout=10).status_code == 404
    # No file under the registry holds those bytes: not as a blob, not as a leftover upload.
    root = berth.data_dir / "registry"
    for path in root.rglob("*"):
        if path.is_file() and path.stat().st_size == len(content):
            assert path.read_bytes() != content, f"{path} was left behind"

    # The right digest is accepted, and a manifest naming an unknown blob is not.
    ok = requests.post(f"{base}/blobs/uploads/", params={"digest": actual}, data=content, auth=auth, timeout=10)
    assert ok.status_code == 201 and ok.headers["Docker-Content-Digest"] == actual
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": actual, "size": len(content)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": wrong, "size": 1}],
    })  # fmt: skip
    resp = requests.put(
        f"{base}/manifests/v1", data=manifest, auth=auth, timeout=10,
        headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
    )  # fmt: skip
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_a_lifecycle_policy_keeping_two_images_expires_the_older_ones(berth, docker):
    repo = create_repo(berth)
    name, uri = repo["repositoryName"], repo["repositoryUri"]
    docker.login()
    digests = []
    for i in range(4):
        digests.append(docker.push(docker.tag(docker.build(unique(f"l{i}").lower() + ":1"), f"{uri}:v{i}")))
    policy = json.dumps({"rules": [{
        "rulePriority": 1, "description": "keep two",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2},
        "action": {"type": "expire"},
    }]})  # fmt: skip
    ecr = berth.client("ecr")
    # The preview says what the policy would do, before it does it.
    ecr.start_lifecycle_policy_preview(repositoryName=name, lifecyclePolicyText=policy)
    preview = ecr.get_lifecycle_policy_preview(repositoryName=name)
    assert preview["status"] == "COMPLETE"
    assert sorted(r["imageDigest"] for r in preview["previewResults"]) == sorted(digests[:2])
    assert preview["summary"]["expiringImageTotalCount"] == 2

    berth.aws("ecr", "put-lifecycle-policy", "--repository-name", name, "--lifecycle-policy-text", policy)
    kept = ecr.describe_images(repositoryName=name)["imageDetails"]
    assert sorted(i["imageDigest"] for i in kept) == sorted(digests[2:])
    assert json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]) == json.loads(policy)

    # Applied after every push too.
    digests.append(docker.push(docker.tag(docker.build(unique("l4").lower() + ":1"), f"{uri}:v4")))
    kept = ecr.describe_images(repositoryName=name)["imageDetails"]
    assert sorted(i["imageDigest"] for i in kept) == sorted(digests[3:])

    ecr.delete_lifecycle_policy(repositoryName=name)
    with raises_aws("LifecyclePolicyNotFoundException"):
        ecr.get_lifecycle_policy(repositoryName=name)
    with raises_aws("InvalidParameterException"):
        # tagStatus "tagged" needs a tagPrefixList.
        bad = policy.replace('"any"', '"tagged"')
        ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=bad)


def test_the_layer_api_and_repository_settings(berth):
    ecr = berth.client("ecr")
    repo = create_repo(berth)
    name = repo["repositoryName"]
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    missing = ecr.batch_check_layer_availability(repositoryName=name, layerDigests=[digest])["failures"]
    assert missing[0]["failureCode"] == "MissingLayerDigest"
    upload_id = ecr.initiate_layer_upload(repositoryName=name)["uploadId"]
    half = len(config) // 2
    for first, last in ((0, half - 1), (half, len(config) - 1)):
        part = ecr.upload_layer_part(
            repositoryName=name, uploadId=upload_id, partFirstByte=first, partLastByte=last,
            layerPartBlob=config[first : last + 1],
        )  # fmt: skip
        assert part["lastByteReceived"] == last
    done = ecr.complete_layer_upload(repositoryName=name, uploadId=upload_id, layerDigests=[digest])
    assert done["layerDigest"] == digest
    layer = ecr.batch_check_layer_availability(repositoryName=name, layerDigests=[digest])["layers"][0]
    assert layer["layerAvailability"] == "AVAILABLE" and layer["layerSize"] == len(config)

    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": len(config)},
        "layers": [],
    }, indent=1)  # fmt: skip
    put = ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag="api")["image"]
    assert put["imageId"]["imageDigest"] == "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    got = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "api"}, {"imageTag": "missing"}])
    assert got["images"][0]["imageManifest"] == manifest, "manifests come back as the exact bytes stored"
    assert got["images"][0]["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert got["failures"][0]["failureCode"] == "ImageNotFound"
    with raises_aws("ImageAlreadyExistsException"):
        ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag="api")
    deleted = ecr.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "api"}])
    assert deleted["imageIds"] == [{"imageDigest": put["imageId"]["imageDigest"], "imageTag": "api"}]
    assert ecr.list_images(repositoryName=name)["imageIds"] == []

    arn = repo["repositoryArn"]
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "a"}])
    assert ecr.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "team", "Value": "a"}]
    ecr.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert ecr.list_tags_for_resource(resourceArn=arn)["tags"] == []
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    ecr.set_repository_policy(repositoryName=name, policyText=policy)
    assert ecr.get_repository_policy(repositoryName=name)["policyText"] == policy
    ecr.delete_repository_policy(repositoryName=name)
    with raises_aws("RepositoryPolicyNotFoundException"):
        ecr.get_repository_policy(repositoryName=name)
    with raises_aws("RepositoryAlreadyExistsException"):
        ecr.create_repository(repositoryName=name)
    with raises_aws("InvalidParameterException"):
        ecr.create_repository(repositoryName="Not_Valid")
    with raises_aws("RepositoryNotFoundException"):
        ecr.describe_repositories(repositoryNames=["no/such-repo"])
    ecr.delete_repository(repositoryName=name)
