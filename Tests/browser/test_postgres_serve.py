"""`commune serve --database` (issue 14): the community kept in PostgreSQL instead of the data folder's SQLite file.
Alice registers with the owner invite and sends; the server is stopped and started again on a new, empty data folder
(only the attachments' files live there), and her identity, the channel tree and the history come back from the
database, with ids that go on where they stopped. A second node started on the same database reads the same
history and accepts the session token the first node handed out, and an invite `commune invite create --database`
made admits Bob there. Protocol clients only, no browser.

Needs COMMUNE_BIN (an already built `commune`) and COMMUNE_TEST_POSTGRES_URL (the cluster scripts/test starts).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from browserkit import CommuneServer, PyClient, new_identity
from test_read_state import cli
from webkit import COMMUNE_BIN

CLUSTER = os.environ.get("COMMUNE_TEST_POSTGRES_URL", "")

pytestmark = [
    pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}"),
    pytest.mark.skipif(not CLUSTER, reason="COMMUNE_TEST_POSTGRES_URL is not set (scripts/test starts a cluster)"),
]

GENERAL = {"codec": "text", "path": "General", "name": "General"}
HOSTILE = "\u202eevil\u200b ||spoiler|| " + "ü" * 1_000


DATABASE_PREFIX = "commune_serve_"
# An unused database made longer ago than this was left by an earlier run (a test uses one for seconds).
LEFTOVER_AGE_SECONDS = 600
swept = False


def drop_leftover_databases() -> list[str]:
    """Drops the databases earlier runs of this module left (as the Swift tests' TestPostgres does with theirs): named
    commune_serve_<seconds since 1970>_<random>, made over 10 minutes ago (or named before names carried a time), and
    connected to by no one. A drop that fails (someone connected meanwhile) is skipped. Returns the names dropped."""
    listed = subprocess.run(
        ["psql", CLUSTER, "-Atc",
         f"SELECT datname FROM pg_database WHERE starts_with(datname, '{DATABASE_PREFIX}') "
         "AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout.split()
    cutoff = time.time() - LEFTOVER_AGE_SECONDS
    dropped = []
    for name in listed:
        made = name.removeprefix(DATABASE_PREFIX).split("_")[0]
        if (made.isdigit() and int(made) >= cutoff) or not re.fullmatch(r"[a-z0-9_]+", name):
            continue
        if subprocess.run(["psql", CLUSTER, "-qc", f"DROP DATABASE IF EXISTS {name}"], capture_output=True, timeout=30).returncode == 0:
            dropped.append(name)
    return dropped


def fresh_database() -> str:
    """A new, empty database on the test cluster; its URL. The first of a run first drops earlier runs' leftovers."""
    global swept
    if not swept:
        swept = True
        drop_leftover_databases()
    name = f"{DATABASE_PREFIX}{int(time.time())}_{uuid.uuid4().hex[:16]}"
    subprocess.run(["psql", CLUSTER, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=30)
    parts = urlsplit(CLUSTER)
    return urlunsplit(parts._replace(path=f"/{name}"))


def history(client: PyClient, amount: int = 10) -> list[tuple[int, str]]:
    reply = client.request("function", {**GENERAL, "function": "get_messages", "payload": {"amount": amount}})
    return sorted((m["message_id"], m["message"]) for m in reply["data"]["payload"]["messages"])


def attachment_status(server: CommuneServer, attachment: str, token: str) -> int:
    request = urllib.request.Request(f"{server.url}api/attachments/{attachment}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def connect(server: CommuneServer, identity: dict) -> PyClient:
    client = PyClient(server.url.replace("http", "ws"), identity)
    client.login()
    return client


def test_community_survives_a_restart_on_an_empty_data_folder_and_is_shared_by_a_second_node():
    database = fresh_database()
    first = CommuneServer(COMMUNE_BIN, ("--database", database, "--voice", "off"))
    second = None
    try:
        first.start()
        assert first.owner_invite, first.log_tail()
        assert "database: " in first.log_tail()
        alice_identity = new_identity()
        alice = PyClient(first.url.replace("http", "ws"), alice_identity)
        alice.register(first.owner_invite, "Alice")
        alice.login()
        sent = [alice.send_message("General", "General", text)["message_id"] for text in ("first", HOSTILE, "third")]
        assert sent == [1, 2, 3]
        assert history(alice) == [(1, "first"), (2, HOSTILE), (3, "third")]
        alice.close()
        # Nothing of the community went to the data folder: no SQLite file.
        assert not any(Path(first.data).glob("*.sqlite*")), list(Path(first.data).iterdir())

        first.stop()
        shutil.rmtree(first.data)
        first.data = tempfile.mkdtemp(prefix="commune-postgres-data-")
        first.start()
        assert not any("#invite=" in line for line in first.lines), "a second owner invite after a restart"
        alice = connect(first, alice_identity)
        assert history(alice) == [(1, "first"), (2, HOSTILE), (3, "third")]
        assert alice.send_message("General", "General", "after the restart")["message_id"] == 4

        # A second node on the same database: the same member logs in there and reads the same history, and the
        # session token the first node gave works there (the attachment API answers 404 for no such file, not 401).
        again = PyClient(first.url.replace("http", "ws"), alice_identity)
        token = again.login()["session_token"]
        again.close()
        second = CommuneServer(COMMUNE_BIN, ("--database", database, "--voice", "off"))
        second.start()
        elsewhere = connect(second, alice_identity)
        assert history(elsewhere) == [(1, "first"), (2, HOSTILE), (3, "third"), (4, "after the restart")]
        assert attachment_status(second, "nothing-here", token) == 404
        assert attachment_status(second, "nothing-here", "not-a-token") == 401

        # `commune invite create --database` makes an invite in the database; Bob joins with it on the second node.
        made = cli("invite", "create", "--database", database, "--uses", "1")
        link = made.strip().splitlines()[-1]
        assert "#invite=" in link, made
        bob = PyClient(second.url.replace("http", "ws"), new_identity())
        bob.register(link[link.index("http") :], "Bob")
        bob.login()
        assert history(bob)[-1] == (4, "after the restart")
        bob.close()
        listed = cli("invite", "list", "--database", database)
        assert "used up" in listed and link.split("#invite=")[-1][:6] in listed, listed
        elsewhere.close()
        alice.close()
    finally:
        first.cleanup()
        if second:
            second.cleanup()


def metric(exposition: str, series: str) -> float | None:
    """The value of the sample `series` (a name, with its labels as written) in a Prometheus text exposition."""
    for line in exposition.splitlines():
        if line.startswith(series + " "):
            return float(line[len(series) + 1 :])
    return None


def test_metrics_of_a_node_on_postgresql_show_its_message_commits():
    database = fresh_database()
    server = CommuneServer(COMMUNE_BIN, ("--database", database, "--voice", "off"))
    try:
        server.start()
        alice = PyClient(server.url.replace("http", "ws"), new_identity())
        alice.register(server.owner_invite, "Alice")
        alice.login()
        assert [alice.send_message("General", "General", text)["message_id"] for text in ("one", HOSTILE, "three")] == [1, 2, 3]
        alice.close()
        with urllib.request.urlopen(f"{server.url}metrics", timeout=10) as response:
            exposition = response.read().decode()
        assert metric(exposition, "commune_messages_stored_total") == 3, exposition
        commits = metric(exposition, "commune_store_commit_seconds_count")
        # Each send is acknowledged after its commit; sends waiting together may share one.
        assert commits is not None and 1 <= commits <= 3, exposition
        assert metric(exposition, 'commune_store_commit_seconds_bucket{le="+Inf"}') == commits
        assert metric(exposition, "commune_store_commit_seconds_sum") > 0
    finally:
        server.cleanup()


def test_a_run_drops_the_databases_earlier_runs_left():
    tag = uuid.uuid4().hex[:12]
    old, legacy, busy = f"{DATABASE_PREFIX}1000_{tag}", f"{DATABASE_PREFIX}legacy{tag}", f"{DATABASE_PREFIX}1001_{tag}"
    recent = urlsplit(fresh_database()).path.lstrip("/")
    for name in (old, legacy, busy):
        subprocess.run(["psql", CLUSTER, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=30)
    # An idle session connected to `busy` (psql waiting for input) for as long as the sweep takes.
    holder = subprocess.Popen(
        ["psql", urlunsplit(urlsplit(CLUSTER)._replace(path=f"/{busy}"))],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            connected = subprocess.run(
                ["psql", CLUSTER, "-Atc", f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{busy}'"],
                check=True, capture_output=True, text=True, timeout=30,
            ).stdout.strip()
            if connected != "0":
                break
            time.sleep(0.05)
        dropped = drop_leftover_databases()
        assert old in dropped and legacy in dropped, dropped
        assert busy not in dropped and recent not in dropped, dropped
        left = subprocess.run(["psql", CLUSTER, "-Atc", "SELECT datname FROM pg_database"], check=True, capture_output=True, text=True, timeout=30).stdout.split()
        assert old not in left and legacy not in left and busy in left and recent in left
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    for _ in range(100):
        if busy in drop_leftover_databases():
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"{busy} was not dropped once no one used it")
    subprocess.run(["psql", CLUSTER, "-qc", f"DROP DATABASE IF EXISTS {recent}"], check=True, capture_output=True, timeout=30)
