"""A real single-node Slurm cluster on loopback, for tests: munged, slurmdbd, slurmctld, slurmd.

Everything lives in a temporary directory: the munge key and socket, slurm.conf,
gres.conf, slurmdbd.conf, state, spool, logs. The daemons run in the foreground as
children of the test process, each in its own session, and are killed at the end.
Accounting (what ``sacct`` reads) goes to slurmdbd, which stores it in a database of its
own on the machine's MariaDB server (``ONETEAM_TEST_MYSQL``, default
``root@127.0.0.1:3306``), dropped at the end.

The node advertises two GPUs as a generic resource whose "device files" are /dev/null
and /dev/zero (Slurm ignores a GPU without a file): there is no GPU on the test
machines, so ``--gres=gpu:N`` is scheduled and accounted (AllocTRES, hence GPU-seconds)
while nothing in the job can use a device.

Needs root (slurmd runs jobs as their users) and Debian's ``slurm-wlm``, ``slurmdbd``
and ``munge``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DAEMONS = ("munged", "slurmdbd", "slurmctld", "slurmd")
LOGS = ("munged.log", "munged.out", "slurmdbd.log", "slurmdbd.out", "slurmctld.log",
        "slurmctld.out", "slurmd.log", "slurmd.out")
COMMANDS = ("sbatch", "squeue", "sacct", "scancel", "scontrol", "sinfo", "sacctmgr")
FAKE_GPU_DEVICES = ("/dev/null", "/dev/zero")
GPUS = len(FAKE_GPU_DEVICES)


@dataclass
class Cluster:
    directory: Path
    conf: Path
    cluster_name: str
    cpus: int
    memory_mb: int
    gpus: int

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def logs(self) -> str:
        parts = []
        for name in LOGS:
            log = self.directory / name
            if log.exists():
                parts.append(f"--- {name}\n" + log.read_text(errors="replace")[-3000:])
        return "\n".join(parts)


def unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "the Slurm test cluster needs root (slurmd runs jobs as their users)"
    missing = [name for name in (*DAEMONS, *COMMANDS) if shutil.which(name) is None
               and not Path(f"/usr/sbin/{name}").exists()]
    if missing:
        return (f"{', '.join(missing)} not installed (apt-get install slurm-wlm slurmdbd "
                "munge)")
    if _mysql_target() is None:
        return ("no MariaDB/MySQL server for slurmdbd (ONETEAM_TEST_MYSQL, default "
                "root@127.0.0.1:3306)")
    return None


def _mysql_target() -> tuple[str, str, int, str] | None:
    """(user, host, port, password) of a reachable server, or None."""
    spec = os.environ.get("ONETEAM_TEST_MYSQL", "root@127.0.0.1:3306")
    match = re.match(r"^(?P<user>[^@:]+)(?::(?P<password>[^@]*))?@(?P<host>[^:]+)"
                     r":(?P<port>\d+)$", spec)
    if not match:
        return None
    host, port = match["host"], int(match["port"])
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError:
        return None
    return match["user"], host, port, match["password"] or ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sbin(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _mysql(user: str, host: str, port: int, password: str, sql: str) -> None:
    client = shutil.which("mariadb") or shutil.which("mysql") or "mysql"
    args = [client, "-h", host, "-P", str(port), "-u", user, "-e", sql]
    if password:
        args.insert(1, f"-p{password}")
    subprocess.run(args, check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def running_cluster(directory: Path, timeout_s: float = 90.0) -> Iterator[Cluster]:
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    target = _mysql_target()
    assert target is not None
    user, db_host, db_port, password = target
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    hostname = socket.gethostname().split(".")[0]
    cluster_name = f"ot{os.getpid()}"
    database = f"oneteam_slurm_{os.getpid()}"
    cpus = os.cpu_count() or 1
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    memory_mb = max(512, min(8192, total_kb // 1024 // 2))
    ctld_port, slurmd_port, dbd_port = _free_port(), _free_port(), _free_port()
    for name in ("state", "spool", "spool/localhost", "munge"):
        (directory / name).mkdir(exist_ok=True)
    (directory / "munge").chmod(0o755)  # clients of every user reach the socket
    key = directory / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    munge_socket = directory / "munge" / "munge.socket"
    auth = f"AuthInfo=socket={munge_socket}"
    conf = directory / "slurm.conf"
    node = (f"NodeName=localhost NodeHostname={hostname} NodeAddr=127.0.0.1 CPUs={cpus} "
            f"RealMemory={memory_mb} Gres=gpu:{GPUS} State=UNKNOWN")
    conf.write_text(f"""ClusterName={cluster_name}
