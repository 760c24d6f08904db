# Allocates without end: the memory limit turns it into a MemoryError in this cell.
hoard = []
while True:
    hoard.append(bytearray(50 << 20))
