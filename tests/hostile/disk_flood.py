# Writes 1 MB files as fast as it can, up to 2.4 GB; says how far it got in its cell's error.
block = b"x" * (1 << 20)
written = 0
try:
    for i in range(2400):
        with open(f"flood-{i}.bin", "wb") as handle:
            handle.write(block)
        written += 1
finally:
    raise RuntimeError(f"flood wrote {written} MB")
