"""The judging core: student text to sympy without eval, equivalence at secret points with a
proof, diagnosis of slips, the checks of expressions, numbers, vectors and functions, sealing and
the bounds on judging. Pure functions returning result values; imports nothing above it."""
