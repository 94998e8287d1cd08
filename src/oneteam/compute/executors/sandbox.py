"""The local sandbox: each step of a job in a fresh bubblewrap container.

What a step sees (both modes below):

- new PID, network, IPC, UTS and cgroup namespaces: no network at all (only its own
  loopback), no other process of the machine, not even the other steps of its job;
- the system (``/usr``, a few files of ``/etc``) and the Python environment read-only,
  a fresh ``/proc``, a minimal ``/dev``; nothing else of the host (no home directories,
  no data directory, no other job);
- ``/work`` and ``/tmp`` (and ``/dev/shm``), writable, private to its job and kept from
  one step to the next; ``/results``, writable, only in steps given it;
- the read-only mounts of the job and of the step (hidden data only in the grade step).

Limits on each step: RLIMIT_CPU (SIGXCPU, then SIGKILL a second later), RLIMIT_AS
(virtual memory of each process; left off when a cgroup bounds memory), RLIMIT_NPROC
(processes and threads), RLIMIT_FSIZE, RLIMIT_NOFILE, no core files; a wall clock, after
which the whole PID namespace is killed; stdout and stderr read as they come, counted,
only their last ``tail_bytes`` kept, and the step killed as soon as they pass
``output_bytes``; and a watch, every ``poll_interval_s``, of the step's processes (found
by their PID namespace): their number and their total resident memory, so a step whose
processes *together* pass the memory limit is stopped too. Where the machine delegates
cgroup v2 controllers (``cgroups.py``), memory and processes are bounded by the kernel
for the step as a whole instead. The result's ``enforcement`` says what applied.

**Privileged mode** (the worker runs as root, the default then): bubblewrap runs as root,
so it can bind the Python environment wherever it lives; each job gets its own work
area, a tmpfs mounted with ``size=`` (the disk quota, enforced by the kernel) and owned
by a user id of its own, taken from a pool (``uid_base``...) and locked for the job, so
RLIMIT_NPROC counts that job's processes only; inside, the step drops to that user
(``setpriv``) with no capabilities before ``prlimit`` applies the rlimits, and a seccomp
filter refuses new user namespaces (``seccomp.py``). (RLIMIT_NPROC does not bind root,
hence the drop.)

**Unprivileged mode** (the worker is an ordinary user): bubblewrap runs as that user with
a user namespace (``--disable-userns`` inside); RLIMIT_NPROC counts per namespace. The
work area is a plain directory, so the disk quota is enforced by the watch (and by
RLIMIT_FSIZE for each file), a little late rather than exactly.

Steps run with ``--die-with-parent``: if the worker dies, its sandboxes die with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import queue
import resource
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from oneteam.compute.executors.base import (
    ExecutorError,
    FailureReason,
    JobHandle,
    JobResult,
    JobSpec,
    JobState,
    Limits,
    SpecError,
    Step,
    StepResult,
    UnknownJob,
    failed_result,
)
from oneteam.compute.executors.cgroups import CgroupParent, StepCgroup
from oneteam.compute.executors.seccomp import no_user_namespaces_filter

EXECUTOR_NAME = "local"
REQUIRE_ENV = "ONETEAM_REQUIRE_SANDBOX"
# Files of /etc a program may need (dynamic linker, time zone, certificates, MIME types).
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime",
             "timezone", "nsswitch.conf", "os-release", "debian_version", "mime.types",
             "ssl", "ca-certificates", "fonts", "locale.alias")
# Paths the sandbox itself provides; nothing of the host is bound under them.
OWN_ROOTS = ("/work", "/tmp", "/results", "/dev", "/proc")
MERGED_USR = ("bin", "sbin", "lib", "lib64", "lib32", "libx32")
RESULTS_FILES_MAX = 32
PROCESS_CEILING_GRACE_S = 1.0      # at the process ceiling this long: process_limit
DRAIN_TIMEOUT_S = 5.0               # reading what is left after a kill, at most
MEMORY_ERROR_MARKERS = (b"MemoryError", b"Cannot allocate memory", b"std::bad_alloc",
                        b"out of memory", b"Out of memory")
DISK_ERROR_MARKERS = (b"No space left on device", b"File too large", b"Disk quota exceeded")
PROCESS_ERROR_MARKERS = (b"Resource temporarily unavailable", b"fork: retry",
                         b"can't start new thread")
MNT_DETACH = 2
PR_SET_CHILD_SUBREAPER = 36
MS_NOSUID = 2
MS_NODEV = 4


@dataclass(frozen=True)
class SandboxConfig:
    """How the local sandbox runs. The defaults suit ``oneteam up`` on one machine.

    ``jobs_dir``: where work areas are made (root-only when privileged). ``slots``: jobs
    at once. ``python_dirs``: directories bound read-only at their own path so that the
    sandbox's ``python`` is this environment's (default: ``sys.prefix`` and
    ``sys.base_prefix``). ``mode``: ``auto`` (privileged when root), ``privileged`` or
    ``unprivileged``. ``run_as_uid``: in unprivileged mode started by root, the user
    bubblewrap runs as.
    """

    jobs_dir: Path | None = None
    slots: int = 2
    queue_max: int = 1000
    results_kept_max: int = 10_000
    python_dirs: tuple[Path, ...] | None = None
    extra_ro_dirs: tuple[Path, ...] = ()
    mode: str = "auto"
    run_as_uid: int | None = None
    uid_base: int = 970_000
    uid_count: int = 1000
    use_cgroups: bool = True
    poll_interval_s: float = 0.1
    tail_bytes: int = 16 * 1024
    results_max_bytes: int = 4 << 20
    collect_max_bytes: int = 16 << 20
    bwrap: str | None = None
    device_binds: tuple[str, ...] = ()   # device files shown to steps (GPUs on a Slurm node)


def sandbox_unavailable_reason() -> str | None:
    """Why the local sandbox cannot run on this machine, or None when it can."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    if sys.platform != "linux":
        return "the local sandbox needs Linux"
    if os.geteuid() == 0:
        for tool in ("setpriv", "prlimit"):
            if shutil.which(tool) is None:
                return f"{tool} (util-linux) is missing"
    elif shutil.which("prlimit") is None:
        return "prlimit (util-linux) is missing"
    try:
        probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid",
                                "--", "true"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap does not start: {error}"
    if probe.returncode != 0:
        message = probe.stderr.decode(errors="replace").strip()
        return f"bubblewrap cannot create namespaces here: {message}"
    return None


