"""The command line: thin click commands over the library, and the warm grader."""
