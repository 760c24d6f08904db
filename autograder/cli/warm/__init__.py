"""A warm grader (issue 15): its wire protocol, the client a command uses, and the server."""
