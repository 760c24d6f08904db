# Tries to read the instructor's files by relative and absolute paths (given in COURSE_PATHS).
import os

stolen = []
for path in ["../../source/backprop/backprop.ipynb", "../assignments/backprop/backprop.ipynb",
             *COURSE_PATHS]:  # noqa: F821 -- injected by the test
    try:
        with open(path) as handle:
            stolen.append(handle.read(200))
    except OSError:
        pass
try:
    stolen.append(str(os.listdir(COURSE_PATHS[0].rsplit("/", 1)[0])))  # noqa: F821
except OSError:
    pass
with open(LEAK_FILE, "w") as handle:  # noqa: F821 -- a file the test watches
    handle.write("\n".join(stolen))
