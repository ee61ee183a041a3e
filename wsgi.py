"""gunicorn entry: `gunicorn -c gunicorn.conf.py wsgi:app` (gunicorn.conf.py migrates first)."""

from proc_service import create_app

app = create_app()