# ---------------------------------------------------------------------------------------
# the work area of one job


class _UidPool:
    """User ids for jobs, one per running job, locked with flock across processes."""

    def __init__(self, base: int, count: int, lock_dir: Path) -> None:
        self.base = base
        self.count = count
        self.lock_dir = lock_dir
        lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._next = secrets.randbelow(count)
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def take(self) -> Iterator[int]:
        with self._guard:
            start = self._next
            self._next = (self._next + 1) % self.count
        for offset in range(self.count):
            uid = self.base + (start + offset) % self.count
            fd = os.open(self.lock_dir / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                         0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield uid
            finally:
                os.close(fd)
            return
        raise ExecutorError(f"all {self.count} sandbox user ids are in use")


_libc: ctypes.CDLL | None = None


def _libc_call(name: str, *args: object) -> None:
    global _libc  # noqa: PLW0603 - loaded once, on first use
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if getattr(_libc, name)(*args) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{name}: {os.strerror(code)}")


def _mount_tmpfs(target: Path, size_bytes: int, uid: int) -> None:
    inodes = max(1024, min(1_000_000, size_bytes // 4096))
    options = f"size={size_bytes},nr_inodes={inodes},mode=0700,uid={uid},gid={uid}"
    _libc_call("mount", b"tmpfs", os.fsencode(target), b"tmpfs", ctypes.c_ulong(
        MS_NOSUID | MS_NODEV), options.encode())


def _unmount(target: Path) -> None:
    with contextlib.suppress(OSError):
        _libc_call("umount2", os.fsencode(target), MNT_DETACH)


def _mounts_under(directory: Path) -> list[Path]:
    prefix = str(directory).rstrip("/") + "/"
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", encoding="utf-8") as info:
        for line in info:
            mount_point = line.split()[4].replace("\\040", " ")
            if mount_point.startswith(prefix):
                found.append(Path(mount_point))
    return sorted(found, key=lambda p: len(str(p)), reverse=True)


def _remove_tree(path: Path) -> None:
    """Remove a work area, whatever permissions the job left on it."""
    def fix(function: Callable[..., object], failed: str, _info: object) -> None:
        parent = os.path.dirname(failed)
        with contextlib.suppress(OSError):
            os.chmod(parent, 0o700)
        with contextlib.suppress(OSError):
            if os.path.isdir(failed) and not os.path.islink(failed):
                os.chmod(failed, 0o700)
            function(failed)

    if path.exists():
        shutil.rmtree(path, onerror=fix)  # onexc= is Python 3.12 and later


@dataclass
class _Area:
    root: Path           # jobs_dir/<job>-<token>, root-only
    fs: Path             # the job's file system: work/, tmp/, shm/, results/
    uid: int             # owner of fs inside and out
    quota: str           # "tmpfs" (kernel) or "watch"

    @property
    def work(self) -> Path:
        return self.fs / "work"


# ---------------------------------------------------------------------------------------
# watching a step's processes


@dataclass
class _Sample:
    processes: int = 0
    rss_bytes: int = 0
    cpu_ticks: int = 0


def _sample_namespace(ns_inode: int, page_size: int) -> _Sample:
    """Processes (threads counted) and resident memory of the PID namespace ``ns_inode``."""
    sample = _Sample()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return sample
    for name in entries:
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}/ns/pid").st_ino != ns_inode:
                continue
            with open(f"/proc/{name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2:].split()
        # after the command name, index 0 is field 3 (state) of proc(5): utime, stime,
        # cutime, cstime are fields 14-17, num_threads 20, rss 24
        with contextlib.suppress(IndexError, ValueError):
            sample.processes += int(fields[17])
            sample.rss_bytes += int(fields[21]) * page_size
            sample.cpu_ticks += sum(int(value) for value in fields[11:15])
    return sample


def _disk_usage(path: Path, entries_max: int = 200_000) -> tuple[int, int]:
    """Bytes (allocated) and entries under ``path``, not following links; stops at the cap."""
    total = 0
    count = 0
    stack = [str(path)]
    while stack and count < entries_max:
        current = stack.pop()
        try:
            with os.scandir(current) as listing:
                for entry in listing:
                    count += 1
                    with contextlib.suppress(OSError):
                        info = entry.stat(follow_symlinks=False)
                        total += info.st_blocks * 512
                        if stat.S_ISDIR(info.st_mode):
                            stack.append(entry.path)
        except OSError:
            continue
    return total, count


class _Tail:
    """The last ``limit`` bytes of a stream, and how many came in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.data += chunk
        if len(self.data) > 2 * self.limit:
            del self.data[:-self.limit]

    def value(self) -> bytes:
        return bytes(self.data[-self.limit:])


# ---------------------------------------------------------------------------------------
# running a job


class SandboxRunner:
    """Runs whole jobs, synchronously, in bubblewrap. LocalSandbox runs one per slot; a
    Slurm job runs one inside its allocation (``slurm_job.py``)."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        reason = sandbox_unavailable_reason()
        if reason is not None:
            raise ExecutorError(f"the local sandbox cannot run: {reason}")
        self.bwrap = self.config.bwrap or shutil.which("bwrap") or "bwrap"
        euid = os.geteuid()
        mode = self.config.mode
        if mode == "auto":
            mode = "privileged" if euid == 0 and self.config.run_as_uid is None else "unprivileged"
        if mode not in ("privileged", "unprivileged"):
            raise ExecutorError(f"mode must be auto, privileged or unprivileged, not {mode!r}")
        if mode == "privileged" and euid != 0:
            raise ExecutorError("privileged mode needs the worker to run as root")
        if self.config.run_as_uid is not None and euid != 0:
            raise ExecutorError("run_as_uid needs the worker to run as root")
        self.mode = mode
        self.setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        self.prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self.clock_ticks = os.sysconf("SC_CLK_TCK")
        base_dir = self.config.jobs_dir or Path(
            os.environ.get("TMPDIR", "/tmp")) / f"oneteam-sandbox-{euid}"
        base_dir.mkdir(parents=True, exist_ok=True, mode=0o700 if mode == "privileged"
                       else 0o711)
        self._clean_stale(base_dir)
        # one directory per runner, named by its process, so a dead runner's leftovers
        # are recognized and removed by the next one, never a live one's
        self.jobs_dir = base_dir / f"{os.getpid()}-{secrets.token_hex(4)}"
        self.jobs_dir.mkdir(mode=0o700 if mode == "privileged" else 0o711)
        if self.config.run_as_uid is not None:
            os.chown(self.jobs_dir, self.config.run_as_uid, -1)
        self.uids = (_UidPool(self.config.uid_base, self.config.uid_count,
                              Path("/run/oneteam-sandbox/uid-locks")
                              if os.access("/run", os.W_OK) else base_dir / ".uid-locks")
                     if mode == "privileged" else None)
        self.seccomp = no_user_namespaces_filter() if mode == "privileged" else None
        self.cgroups = CgroupParent.find() if self.config.use_cgroups else None
        self.system_args = self._system_binds()
        # bubblewrap leaves the namespace's init behind when it exits; as a subreaper
        # this process inherits it, waits for it and so learns the step's whole usage
        with contextlib.suppress(OSError):
            _libc_call("prctl", PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1), ctypes.c_ulong(0),
                       ctypes.c_ulong(0), ctypes.c_ulong(0))

    def close(self) -> None:
        """Remove this runner's (empty by then) directory of work areas."""
        with contextlib.suppress(OSError):
            self.jobs_dir.rmdir()

    # -- setup --------------------------------------------------------------------------

    def _clean_stale(self, base_dir: Path) -> None:
        for entry in base_dir.iterdir() if base_dir.is_dir() else ():
            pid_text = entry.name.split("-", 1)[0]
            if not pid_text.isdigit() or entry.name.startswith("."):
                continue
            if int(pid_text) == os.getpid() or Path(f"/proc/{pid_text}").exists():
                continue
            for mount_point in _mounts_under(entry):
                _unmount(mount_point)
            _remove_tree(entry)

    def _python_dirs(self) -> list[Path]:
        if self.config.python_dirs is not None:
            candidates = list(self.config.python_dirs)
        else:
            candidates = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)]
        chosen: list[Path] = []
        for candidate in candidates + list(self.config.extra_ro_dirs):
            path = candidate.resolve()
            if path == Path("/usr") or Path("/usr") in path.parents:
                continue
            if path not in chosen and path.exists():
                chosen.append(path)
        return chosen

    def _python_binds(self) -> list[tuple[Path, str]]:
        """(host directory, path inside) of the Python environment. A directory under a
        path the sandbox owns (a virtual environment in /work/..., say) is shown under
        /opt/python instead; a virtual environment works from any path."""
        binds = []
        for index, path in enumerate(self._python_dirs()):
            inside = str(path)
            if any(inside == root or inside.startswith(root + "/") for root in OWN_ROOTS):
                inside = f"/opt/python/{index}"
            binds.append((path, inside))
        return binds

    def _system_binds(self) -> list[str]:
        args = ["--perms", "0755", "--dir", "/etc", "--ro-bind", "/usr", "/usr"]
        for name in MERGED_USR:
            host = Path("/") / name
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), f"/{name}"]
            elif host.is_dir():
                args += ["--ro-bind", str(host), f"/{name}"]
        for name in ETC_FILES:
            if (Path("/etc") / name).exists():
                args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        for path, inside in self._python_binds():
            args += _parents(inside)
            args += ["--ro-bind", str(path), inside]
        return args

    @contextlib.contextmanager
    def _area(self, spec: JobSpec) -> Iterator[_Area]:
        root = self.jobs_dir / f"{spec.job_id}-{secrets.token_hex(4)}"
        root.mkdir(mode=0o700 if self.mode == "privileged" else 0o711)
        fs = root / "fs"
        fs.mkdir(mode=0o700)
        disk_bytes = max([spec.limits.disk_bytes] + [s.limits.disk_bytes for s in spec.steps
                                                     if s.limits is not None])
        mounted = False
        try:
            with contextlib.ExitStack() as stack:
                if self.uids is not None:
                    uid = stack.enter_context(self.uids.take())
                    _mount_tmpfs(fs, disk_bytes, uid)
                    mounted = True
                    quota = "tmpfs"
                else:
                    uid = self.config.run_as_uid if self.config.run_as_uid is not None \
                        else os.geteuid()
                    quota = "watch"
                    if uid != os.geteuid():
                        os.chown(fs, uid, uid)
                area = _Area(root=root, fs=fs, uid=uid, quota=quota)
                for name in ("work", "tmp", "shm", "results"):
                    (fs / name).mkdir(mode=0o700)
                    if uid != os.geteuid():
                        os.chown(fs / name, uid, uid)
                self._place_files(area, spec)
                yield area
        finally:
            if mounted:
                _unmount(fs)
            _remove_tree(root)

    def _place_files(self, area: _Area, spec: JobSpec) -> None:
        for name, source in spec.files.items():
            destination = area.work / name
            parent = area.work
            for part in Path(name).parts[:-1]:
                parent = parent / part
                if not parent.exists():
                    parent.mkdir(mode=0o755)
                    if area.uid != os.geteuid():
                        os.chown(parent, area.uid, area.uid)
            try:
                shutil.copyfile(source, destination)
            except OSError as error:
                if error.errno == errno.ENOSPC:
                    raise _FilesTooLarge(name) from error
                raise
            os.chmod(destination, 0o644)
            if area.uid != os.geteuid():
                os.chown(destination, area.uid, area.uid)

    # -- one job ------------------------------------------------------------------------

    def run(self, spec: JobSpec, cancel: threading.Event | None = None,
            on_start: Callable[[], None] | None = None) -> JobResult:
        """Run every step of ``spec``; never raises for what the job does."""
        spec.check()
        cancel = cancel or threading.Event()
        started = time.monotonic()
        steps: list[StepResult] = []
        enforcement = self._enforcement()
        files: dict[str, bytes] = {}
        try:
            with self._area(spec) as area:
                if on_start is not None:
                    on_start()
                for step in spec.steps:
                    if cancel.is_set():
                        break
                    result = self._run_step(area, spec, step, spec.step_limits(step), cancel)
                    steps.append(result)
                    if not result.succeeded:
                        break
                files = self._collect(area, spec)
        except _FilesTooLarge as error:
            return failed_result(spec.job_id, EXECUTOR_NAME, FailureReason.DISK_LIMIT,
                                 f"the submitted files do not fit in the disk quota "
                                 f"({error.name})")
        except (OSError, ExecutorError) as error:
            return failed_result(spec.job_id, EXECUTOR_NAME, FailureReason.ERROR,
                                 f"the sandbox failed: {error}", steps=tuple(steps))
        wall = time.monotonic() - started
        failed = next((s for s in steps if not s.succeeded), None)
        if failed is None and cancel.is_set() and len(steps) < len(spec.steps):
            state, reason, detail = JobState.CANCELLED, FailureReason.CANCELLED, "cancelled"
        elif failed is None:
            state, reason, detail = JobState.SUCCEEDED, None, ""
        elif failed.reason is FailureReason.CANCELLED:
            state, reason, detail = JobState.CANCELLED, failed.reason, failed.detail
        else:
            state, reason, detail = JobState.FAILED, failed.reason, failed.detail
        return JobResult(
            job_id=spec.job_id, state=state, reason=reason,
            failed_step=failed.name if failed else None, detail=detail, steps=tuple(steps),
            wall_seconds=wall, cpu_seconds=sum(s.cpu_seconds for s in steps), gpu_seconds=0.0,
            peak_memory_bytes=max((s.peak_memory_bytes for s in steps), default=0),
            files=files, enforcement=enforcement, executor=EXECUTOR_NAME)

    def _enforcement(self) -> dict[str, str]:
        if self.cgroups is not None:
            memory, processes = "cgroup", "cgroup+rlimit"
        else:
            memory, processes = "rlimit+watch", "rlimit"
        return {
            "mode": self.mode, "memory": memory, "processes": processes,
            "disk": "tmpfs" if self.mode == "privileged" else "watch+rlimit",
            "network": "none", "cpu_time": "rlimit", "wall_time": "kill",
            "user_namespaces": "seccomp" if self.mode == "privileged" and self.seccomp
            else ("disabled" if self.mode == "unprivileged" else "allowed"),
        }

    def _collect(self, area: _Area, spec: JobSpec) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        budget = self.config.results_max_bytes
        results_dir = area.fs / "results"
        with contextlib.suppress(OSError):
            for name in sorted(os.listdir(results_dir))[:RESULTS_FILES_MAX]:
                data = _read_beneath(results_dir, name, budget)
                if data is not None:
                    files[f"results/{name}"] = data
                    budget -= len(data)
        budget = self.config.collect_max_bytes
        for name in spec.collect:
            data = _read_beneath(area.work, name, budget)
            if data is not None:
                files[name] = data
                budget -= len(data)
        return files

    # -- one step -----------------------------------------------------------------------

    def _step_argv(self, area: _Area, spec: JobSpec, step: Step, limits: Limits, *,
                   fds: dict[str, int], cgroup: StepCgroup | None) -> list[str]:
        args = [self.bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
                "--hostname", "sandbox", "--json-status-fd", str(fds["status"])]
        if self.mode == "unprivileged":
            args += ["--unshare-user", "--disable-userns"]
        else:
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
            if "seccomp" in fds:
                args += ["--seccomp", str(fds["seccomp"])]
        args += self.system_args
        args += ["--perms", "0644", "--ro-bind-data", str(fds["passwd"]), "/etc/passwd",
                 "--perms", "0644", "--ro-bind-data", str(fds["group"]), "/etc/group"]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--bind", str(area.fs / "shm"), "/dev/shm"]
        for device in self.config.device_binds:
            args += ["--dev-bind", device, device]
        if self.mode == "unprivileged":
            args += ["--remount-ro", "/dev"]
        args += ["--bind", str(area.fs / "work"), "/work", "--bind", str(area.fs / "tmp"), "/tmp"]
        if step.results:
            args += ["--bind", str(area.fs / "results"), "/results"]
        for mount in (*spec.mounts, *step.mounts):
            args += _parents(mount.target)
            args += ["--ro-bind", str(Path(mount.source).resolve()), mount.target]
        threads = str(limits.cpus)
        python_bin = [f"{inside}/bin" for _path, inside in self._python_binds()[:1]]
        env = {
            "PATH": ":".join([*python_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "PYTHONNOUSERSITE": "1",
            "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads, "NUMEXPR_NUM_THREADS": threads,
            "MPLCONFIGDIR": "/tmp/.matplotlib", "ONETEAM_SANDBOX": "1",
        }
        env.update(spec.env)
        env.update(step.env)
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--chdir", "/work", "--"]
        if self.mode == "privileged":
            args += [self.setpriv, f"--reuid={area.uid}", f"--regid={area.uid}",
                     "--clear-groups", "--"]
        rlimits = [f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}",
                   f"--nproc={limits.processes}", f"--fsize={limits.file_size_bytes}",
                   f"--nofile={limits.open_files}", "--core=0"]
        if cgroup is None:
            rlimits.append(f"--as={limits.memory_bytes}")
        args += [self.prlimit, *rlimits, "--", *step.argv]
        if cgroup is not None:
            # the shell puts itself in the step's cgroup, then becomes bubblewrap: every
            # process of the step starts inside the cgroup
            args = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup.procs_file),
                    *args]
        return args

    def _identity_files(self, uid: int) -> tuple[bytes, bytes]:
        passwd = (f"root:x:0:0:root:/root:/bin/sh\nsandbox:x:{uid}:{uid}:sandbox:/tmp:/bin/sh\n"
                  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        group = f"root:x:0:\nsandbox:x:{uid}:\nnogroup:x:65534:\n"
        return passwd.encode(), group.encode()

    def _run_step(self, area: _Area, spec: JobSpec, step: Step, limits: Limits,
                  cancel: threading.Event) -> StepResult:
        passwd, group = self._identity_files(area.uid)
        memfds = {"passwd": passwd, "group": group}
        if self.seccomp is not None:
            memfds["seccomp"] = self.seccomp
        fds: dict[str, int] = {}
        status_read = -1
        cgroup: StepCgroup | None = None
        try:
            for name, content in memfds.items():
                fd = os.memfd_create(f"oneteam-{name}", 0)
                os.write(fd, content)
                os.lseek(fd, 0, os.SEEK_SET)
                fds[name] = fd
            status_read, fds["status"] = os.pipe()
            if self.cgroups is not None:
                cgroup = self.cgroups.create(f"{area.root.name}-{step.name}",
                                             memory_bytes=limits.memory_bytes,
                                             processes=limits.processes)
            argv = self._step_argv(area, spec, step, limits, fds=fds, cgroup=cgroup)
            return _StepWatch(self, area=area, step=step, limits=limits, cancel=cancel,
                              argv=argv, fds=fds, status_read=status_read, cgroup=cgroup).run()
        finally:
            for fd in fds.values():
                with contextlib.suppress(OSError):
                    os.close(fd)
            if status_read >= 0:
                with contextlib.suppress(OSError):
                    os.close(status_read)
            if cgroup is not None:
                cgroup.kill()
                cgroup.remove()


def _parents(target: str) -> list[str]:
    """bubblewrap arguments that make the parents of ``target`` readable by all (it would
    otherwise copy a restrictive mode such as that of /root)."""
    args: list[str] = []
    parts = [p for p in target.split("/") if p][:-1]
    for depth in range(1, len(parts) + 1):
        args += ["--perms", "0755", "--dir", "/" + "/".join(parts[:depth])]
    return args


class _FilesTooLarge(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _read_beneath(root: Path, relative: str, max_bytes: int) -> bytes | None:
    """A regular file under ``root``, never following a link the job may have planted."""
    if max_bytes <= 0:
        return None
    parts = [p for p in relative.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        return None
    fds: list[int] = []
    try:
        fds.append(os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW))
        for part in parts[:-1]:
            fds.append(os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                               dir_fd=fds[-1]))
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fds[-1])
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        chunks = []
        remaining = info.st_size
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        for fd in reversed(fds):
            os.close(fd)


