# Leaves processes behind (and in new sessions): the runner kills every one of them.
import os
import time

for _ in range(8):
    if os.fork() == 0:
        os.setsid()
        time.sleep(600)
        os._exit(0)
