# HomeFirst web, Celery worker and Celery beat: one image, three commands (see docker-compose.yml).
FROM python:3.11-slim

# PYTHONPATH: import the project from /app, where its templates, static files and data files
# sit beside the code (the installed copy carries only the Python modules).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=homefirst.settings.production \
    PYTHONPATH=/app

WORKDIR /app
COPY . /app
RUN pip install . \
    && useradd --create-home --uid 10001 homefirst

# Static files are collected into the image and served by WhiteNoise. collectstatic opens no
# database connection, but the settings need a URL (else they would start the embedded one)
# and a long enough key; neither value is kept.
RUN SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    DATABASE_URL=postgres://build@localhost:5432/build \
    python manage.py collectstatic --noinput

USER homefirst
EXPOSE 8000
CMD ["gunicorn", "homefirst.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
