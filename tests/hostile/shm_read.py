# Reads answers a classmate published in a System V shared-memory segment (key SHM_KEY).
import ctypes
import json

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
LEAKED = {}
segment = libc.shmget(SHM_KEY, 0, 0)  # noqa: F821 -- injected by the test
if segment >= 0:
    LEAKED = json.loads(ctypes.string_at(libc.shmat(segment, None, 0)).decode())
