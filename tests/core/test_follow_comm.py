"""The kernel tells the sidebar its current experiment over a comm (no code run by the frontend).

A real ipykernel driven by jupyter_client, playing the frontend's part: it opens a comm to the
target, and reads the comm the kernel opens itself when a hypothesis becomes current.
"""

from __future__ import annotations

import queue
import uuid

import pytest
from jupyter_client.manager import start_new_kernel

from jupyter_mlexp.frontdoors.magics.follow import TARGET

pytestmark = pytest.mark.slow

HYPOTHESIS = "%%hypothesis {name}\nWider layers reduce loss.\nsuccess: loss <= 0.2\nmetrics: loss\n"


def _execute(kc, code: str) -> list[dict]:
    """Run code; every IOPub message it caused, up to idle."""
    msg_id = kc.execute(code)
    seen = []
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return seen


def _open_comm(kc) -> tuple[str, list[dict]]:
    """Open a comm to the target as the frontend does; the kernel's answers (comm_msg or comm_close)."""
    comm_id = uuid.uuid4().hex
    msg = kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": TARGET, "data": {}})
    kc.shell_channel.send(msg)
    answers = []
    while True:
        try:
            reply = kc.get_iopub_msg(timeout=5)
        except queue.Empty:
            return comm_id, answers
        if reply["msg_type"] in ("comm_msg", "comm_close") and reply["content"]["comm_id"] == comm_id:
            answers.append(reply)
        if reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle" and answers:
            return comm_id, answers


def test_the_kernel_says_its_experiment_over_a_comm(workspace):
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        # Before the extension is loaded the target is unknown: the kernel closes the comm.
        _, answers = _open_comm(kc)
        assert [a["msg_type"] for a in answers] == ["comm_close"]

        _execute(kc, "%load_ext jupyter_mlexp")
        # Loaded, nothing current yet: an open is answered with null.
        asked, answers = _open_comm(kc)
        assert [a["content"]["data"] for a in answers] == [{"experiment": None}]

        # A hypothesis made current: the open comm hears it (no new comm needed).
        sent = _execute(kc, HYPOTHESIS.format(name="wider-layers"))
        told = [m["content"] for m in sent if m["msg_type"] == "comm_msg"]
        assert told == [{"comm_id": asked, "data": {"experiment": "wider-layers"}}]
        # Re-registering the same text changes nothing and says nothing.
        sent = _execute(kc, HYPOTHESIS.format(name="wider-layers"))
        assert not [m for m in sent if m["msg_type"].startswith("comm")]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_kernel_with_no_frontend_listening_opens_a_comm_itself(workspace):
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        _execute(kc, "%load_ext jupyter_mlexp")
        sent = _execute(kc, HYPOTHESIS.format(name="digits"))
        opened = [m["content"] for m in sent if m["msg_type"] == "comm_open"]
        assert len(opened) == 1 and opened[0]["target_name"] == TARGET
        assert opened[0]["data"] == {"experiment": "digits"}
        # The frontend (the sidebar's KernelFollower) keeps that comm; %mlexp use goes through it too.
        _execute(kc, HYPOTHESIS.format(name="other"))
        sent = _execute(kc, "%mlexp use digits")
        assert [m["content"]["data"] for m in sent if m["msg_type"] == "comm_msg"] == [{"experiment": "digits"}]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