class _StepWatch:
    """Starts one step's bubblewrap and watches it to its end."""

    def __init__(self, runner: SandboxRunner, *, area: _Area, step: Step, limits: Limits,
                 cancel: threading.Event, argv: list[str], fds: dict[str, int],
                 status_read: int, cgroup: StepCgroup | None) -> None:
        self.runner = runner
        self.area = area
        self.step = step
        self.limits = limits
        self.cancel = cancel
        self.argv = argv
        self.fds = fds
        self.status_read = status_read
        self.cgroup = cgroup
        tail = runner.config.tail_bytes
        self.stdout = _Tail(tail)
        self.stderr = _Tail(tail)
        self.kill_reason: FailureReason | None = None
        self.kill_detail = ""
        self.child_pid: int | None = None
        self.ns_inode: int | None = None
        self.exit_code: int | None = None
        self.processes_max = 0
        self.rss_max = 0
        self.cpu_seen = 0.0
        self.at_ceiling_since: float | None = None
        self.status_buffer = b""

    def run(self) -> StepResult:
        started = time.monotonic()
        deadline = started + self.limits.wall_seconds
        kwargs: dict[str, object] = {}
        if self.runner.config.run_as_uid is not None:
            kwargs.update(user=self.area.uid, group=self.area.uid, extra_groups=[])
        try:
            process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, pass_fds=tuple(self.fds.values()),
                start_new_session=True, env={"PATH": "/usr/bin:/bin"}, **kwargs)  # type: ignore[call-overload]
        except OSError as error:
            return self._result(None, None, FailureReason.ERROR,
                                f"the sandbox did not start: {error}", wall=0.0, cpu=None)
        os.close(self.fds.pop("status"))
        assert process.stdout is not None and process.stderr is not None
        streams = {process.stdout.fileno(): self.stdout, process.stderr.fileno(): self.stderr}
        selector = selectors.DefaultSelector()
        for fd in streams:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        os.set_blocking(self.status_read, False)
        selector.register(self.status_read, selectors.EVENT_READ)
        open_fds = set(streams) | {self.status_read}
        poll = self.runner.config.poll_interval_s
        next_sample = started
        next_disk = started
        wait_status: int | None = None
        rusage = None
        exited_at: float | None = None
        drain_deadline: float | None = None
        try:
            while True:
                now = time.monotonic()
                if wait_status is None:
                    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                    if pid == process.pid:
                        wait_status, rusage, exited_at = status, usage, now
                if wait_status is not None and not open_fds:
                    break
                if wait_status is not None and now - (exited_at or now) > 1.0:
                    break  # bubblewrap is gone; anything still holding a pipe is not ours
                if drain_deadline is not None and now > drain_deadline:
                    break
                if self.kill_reason is None and wait_status is None:
                    if self.cancel.is_set():
                        self._kill(process, FailureReason.CANCELLED, "cancelled")
                    elif now >= deadline:
                        self._kill(process, FailureReason.TIME_LIMIT,
                                   f"still running after the wall-clock limit of "
                                   f"{self.limits.wall_seconds} s")
                    elif now >= next_sample:
                        next_sample = now + poll
                        self._watch(process, now)
                        if self.area.quota == "watch" and now >= next_disk:
                            next_disk = now + max(poll, 0.5)
                            self._watch_disk(process)
                    if self.kill_reason is not None:
                        drain_deadline = time.monotonic() + DRAIN_TIMEOUT_S
                timeout = poll if wait_status is None else 0.05
                for key, _events in selector.select(timeout):
                    fd = int(key.fd)
                    try:
                        chunk = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        chunk = b""
                    if not chunk:
                        selector.unregister(fd)
                        open_fds.discard(fd)
                        continue
                    if fd == self.status_read:
                        self._status(chunk)
                        continue
                    streams[fd].add(chunk)
                    if (self.kill_reason is None
                            and self.stdout.total + self.stderr.total > self.limits.output_bytes):
                        self._kill(process, FailureReason.OUTPUT_LIMIT,
                                   f"printed more than {self.limits.output_bytes} bytes")
                        drain_deadline = time.monotonic() + DRAIN_TIMEOUT_S
            if wait_status is None:
                self._kill(process, self.kill_reason or FailureReason.ERROR,
                           self.kill_detail or "did not end")
                _pid, wait_status, rusage = os.wait4(process.pid, 0)
            inside = self._reap_namespace_init()
        finally:
            selector.close()
            if wait_status is None:
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    _pid, wait_status, rusage = os.wait4(process.pid, 0)
            process.returncode = (os.waitstatus_to_exitcode(wait_status)
                                  if wait_status is not None else -9)
            process.stdout.close()
            process.stderr.close()
        wall = time.monotonic() - started
        # the init's usage covers every process it reaped; after a kill some are gone
        # unaccounted, and the last sample of the watch is the better figure
        cpu = max(self.cpu_seen, sum(usage.ru_utime + usage.ru_stime
                                     for usage in (rusage, inside) if usage))
        # bubblewrap's own peak would be this process's size at fork: only the init's
        # (the largest of the step's processes) counts
        peak = max(self.rss_max, inside.ru_maxrss * 1024 if inside else 0)
        return self._classify(wait_status, cpu, peak, wall)

    def _reap_namespace_init(self) -> resource.struct_rusage | None:
        """Wait for the namespace's init and return its usage: that of every process of
        the step, since it reaps them all. bubblewrap exits without waiting for it, and it
        is then our child, because the runner is a child subreaper."""
        if self.child_pid is None:
            return None
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while True:
            try:
                pid, _status, usage = os.wait4(self.child_pid, os.WNOHANG)
            except ChildProcessError:
                return None  # not ours (no subreaper): its usage is lost
            if pid == self.child_pid:
                return usage
            if time.monotonic() > deadline:
                with contextlib.suppress(OSError):
                    os.kill(self.child_pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    return os.wait4(self.child_pid, 0)[2]
                return None
            time.sleep(0.002)

    # -- while it runs ------------------------------------------------------------------

    def _status(self, chunk: bytes) -> None:
        self.status_buffer += chunk
        while b"\n" in self.status_buffer:
            line, self.status_buffer = self.status_buffer.split(b"\n", 1)
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "child-pid" in message:
                self.child_pid = int(message["child-pid"])
                if "pid-namespace" in message:
                    self.ns_inode = int(message["pid-namespace"])
                else:
                    with contextlib.suppress(OSError):
                        self.ns_inode = os.stat(f"/proc/{self.child_pid}/ns/pid").st_ino
            if "exit-code" in message:
                self.exit_code = int(message["exit-code"])

    def _watch(self, process: subprocess.Popen[bytes], now: float) -> None:
        if self.ns_inode is None:
            return
        sample = _sample_namespace(self.ns_inode, self.runner.page_size)
        self.processes_max = max(self.processes_max, sample.processes)
        self.rss_max = max(self.rss_max, sample.rss_bytes)
        self.cpu_seen = max(self.cpu_seen, sample.cpu_ticks / self.runner.clock_ticks)
        if self.cgroup is None and sample.rss_bytes > self.limits.memory_bytes:
            self._kill(process, FailureReason.MEMORY_LIMIT,
                       f"its processes used more than {self.limits.memory_bytes} bytes of "
                       "memory together")
            return
        # a few tasks (the namespace's init, setpriv/prlimit until they exec) are not the
        # job's own; at the ceiling, new processes and threads fail
        if sample.processes >= self.limits.processes - 1:
            if self.at_ceiling_since is None:
                self.at_ceiling_since = now
            elif now - self.at_ceiling_since >= PROCESS_CEILING_GRACE_S:
                self._kill(process, FailureReason.PROCESS_LIMIT,
                           f"kept hitting the limit of {self.limits.processes} processes "
                           "and threads")
        else:
            self.at_ceiling_since = None

    def _watch_disk(self, process: subprocess.Popen[bytes]) -> None:
        used, entries = _disk_usage(self.area.fs)
        disk = self.limits.disk_bytes
        if used > disk or entries >= 200_000:
            self._kill(process, FailureReason.DISK_LIMIT,
                       f"wrote more than the disk quota of {disk} bytes")

    def _kill(self, process: subprocess.Popen[bytes], reason: FailureReason,
              detail: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = reason
            self.kill_detail = detail
        if self.cgroup is not None:
            self.cgroup.kill()
        if self.child_pid is not None:
            # the namespace's init: when it dies, the kernel kills every process inside
            with contextlib.suppress(OSError):
                os.kill(self.child_pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)

    # -- after it ended -----------------------------------------------------------------

    def _classify(self, wait_status: int | None, cpu: float, peak: int,
                  wall: float) -> StepResult:
        limits = self.limits

        def ended(code: int | None, signal_number: int | None, reason: FailureReason | None,
                  detail: str) -> StepResult:
            return self._result(code, signal_number, reason, detail, wall=wall, cpu=cpu,
                                peak=peak)

        if self.kill_reason is not None:
            return ended(None, None, self.kill_reason, self.kill_detail)
        code = self.exit_code
        if code is None and wait_status is not None:
            code = os.waitstatus_to_exitcode(wait_status)
            if code < 0:
                code = 128 - code
        if code is None:
            return ended(None, None, FailureReason.ERROR, "the sandbox reported no exit status")
        usage = self.cgroup.usage() if self.cgroup is not None else None
        if usage is not None:
            peak = max(peak, usage.memory_peak_bytes)
            cpu = max(cpu, usage.cpu_seconds)
        if code == 0:
            return ended(0, None, None, "")
        signal_number = code - 128 if 128 < code < 128 + 65 else None
        stderr = self.stderr.value()
        if signal_number in (signal.SIGXCPU, signal.SIGKILL) and cpu >= limits.cpu_seconds - 0.5:
            return ended(code, signal_number, FailureReason.TIME_LIMIT,
                         f"used its {limits.cpu_seconds} s of CPU time")
        if usage is not None and usage.oom_kills:
            return ended(code, signal_number, FailureReason.MEMORY_LIMIT,
                         f"needed more than {limits.memory_bytes} bytes of memory")
        if signal_number == signal.SIGXFSZ or self._disk_full() or any(
                marker in stderr for marker in DISK_ERROR_MARKERS):
            return ended(code, signal_number, FailureReason.DISK_LIMIT,
                         f"wrote more than its disk quota of {limits.disk_bytes} bytes (or a "
                         f"file over {limits.file_size_bytes} bytes)")
        if self.cgroup is None and any(marker in stderr for marker in MEMORY_ERROR_MARKERS):
            return ended(code, signal_number, FailureReason.MEMORY_LIMIT,
                         f"could not get more memory (limit {limits.memory_bytes} bytes)")
        if (usage is not None and usage.pids_max_hits) or (
                self.processes_max >= limits.processes - 1) or any(
                marker in stderr for marker in PROCESS_ERROR_MARKERS):
            return ended(code, signal_number, FailureReason.PROCESS_LIMIT,
                         f"could not start more processes or threads (limit "
                         f"{limits.processes})")
        if signal_number is not None:
            known = {s.value: s.name for s in signal.Signals}
            return ended(code, signal_number, FailureReason.KILLED,
                         f"ended by signal {known.get(signal_number, signal_number)}")
        return ended(code, None, FailureReason.EXIT_STATUS, f"exited with status {code}")

    def _disk_full(self) -> bool:
        if self.area.quota == "tmpfs":
            try:
                info = os.statvfs(self.area.fs)
            except OSError:
                return False
            free = info.f_bavail * info.f_frsize
            return free < max(64 * 1024, info.f_blocks * info.f_frsize // 100) or (
                info.f_favail == 0)
        used, entries = _disk_usage(self.area.fs)
        return used > self.limits.disk_bytes or entries >= 200_000

    def _result(self, exit_status: int | None, signal_number: int | None,
                reason: FailureReason | None, detail: str, *, wall: float, cpu: float | None,
                peak: int = 0) -> StepResult:
        return StepResult(
            name=self.step.name, exit_status=exit_status, signal=signal_number, reason=reason,
            detail=detail, wall_seconds=wall, cpu_seconds=cpu or 0.0, peak_memory_bytes=peak,
            stdout_tail=self.stdout.value(), stderr_tail=self.stderr.value(),
            stdout_bytes=self.stdout.total, stderr_bytes=self.stderr.total,
            processes_max=self.processes_max)


# ---------------------------------------------------------------------------------------
# the executor


@dataclass
class _Job:
    spec: JobSpec
    state: JobState = JobState.QUEUED
    result: JobResult | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class LocalSandbox:
    """The embedded executor: jobs on this machine, ``slots`` at a time, each in bubblewrap.

    ``submit`` returns at once; worker threads take jobs from a bounded queue in order.
    Finished results are kept (at most ``results_kept_max``, oldest dropped first) until
    ``forget``. A handle is good only in the process that made it.
    """

    name = EXECUTOR_NAME

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        if self.config.slots < 1 or self.config.queue_max < 1:
            raise ExecutorError("slots and queue_max must be at least 1")
        self.runner = SandboxRunner(self.config)
        self._jobs: OrderedDict[str, _Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=self.config.queue_max)
        self._closed = False
        self._counts = {"submitted": 0, "succeeded": 0, "failed": 0, "cancelled": 0}
        self._threads = [threading.Thread(target=self._work, name=f"sandbox-{i}", daemon=True)
                         for i in range(self.config.slots)]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> LocalSandbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def submit(self, spec: JobSpec) -> JobHandle:
        spec.check()
        gpus = max([spec.limits.gpus] + [s.limits.gpus for s in spec.steps if s.limits])
        if gpus > 0:
            raise SpecError("limits.gpus", f"the local sandbox has no GPUs ({gpus} asked); "
                            "run GPU jobs on a Slurm pool")
        with self._lock:
            if self._closed:
                raise ExecutorError("the sandbox is closed")
            existing = self._jobs.get(spec.job_id)
            if existing is not None and not existing.state.finished:
                raise SpecError("job_id", f"{spec.job_id} is already queued or running")
            self._jobs.pop(spec.job_id, None)
            self._jobs[spec.job_id] = _Job(spec)
            try:
                self._queue.put_nowait(spec.job_id)
            except queue.Full:
                del self._jobs[spec.job_id]
                raise ExecutorError(f"the queue is full ({self.config.queue_max} jobs)") from None
            self._counts["submitted"] += 1
        return JobHandle(self.name, spec.job_id, spec.job_id)

    def _job(self, handle: JobHandle) -> _Job:
        with self._lock:
            job = self._jobs.get(handle.job_id)
        if job is None or handle.executor != self.name:
            raise UnknownJob(handle.job_id)
        return job

    def poll(self, handle: JobHandle) -> JobState:
        return self._job(handle).state

    def cancel(self, handle: JobHandle) -> None:
        job = self._job(handle)
        job.cancel.set()

    def result(self, handle: JobHandle, timeout_s: float | None = None) -> JobResult:
        job = self._job(handle)
        if not job.done.wait(timeout_s):
            raise TimeoutError(f"job {handle.job_id} is still {job.state.value}")
        assert job.result is not None
        return job.result

    def forget(self, handle: JobHandle) -> None:
        with self._lock:
            job = self._jobs.get(handle.job_id)
            if job is not None and job.state.finished:
                del self._jobs[handle.job_id]

    def statistics(self) -> dict[str, int]:
        with self._lock:
            states = [job.state for job in self._jobs.values()]
            return {**self._counts, "slots": self.config.slots,
                    "queued": states.count(JobState.QUEUED),
                    "running": states.count(JobState.RUNNING)}

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for job in self._jobs.values():
                if not job.state.finished:
                    job.cancel.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        self.runner.close()

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            with self._lock:
                job = self._jobs.get(job_id)
            if job is None:
                continue
            if job.cancel.is_set():
                result = failed_result(job_id, self.name, FailureReason.CANCELLED,
                                       "cancelled before it started", state=JobState.CANCELLED)
            else:
                def started(job: _Job = job) -> None:
                    job.state = JobState.RUNNING

                try:
                    result = self.runner.run(job.spec, job.cancel, on_start=started)
                except Exception as error:  # noqa: BLE001 - a job never takes the worker down
                    result = failed_result(job_id, self.name, FailureReason.ERROR,
                                           f"the sandbox failed: {error!r}")
            self._finish(job, result)

    def _finish(self, job: _Job, result: JobResult) -> None:
        with self._lock:
            job.result = result
            job.state = result.state
            self._counts[{JobState.SUCCEEDED: "succeeded", JobState.FAILED: "failed",
                          JobState.CANCELLED: "cancelled"}[result.state]] += 1
            finished = [key for key, value in self._jobs.items() if value.state.finished]
            for key in finished[:max(0, len(finished) - self.config.results_kept_max)]:
                del self._jobs[key]
        job.done.set()


__all__ = ["LocalSandbox", "SandboxConfig", "SandboxRunner", "sandbox_unavailable_reason"]
