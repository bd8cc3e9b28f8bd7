import json
import subprocess
import sys
import zipfile
from pathlib import Path

import minislurm
import pytest

ROOT = Path(__file__).resolve().parents[1]



@pytest.fixture(scope="session")
def a2_spec():
    from graders import spec

    return spec.get("uw-cse447-a2")


def slot_held(scratch):
    """Whether a live worker holds the uid slot a sandbox scratch directory is named for (graders-sandbox-sN-...):
    its directory is then in use, not a leftover (tests run side by side under xdist)."""
    import fcntl
    import re

    from graders.sandbox.worker import LOCKS

    named = re.match(r"graders-sandbox-s(\d+)-", Path(scratch).name)
    if not named or not (LOCKS / f"{named[1]}.lock").exists():
        return False
    with open(LOCKS / f"{named[1]}.lock") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def fixture_group(item):
    """The tests that share a costly fixture run in one worker under pytest-xdist (tox runs the suite on every CPU):
    a module is a group, unless it says otherwise with its own `fixture_group(item)` (the samples and the catalogue
    grade one batch per assignment); every test that uses a student kit is in one group, which builds each kit once."""
    share = getattr(item.module, "fixture_group", None)
    if share:
        return share(item)
    return "kits" if "student_kit" in getattr(item, "fixturenames", ()) else item.module.__name__


# pytest-xdist's own grouping (--dist loadgroup) renames node ids, which pytest 9.2 no longer lets it do: each test
# then became a group of its own and a module's fixture was built once per worker. So the workers write each test's
# group to a file the controller names, and the controller's scheduler reads it.
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput["fixture_groups"] = str(Path(node.config.groups_dir) / f"{node.gateway.id}.json")


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        import tempfile

        config.groups_dir = tempfile.mkdtemp(prefix="fixture-groups-")


def pytest_unconfigure(config):
    if hasattr(config, "groups_dir"):
        import shutil

        shutil.rmtree(config.groups_dir, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    path = getattr(config, "workerinput", {}).get("fixture_groups")
    if path:
        Path(path).write_text(json.dumps({item.nodeid: fixture_group(item) for item in items}))


# Groups that take minutes of one worker (the --durations of a CI run): every student kit built, installed and
# compared (~15 min), the Slurm training class.
COSTLIEST = ("kits", "test_thresholds")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByFixture(LoadScopeScheduling):
        """Whole groups to a worker at a time, the groups as the workers collected them; the costliest first (xdist
        orders groups by their number of tests), so that none of them starts late and ends the run alone."""

        def _split_scope(self, nodeid):
            if not hasattr(self, "groups"):
                self.groups = {k: v for f in sorted(Path(config.groups_dir).glob("*.json"))
                               for k, v in json.loads(f.read_text()).items()}
            return self.groups.get(nodeid, nodeid)

        def _assign_work_unit(self, node):
            first = next((group for group in COSTLIEST if group in self.workqueue), None)
            if first:
                self.workqueue.move_to_end(first, last=False)
            super()._assign_work_unit(node)

    return ByFixture(config, log)


def hypothesis_checks():
    """{(assignment id, check name): check} for every hypothesis check pytest collects from each spec's package."""
    import importlib
    import pkgutil

    from graders import spec

    found = {}
    for assignment_id, assignment in spec.available().items():
        package = importlib.import_module(assignment.checks)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("test_"):
                module = importlib.import_module(f"{assignment.checks}.{info.name}")
                for name, check in vars(module).items():
                    if name.startswith("test_") and hasattr(check, "hypothesis"):
                        found[(assignment_id, name)] = check
    return dict(sorted(found.items()))


def read_results(out_dir):
    return json.loads((Path(out_dir) / "results.json").read_text())


def grade_cli(submission, assignment, out, *extra, timeout=900):
    """`graders grade` in a fresh process, as course staff run it: its results.json (the exit status 0 asserted)."""
    run = subprocess.run([sys.executable, "-m", "graders", "grade", str(submission), "--assignment", assignment,
                          "--out", str(out), *extra], capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stderr[-3000:]
    return read_results(out)


@pytest.fixture(scope="session")
def student_kit(tmp_path_factory):
    """kit(assignment): the assignment's student kit as `graders package --student` builds it (the build grades every
    sample of the class inside the kit, so it takes minutes: once a session), unpacked: its folder and {path in the
    kit: bytes}."""
    built = {}

    def kit(assignment):
        if assignment not in built:
            folder = tmp_path_factory.mktemp(assignment)
            done = subprocess.run([sys.executable, "-m", "graders", "package", "--assignment", assignment, "--student",
                                   str(folder / "kit.zip")], capture_output=True, text=True, timeout=1800)
            assert done.returncode == 0, done.stderr[-3000:]
            with zipfile.ZipFile(folder / "kit.zip") as archive:
                archive.extractall(folder)
                files = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}
            built[assignment] = folder / f"{assignment}-self-check", files
        return built[assignment]
    return kit


@pytest.fixture(scope="session")
def slurm_cluster():
    why = minislurm.missing()
    if why:
        pytest.skip(why)
    cluster = minislurm.MiniSlurm().start()
    yield cluster
    leftovers = cluster.stop()
    assert not leftovers, f"processes of the test cluster outlived it (killed now): {leftovers}"


@pytest.fixture
def slurm(slurm_cluster, monkeypatch):
    """The cluster, with SLURM_CONF set for submitit's sbatch/squeue/scancel in this test."""
    for name, value in slurm_cluster.env.items():
        monkeypatch.setenv(name, value)
    return slurm_cluster