SlurmctldHost={hostname}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
{auth}
CredType=cred/munge
StateSaveLocation={directory}/state
SlurmdSpoolDir={directory}/spool/%n
SlurmctldPidFile={directory}/slurmctld.pid
SlurmdPidFile={directory}/slurmd.pid
SlurmctldLogFile={directory}/slurmctld.log
SlurmdLogFile={directory}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={dbd_port}
AccountingStoragePass={munge_socket}
AccountingStorageTRES=gres/gpu
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
GresTypes=gpu
SlurmdParameters=config_overrides
{node}
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""")
    # Slurm drops GPUs without a device file; the files only name the "devices" (nothing
    # constrains devices here: task/none), so two harmless character devices stand in
    (directory / "gres.conf").write_text("".join(
        f"NodeName=localhost Name=gpu File={device}\n" for device in FAKE_GPU_DEVICES))
    dbd_conf = directory / "slurmdbd.conf"
    dbd_conf.write_text(f"""AuthType=auth/munge
{auth}
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort={dbd_port}
SlurmUser=root
LogFile={directory}/slurmdbd.log
PidFile={directory}/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost={db_host}
StoragePort={db_port}
StorageUser={user}
StorageLoc={database}
""" + (f"StoragePass={password}\n" if password else ""))
    dbd_conf.chmod(0o600)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    children: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log_name: str) -> None:
        log = open(directory / log_name, "ab")  # noqa: SIM115 - owned by the child
        children.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True))
        log.close()

    cluster = Cluster(directory, conf, cluster_name, cpus, memory_mb, GPUS)
    try:
        start([_sbin("munged"), "-F", "--force", f"--socket={munge_socket}",
               f"--key-file={key}", f"--pid-file={directory}/munge/munged.pid",
               f"--log-file={directory}/munged.log", f"--seed-file={directory}/munge/seed"],
              "munged.out")
        _wait(munge_socket.exists, timeout_s, "munged's socket", cluster, children)
        # slurmdbd reads slurmdbd.conf beside $SLURM_CONF
        start([_sbin("slurmdbd"), "-D"], "slurmdbd.out")
        _wait(lambda: _port_open(dbd_port), timeout_s, "slurmdbd", cluster, children)
        subprocess.run(["sacctmgr", "-i", "add", "cluster", cluster_name], env=env,
                       capture_output=True, timeout=60, check=False)
        start([_sbin("slurmctld"), "-D", "-i", "-f", str(conf)], "slurmctld.out")
        _wait(lambda: _port_open(ctld_port), timeout_s, "slurmctld", cluster, children)
        start([_sbin("slurmd"), "-D", "-N", "localhost", "-f", str(conf)], "slurmd.out")
        _wait(lambda: _node_idle(env), timeout_s, "the node to be idle", cluster, children)
        yield cluster
    finally:
        for child in reversed(children):
            with contextlib.suppress(OSError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in reversed(children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=10)
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            _mysql(user, db_host, db_port, password, f"DROP DATABASE IF EXISTS {database}")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _node_idle(env: dict[str, str]) -> bool:
    result = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=env, capture_output=True,
                            text=True, timeout=10, check=False)
    return result.returncode == 0 and result.stdout.strip() == "idle"


def _wait(condition: object, timeout_s: float, what: str, cluster: Cluster,
          children: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        dead = [child.args[0] for child in children if child.poll() is not None]
        if dead:
            raise RuntimeError(f"{dead[0]} exited while waiting for {what}\n{cluster.logs()}")
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}\n{cluster.logs()}")
