# Tries to write outside its own folder (paths given in TARGETS).
for path in TARGETS:  # noqa: F821 -- injected by the test
    try:
        with open(path, "w") as handle:
            handle.write("written by a submission")
    except OSError:
        pass
