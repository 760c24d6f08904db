# Ends the process at once, skipping everything after it.
import os

os._exit(0)
