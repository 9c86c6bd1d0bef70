"""Work in a process of its own (saraban.pools.run_apart), on real processes."""

import gc
import os

import pytest

from saraban.pools import RenderStopped, run_apart


def test_work_apart_runs_in_another_process_with_the_collector_off_there_only():
    """The process ends with the result: collecting a render's garbage there only delayed
    the answer. The caller's collector is left as it was."""
    assert run_apart(os.getpid) != os.getpid()
    assert run_apart(gc.isenabled) is False
    assert gc.isenabled()


def test_a_process_that_dies_is_said_to_have_stopped_in_thai():
    with pytest.raises(RenderStopped, match="หยุดกลางคัน"):
        run_apart(os._exit, 3)
