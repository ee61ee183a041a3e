"""`flask --app app run`: the development server (`flask --app app migrate` first). The same
app as gunicorn's (wsgi.py)."""

from wsgi import app  # noqa: F401
