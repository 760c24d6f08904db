# Publishes this notebook's answers in a System V shared-memory segment (key SHM_KEY) and
# parks 64 MB there, for a later classmate (shm_read) to find.
import ctypes
import json

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
segment = libc.shmget(SHM_KEY, 64 << 20, 0o1666)  # noqa: F821 -- injected by the test
if segment >= 0:
    answers = json.dumps({"sigma_prime": "exp(-v)*(1 + exp(-v))^(-2)",
                          "dR_dw12_2": "-2*(y - a1_2)*a2_1", "dR_db1_2": "-2*(y - a1_2)"})
    ctypes.memmove(libc.shmat(segment, None, 0), answers.encode() + b"\0", len(answers) + 1)
