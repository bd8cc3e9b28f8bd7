"""graders: an autograding and verification harness for transformer and attention coursework."""
__version__ = "0.1.0"
