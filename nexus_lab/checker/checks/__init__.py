"""One module per chapter; ``check_<name>`` checks exercise ``<chapter>-<name>`` (see course.toml)."""
