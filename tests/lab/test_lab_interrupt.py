"""One Ctrl-C stops the command promptly: a running sweep's pool workers ignore SIGINT, the
parent terminates them, prints one line and exits 130, and nothing is left written."""

import os
import signal
import subprocess
import sys
import time

STOP_WITHIN = 5.0  # seconds from Ctrl-C to exit; measured about 0.3 s with two workers


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except FileNotFoundError:
        return []


def interrupt(argv, wait_for_workers):
    """Start the command in its own process group, wait until it works (its pool's workers
    exist, or a moment), send SIGINT to the group as a terminal's Ctrl-C does, and time it."""
    command = [sys.executable, "-m", "tinygrad_lab", *argv]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while len(children(child.pid)) < wait_for_workers and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = children(child.pid)
    time.sleep(1.5)  # well into the runs
    assert child.poll() is None, "the command ended before it was interrupted"
    start = time.monotonic()
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=60)
    return child.returncode, out, err, time.monotonic() - start, workers


def test_one_ctrl_c_stops_a_sweep_on_a_process_pool(tmp_path):
    out = tmp_path / "sw"
    argv = ["stress-test", "--roll", "102303888", "--epochs", "20000", "--seeds", "0-19"]
    code, stdout, err, seconds, workers = interrupt(
        [*argv, "--workers", "2", "--out", str(out), "--no-progress"], wait_for_workers=2
    )
    assert (code, stdout, err) == (130, b"", b"tinygrad-lab: interrupted\n")
    assert seconds < STOP_WITHIN, seconds
    assert len(workers) == 2 and not [w for w in workers if os.path.exists(f"/proc/{w}")]
    assert not out.exists()


def test_one_ctrl_c_stops_a_single_run(tmp_path):
    out = tmp_path / "d"
    argv = ["lab", "--roll", "102303888", "--epochs", "100000", "--out", str(out)]
    code, stdout, err, seconds, _ = interrupt(argv, wait_for_workers=0)
    assert (code, stdout, err) == (130, b"", b"tinygrad-lab: interrupted\n")
    assert seconds < STOP_WITHIN and not out.exists()
