"""The instructor's course tools: the release (self-check files, test cells), example
submissions, the student kit."""
