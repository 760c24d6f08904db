"""Running a notebook: the runner, its client, what runs inside the student's process and the
sandbox that confines it."""
