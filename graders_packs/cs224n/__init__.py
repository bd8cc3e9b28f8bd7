"""Checks shared by the CS224N minGPT offerings (span corruption, attention variants)."""
