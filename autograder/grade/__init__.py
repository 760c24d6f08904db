"""Grading of record (instructor side): a class's submissions graded in the sandbox, batches,
regrading, copying notes and hand grades."""
