"""`flask --app app run`: the development server (`flask --app app migrate` first)."""

from proc_service import create_app

app = create_app()
