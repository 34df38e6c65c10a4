"""Audit students' lab submissions: what they report, against what the lab's rules give."""
