"""Reference solutions for lecture 10 (instructor side only): every answer computed, none typed."""
