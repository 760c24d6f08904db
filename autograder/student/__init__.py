"""The student side: the notebook's self-checks, whose notebook it is, the released data, and
``backprop-kit check``."""
