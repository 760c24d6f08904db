"""nbgrader configuration: the repository root is the course directory."""

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "ml2-optimisation"
c.CourseDirectory.source_directory = "assignments"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.ClearSolutions.code_stub = {
    "python": "# YOUR ANSWER HERE",  # no raise: Run All goes on to every check
}
c.ExecutePreprocessor.timeout = 60
# Put back test cells a student deleted (nbgrader 0.9.6 only restores edited ones by default).
c.OverwriteCells.add_missing_cells = True
# An assignment's rubric.py (its questions, built from the reference answers) stays with the
# instructor: generate_assignment copies everything else beside the notebook into release/.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "rubric.py"]
# Per-student variants (README, "Per-student variants"): set a seed to give every student their
# own numbers; without one every student gets the lecture's.
# c.BackpropKit.variant_seed = "ml2-2026-autumn"
