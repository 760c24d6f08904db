# Tries to read the instructor's files by relative and absolute paths (given in COURSE_PATHS)
# and to list the course directory (COURSE_DIR); also /etc/shadow and other processes'
# command lines and environments.
import os

stolen = []
for path in ["../../source/backprop/backprop.ipynb", "../assignments/backprop/backprop.ipynb",
             "/etc/shadow", f"/proc/{GRADER_PID}/cmdline",  # noqa: F821
             "/proc/1/environ",
             *COURSE_PATHS]:  # noqa: F821 -- injected by the test
    try:
        with open(path) as handle:
            stolen.append(handle.read(200))
    except OSError:
        pass
for folder in (COURSE_DIR, os.path.dirname(COURSE_PATHS[0])):  # noqa: F821
    try:
        stolen.append(str(os.listdir(folder)))
    except OSError:
        pass
with open(LEAK_FILE, "w") as handle:  # noqa: F821 -- a file the test watches
    handle.write("\n".join(stolen))
