"""Who runs the student's code, and how all of it is ended.

Where the machine allows it, the sampling child runs as a user of its own: a fresh numeric uid that no process
and no account on the machine has. That user reads a copy of the submission and writes one scratch folder; it
cannot write the repository, the grader or the grader's outputs. When sampling is over, kill(-1, SIGKILL) sent
*as that uid* reaches every process it has, however it forked or detached (Linux, kill(2)), and only those:
the uid is unique to this run, so nothing else on the machine is touched. Only then does the grader write.

Possible when the grader runs as root, or on a GitHub runner, where sudo needs no password (GITHUB_ACTIONS=true,
or VAE_SANDBOX=sudo where a step passes only a few variables, as the per-push workflow's command grader does).
Elsewhere (a student's laptop) the child runs as the grader's own user, in a process group of its own, and the
result says so.

Also a script, run as root (directly or through sudo) by the grader:
    python sandbox.py end UID PGID SCRATCH OWNER_UID OWNER_GID
"""
import importlib.util
import os
import random
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

UID_RANGE = (1_600_000_000, 2_000_000_000)  # far above any account; a uid needs no entry in /etc/passwd
THIS_FILE = Path(__file__).resolve()


@dataclass(frozen=True)
class Sandbox:
    uid: int | None          # None: the child runs as the grader's own user
    prefix: tuple = ()       # how to become root for the switch: () when the grader is root, sudo on a runner
    why_not: str = ""

    @property
    def label(self) -> str:
        return f"on (uid {self.uid})" if self.uid is not None else f"off: {self.why_not}"

    def command(self, argv: list[str], env: dict) -> tuple[list[str], dict | None]:
        """The argv and environment that start argv as root, ready to switch to self.uid. sudo resets the
        environment, so through sudo it travels in `env -i`."""
        if not self.prefix:
            return argv, env
        return [*self.prefix, "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv], None


def choose() -> Sandbox:
    if os.name != "posix" or not hasattr(os, "setresuid") or not Path("/proc/self/status").is_file():
        return Sandbox(None, why_not="this operating system has no user switch that the grader uses")
    if os.geteuid() == 0:
        prefix = ()
    elif (os.environ.get("GITHUB_ACTIONS") == "true" or os.environ.get("VAE_SANDBOX") == "sudo") and sudo_works():
        prefix = ("sudo", "-n", "--")
    else:
        return Sandbox(None, why_not="the grader runs as your own user (only root or a GitHub runner switches users)")
    blocked = unreadable_for_others()
    if blocked:
        return Sandbox(None, why_not=f"{blocked} cannot be read by another user, so Python cannot run as one")
    return Sandbox(fresh_uid(), prefix)


def sudo_works() -> bool:
    try:
        return subprocess.run(["sudo", "-n", "true"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def unreadable_for_others() -> str:
    """The first file or folder on the way to Python, torch or numpy that another user cannot read, or ''."""
    paths = [Path(sys.executable).resolve(), Path(sys.prefix), Path(sys.base_prefix)]
    for name in ("torch", "numpy"):
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            paths.append(Path(spec.origin).resolve())
    for path in paths:
        for folder in path.parents:
            if not folder.stat().st_mode & stat.S_IXOTH:
                return str(folder)
        if not path.stat().st_mode & stat.S_IROTH:
            return str(path)
    return ""


def processes_of(uid: int) -> list[int]:
    """Live (non-zombie) processes whose real uid is uid."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue  # it ended while we looked
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            found.append(int(entry.name))
    return found


def fresh_uid() -> int:
    import pwd  # POSIX only, like everything that calls this
    rng = random.SystemRandom()
    while True:
        uid = rng.randrange(*UID_RANGE)
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if not processes_of(uid):
                return uid


def become(uid: int) -> None:
    """Irreversibly switch this (root) process to uid: no groups, real, effective and saved ids all uid."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid):
        raise OSError(f"could not switch to uid {uid}")


def end_all(uid: int, pgid: int, scratch: Path, owner: tuple[int, int]) -> bool:
    """As root: end the child's process group, then every process of uid, then hand scratch back to owner."""
    try:
        os.killpg(pgid, signal.SIGKILL)  # sudo and a worker that never reached become()
    except (ProcessLookupError, PermissionError):
        pass
    for _ in range(200):
        pid = os.fork()
        if pid == 0:  # the killer: one more process of uid, which kill(-1) spares
            try:
                become(uid)
                os.kill(-1, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass
            os._exit(0)
        os.waitpid(pid, 0)
        if not processes_of(uid):
            break
        time.sleep(0.05)
    else:
        return False
    for folder, dirs, files in os.walk(scratch):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, *owner)
    return True


def end(sandbox: Sandbox, pgid: int, scratch: Path) -> None:
    argv = [sys.executable, str(THIS_FILE), "end", str(sandbox.uid), str(pgid), str(scratch),
            str(os.getuid()), str(os.getgid())]
    done = subprocess.run([*sandbox.prefix, *argv], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"the sandbox user's processes could not all be ended: {done.stderr.strip()[-300:]}")


if __name__ == "__main__" and sys.argv[1:2] == ["end"]:
    uid_, pgid_, scratch_, owner_uid, owner_gid = sys.argv[2:7]
    sys.exit(0 if end_all(int(uid_), int(pgid_), Path(scratch_), (int(owner_uid), int(owner_gid))) else 1)
