"""A seccomp filter that stops a sandboxed process from creating user namespaces.

When the worker runs as root, bubblewrap runs privileged (it can then reach the Python
environment wherever it lives) and the step drops to an unprivileged user inside. Such
a process could still call ``unshare(CLONE_NEWUSER)``: inside a user namespace of its
own it may mount a tmpfs, which is memory no rlimit counts. This classic-BPF program,
passed to ``bwrap --seccomp``, refuses that:

- ``unshare`` and ``clone`` with ``CLONE_NEWUSER`` in their flags fail with EPERM;
- ``clone3`` fails with ENOSYS (its flags are in memory, which seccomp cannot read; the
  C library then falls back to ``clone``, which the rule above checks);
- system calls of any other architecture (32-bit entry points, x32) fail with EPERM.

(An unprivileged bubblewrap gets the same effect from ``--disable-userns``.)
"""

from __future__ import annotations

import platform
import struct

# Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EPERM = 1
ENOSYS = 38
CLONE_NEWUSER = 0x10000000
X32_SYSCALL_BIT = 0x40000000

# offsets in struct seccomp_data: nr (u32), arch (u32), instruction_pointer (u64), args[6]
OFFSET_NR = 0
OFFSET_ARCH = 4
OFFSET_ARG0_LOW = 16  # little-endian: the low half of args[0]

# architecture: (AUDIT_ARCH value, clone, unshare, clone3)
ARCHITECTURES = {
    "x86_64": (0xC000003E, 56, 272, 435),
    "aarch64": (0xC00000B7, 220, 97, 435),
}


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def no_user_namespaces_filter(machine: str | None = None) -> bytes | None:
    """The filter for this machine's architecture, or None where it is not known."""
    arch = ARCHITECTURES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, nr_clone, nr_unshare, nr_clone3 = arch
    deny = SECCOMP_RET_ERRNO | EPERM
    program = [
        _insn(BPF_LD_W_ABS, 0, 0, OFFSET_ARCH),          # 0
        _insn(BPF_JEQ_K, 1, 0, audit_arch),               # 1: native? skip to 3
        _insn(BPF_RET_K, 0, 0, deny),                     # 2: foreign architecture
        _insn(BPF_LD_W_ABS, 0, 0, OFFSET_NR),             # 3
        _insn(BPF_JGE_K, 0, 1, X32_SYSCALL_BIT),          # 4: x32 ABI?
        _insn(BPF_RET_K, 0, 0, deny),                     # 5
        _insn(BPF_JEQ_K, 0, 1, nr_clone3),                # 6
        _insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS),  # 7
        _insn(BPF_JEQ_K, 2, 0, nr_unshare),               # 8: to 11
        _insn(BPF_JEQ_K, 1, 0, nr_clone),                 # 9: to 11
        _insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),        # 10
        _insn(BPF_LD_W_ABS, 0, 0, OFFSET_ARG0_LOW),       # 11: flags
        _insn(BPF_JSET_K, 0, 1, CLONE_NEWUSER),           # 12
        _insn(BPF_RET_K, 0, 0, deny),                     # 13
        _insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),        # 14
    ]
    return b"".join(program)
