"""fraud.v1 as separate processes: chapter 12 (see README.md)."""
