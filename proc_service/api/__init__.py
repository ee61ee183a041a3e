"""HTTP views, one module per resource. Each endpoint is declared once (endpoint.py): path →
body schema → one service function → the envelope. No SQL, no business rules here."""
