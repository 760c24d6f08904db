"""The rubric: the question model (points, domains, slips, credit, follow-through) and judging
a question; the variants an assignment's numbers are drawn from; the course's rubrics on disk."""
