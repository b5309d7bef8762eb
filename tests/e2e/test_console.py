"""The web console (`/console/` on the API port), driven like a person does: headless Chromium (Debian's
`chromium` + `chromium-driver`) through selenium signs in, opens a cluster, watches a service's tasks, scales
it through the form, follows a task's logs and stops a task; plain HTTP checks that a request without a
session goes to sign-in, that a forged cross-site POST changes nothing, and that IAM decides the console's
actions. Screenshots of the main views land in $BERTH_ARTIFACTS (default: tmp/artifacts/console)."""

from __future__ import annotations

import json
import os
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
import requests

from agent_harness import TEST_IMAGE, AgentProcess
from berth_harness import ACCESS_KEY_ID, REPO_ROOT, SECRET_ACCESS_KEY, unique

WAIT = {"Delay": 1, "MaxAttempts": 120}
# How long a page may take to show what the test waits for (a wait's bound, not a timing assertion).
PAGE_WAIT = 90

ARTIFACTS = Path(os.environ.get("BERTH_ARTIFACTS", REPO_ROOT / "tmp" / "artifacts" / "console"))

# Prints a numbered line every half second, forever: a line printed after a page opened is one numbered
# higher than any the page showed when it opened.
TICKER = 'i=0; while true; do echo "tick $i"; i=$((i+1)); usleep 500000; done'


@pytest.fixture
def cluster(berth, tmp_path, test_image):
    name = unique("console")
    berth.client("ecs").create_cluster(clusterName=name)
    agent = AgentProcess(berth, name, tmp_path / "agent").start()
    yield name
    agent.close()


def service_with_logs(berth, cluster: str, count: int) -> tuple[str, str]:
    """A service of `count` ticker tasks logging through awslogs: (service name, log group)."""
    ecs = berth.client("ecs")
    group = unique("/console/test")
    options = {"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs",
               "awslogs-create-group": "true"}  # fmt: skip
    container = {"name": "ticker", "image": TEST_IMAGE, "memory": 16, "essential": True,
                 "command": ["sh", "-c", TICKER], "logConfiguration": {"logDriver": "awslogs", "options": options}}  # fmt: skip
    td = ecs.register_task_definition(family=unique("console"), networkMode="bridge", containerDefinitions=[container])
    name = unique("web")
    ecs.create_service(cluster=cluster, serviceName=name, desiredCount=count,
                       taskDefinition=td["taskDefinition"]["taskDefinitionArn"])  # fmt: skip
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[name], WaiterConfig=WAIT)
    return name, group


def idle_service(berth) -> tuple[str, str]:
    """A cluster without instances and a service of 0 tasks in it: (cluster, service)."""
    ecs = berth.client("ecs")
    cluster = unique("console-idle")
    ecs.create_cluster(clusterName=cluster)
    td = ecs.register_task_definition(family=unique("console"), containerDefinitions=[
        {"name": "app", "image": TEST_IMAGE, "memory": 16, "essential": True}])  # fmt: skip
    service = unique("web")
    ecs.create_service(cluster=cluster, serviceName=service, desiredCount=0,
                       taskDefinition=td["taskDefinition"]["taskDefinitionArn"])  # fmt: skip
    return cluster, service


def sign_in(berth, key_id: str = ACCESS_KEY_ID, secret: str = SECRET_ACCESS_KEY) -> requests.Session:
    session = requests.Session()
    resp = session.post(f"{berth.endpoint}/console/sign-in", data={"accessKeyId": key_id, "secretAccessKey": secret},
                        allow_redirects=False)  # fmt: skip
    assert resp.status_code == 303, resp.text
    return session


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, html
    return found.group(1)


def desired_count(berth, cluster: str, service: str) -> int:
    return berth.client("ecs").describe_services(cluster=cluster, services=[service])["services"][0]["desiredCount"]


# ----- in a browser ---------------------------------------------------------------------------------------------


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "the console's tests need Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def wait_for(driver, condition, what: str):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, PAGE_WAIT, poll_frequency=0.5, ignored_exceptions=ignored).until(condition, message=what)


def click_link(driver, text: str) -> None:
    """Clicks the link `text`, again if a live update replaced it between finding and clicking."""
    from selenium.webdriver.common.by import By

    def click(d) -> bool:
        d.find_element(By.LINK_TEXT, text).click()
        return True

    wait_for(driver, click, f"the link {text}")


def shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def rows(driver, status: str) -> list[str]:
    """The ids of the task rows in `status` (read in one script: live updates replace the rows)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(`tr.task[data-status='${arguments[0]}'] a`)).map(a => a.textContent)",
        status,
    )


def text_of(driver, element_id: str) -> str:
    return driver.execute_script("const e = document.getElementById(arguments[0]); return e ? e.textContent : ''", element_id)


def mark(driver) -> None:
    """Marks the loaded document: the mark survives live updates and is gone after any reload."""
    driver.execute_script("window.__berthMark = 'kept';")


def still_marked(driver) -> bool:
    return driver.execute_script("return window.__berthMark === 'kept';")


def ticks(driver) -> list[int]:
    text = driver.execute_script("return Array.from(document.querySelectorAll('.log-lines .line')).map(e => e.textContent).join(' ')")
    return [int(n) for n in re.findall(r"tick (\d+)", text)]


def test_a_person_scales_a_service_follows_a_tasks_logs_and_stops_it(berth, cluster, browser):
    from selenium.webdriver.common.by import By

    service, group = service_with_logs(berth, cluster, 3)
    driver = browser

    # No session yet: the cluster's bookmarked URL leads to sign-in, and back after it.
    driver.get(f"{berth.endpoint}/console/clusters/{cluster}")
    wait_for(driver, lambda d: "/console/sign-in" in d.current_url, "sent to sign-in")
    shot(driver, "sign-in")
    driver.find_element(By.ID, "accessKeyId").send_keys(ACCESS_KEY_ID)
    driver.find_element(By.ID, "secretAccessKey").send_keys(SECRET_ACCESS_KEY)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(driver, lambda d: d.current_url.endswith(f"/console/clusters/{cluster}"), "back at the cluster")
    assert driver.find_element(By.LINK_TEXT, service)
    shot(driver, "cluster")

    click_link(driver, service)
    wait_for(driver, lambda d: len(rows(d, "RUNNING")) == 3, "the service's 3 tasks RUNNING")
    first = rows(driver, "RUNNING")
    shot(driver, "service")

    # Scale to 5 through the form; the 2 new tasks appear RUNNING on the page without a reload.
    field = driver.find_element(By.ID, "desiredCount")
    field.clear()
    field.send_keys("5")
    field.submit()
    wait_for(driver, lambda d: "desired count" in d.find_element(By.CLASS_NAME, "flash").text, "the update's outcome")
    mark(driver)
    wait_for(driver, lambda d: len(rows(d, "RUNNING")) == 5, "5 tasks RUNNING")
    assert still_marked(driver), "the page was reloaded to show the new tasks"
    assert set(first) <= set(rows(driver, "RUNNING"))
    assert desired_count(berth, cluster, service) == 5
    shot(driver, "service-scaled")

    # A task's logs: a line the container printed after the page opened appears without a reload.
    victim = first[0]
    click_link(driver, victim)
    wait_for(driver, lambda d: text_of(d, "last-status") == "RUNNING", "the task page")
    wait_for(driver, lambda d: ticks(d), "the task's first log lines")
    mark(driver)
    seen = max(ticks(driver))
    wait_for(driver, lambda d: max(ticks(d), default=-1) > seen, "a line printed after the page opened")
    assert still_marked(driver)
    assert group in driver.page_source
    shot(driver, "task")

    # Stop it: the page follows it to STOPPED, and the service replaces it.
    driver.find_element(By.XPATH, "//button[text()='Stop task']").click()
    wait_for(driver, lambda d: "is stopping" in d.find_element(By.CLASS_NAME, "flash").text, "the stop's outcome")
    wait_for(driver, lambda d: text_of(d, "last-status") == "STOPPED", "the task STOPPED")
    assert "Stopped from the console" in text_of(driver, "task")
    driver.get(f"{berth.endpoint}/console/clusters/{cluster}/services/{service}")
    wait_for(driver, lambda d: len(rows(d, "RUNNING")) == 5 and victim not in rows(d, "RUNNING"), "a replacement")
    assert victim in text_of(driver, "service")  # listed among the recently stopped
    shot(driver, "service-replaced")

    for page, name in (("task-definitions", "task-definitions"), ("log-groups", "log-groups"), ("repositories", "repositories")):
        driver.get(f"{berth.endpoint}/console/{page}")
        wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "h1"), page)
        shot(driver, name)
    driver.get(f"{berth.endpoint}/console/log-groups/{requests.utils.quote(group, safe='')}?pattern=tick")
    wait_for(driver, lambda d: ticks(d), "the group's search finds the ticks")
    shot(driver, "log-group")

    berth.client("ecs").update_service(cluster=cluster, service=service, desiredCount=0)


# ----- over plain HTTP ------------------------------------------------------------------------------------------


def test_a_request_without_a_session_is_sent_to_sign_in(berth):
    for path in ("/console/", "/console/clusters/any", "/console/clusters/any/services/web"):
        resp = requests.get(f"{berth.endpoint}{path}", allow_redirects=False)
        assert resp.status_code == 303, (path, resp.status_code)
        assert resp.headers["location"].startswith("/console/sign-in?next=%2Fconsole%2F")
    forged = requests.get(f"{berth.endpoint}/console/", cookies={"berth-console": "0" * 64}, allow_redirects=False)
    assert forged.status_code == 303
    wrong = requests.post(f"{berth.endpoint}/console/sign-in",
                          data={"accessKeyId": ACCESS_KEY_ID, "secretAccessKey": "not-the-secret"}, allow_redirects=False)  # fmt: skip
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert "wrong" in wrong.text


def test_the_session_cookie_is_http_only_and_same_site_strict(berth):
    resp = requests.post(f"{berth.endpoint}/console/sign-in",
                         data={"accessKeyId": ACCESS_KEY_ID, "secretAccessKey": SECRET_ACCESS_KEY}, allow_redirects=False)  # fmt: skip
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie


def test_a_forged_cross_site_post_changes_nothing(berth):
    cluster, service = idle_service(berth)
    session = sign_in(berth)
    page = f"{berth.endpoint}/console/clusters/{cluster}/services/{service}"
    token = csrf_of(session.get(page).text)
    action = f"{page}/desired-count"

    # Another site's form: the browser sends no cookie (SameSite=Strict), so there is no session at all.
    assert requests.post(action, data={"desiredCount": "7"}, allow_redirects=False).status_code == 303
    # With the session but without its form token, with a wrong one, or from a foreign origin: refused.
    assert session.post(action, data={"desiredCount": "7"}, allow_redirects=False).status_code == 403
    assert session.post(action, data={"desiredCount": "7", "csrf": "f" * 64}, allow_redirects=False).status_code == 403
    foreign = session.post(action, data={"desiredCount": "7", "csrf": token}, headers={"Origin": "http://evil.example"},
                           allow_redirects=False)  # fmt: skip
    assert foreign.status_code == 403
    assert desired_count(berth, cluster, service) == 0

    # The page's own form goes through.
    ok = session.post(action, data={"desiredCount": "0", "csrf": token}, headers={"Origin": berth.endpoint},
                      allow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    assert "The desired count of" in session.get(page).text


def test_iam_decides_what_a_signed_in_user_may_change(berth):
    ecs, iam = berth.client("ecs"), berth.client("iam")
    cluster, service = idle_service(berth)
    user = unique("viewer")
    iam.create_user(UserName=user)
    reader = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": ["ecs:Describe*", "ecs:List*"], "Resource": "*"}]}  # fmt: skip
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps(reader))
    key = iam.create_access_key(UserName=user)["AccessKey"]

    session = sign_in(berth, key["AccessKeyId"], key["SecretAccessKey"])
    page = f"{berth.endpoint}/console/clusters/{cluster}/services/{service}"
    html = session.get(page).text
    assert f":user/{user}" in unescape(html)  # signed in as the user, and the user may read the service
    resp = session.post(f"{page}/desired-count", data={"desiredCount": "2", "csrf": csrf_of(html)}, allow_redirects=False)
    assert resp.status_code == 303
    shown = unescape(session.get(page).text)
    assert "AccessDeniedException" in shown and "ecs:UpdateService" in shown
    assert desired_count(berth, cluster, service) == 0

    iam.put_user_policy(UserName=user, PolicyName="scale", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:UpdateService", "Resource": "*"}]}))  # fmt: skip
    session.post(f"{page}/desired-count", data={"desiredCount": "2", "csrf": csrf_of(shown)}, allow_redirects=False)
    assert desired_count(berth, cluster, service) == 2
    ecs.update_service(cluster=cluster, service=service, desiredCount=0)
