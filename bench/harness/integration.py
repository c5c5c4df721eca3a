"""The integration tests' S3 helpers, used as they are (one copy): moto_server in auth mode
(test/integration/moto.py), the fault-injecting proxy and the write loads that record each
acknowledgement (test/integration/replica_harness.py).

They cannot be imported by their own names: test/integration/harness.py is called `harness` like
this package, and replica_harness.py does `from harness import ...`. So each file is loaded under a
private name, with `harness` pointing at the tests' module only while replica_harness.py runs its
imports, and test/integration/moto.py is not confused with the real moto package (moto.py starts the
real one in a process of its own)."""
import importlib.util
import sys

from .loadgen import BENCH

INTEGRATION = BENCH.parent / "test" / "integration"


def _load(name: str):
    alias = f"monolite_integration_{name}"
    if alias in sys.modules:
        return sys.modules[alias]
    spec = importlib.util.spec_from_file_location(alias, INTEGRATION / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def _load_replica_harness():
    tests_harness = _load("harness")
    ours = sys.modules.get("harness")
    sys.modules["harness"] = tests_harness
    try:
        return _load("replica_harness")
    finally:
        if ours is None:
            del sys.modules["harness"]
        else:
            sys.modules["harness"] = ours


_replica = _load_replica_harness()
_moto = _load("moto")

FaultProxy = _replica.FaultProxy
TimedLoad = _replica.TimedLoad
Ballast = _replica.Ballast
MotoServer = _moto.MotoServer
LOAD_SCHEMA = _load("harness").LOAD_SCHEMA


def moto_pid(s3) -> int:
    """The moto_server process (for the cleanup ledger: run.sh stops it should Python die)."""
    return s3._process.pid
