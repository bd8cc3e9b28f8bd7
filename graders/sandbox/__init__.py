"""Student code runs only in a child process; the grader talks to it through plain-data frames."""
