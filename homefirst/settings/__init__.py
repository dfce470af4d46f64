"""Settings modules: ``local`` (default, development), ``test`` and ``production``."""
