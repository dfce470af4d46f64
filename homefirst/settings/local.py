"""Development settings: the default for ``manage.py`` and ``make run``."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "homefirst-local-development-only-not-secret"  # noqa: F405
