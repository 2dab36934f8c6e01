"""The web shell: FastAPI app with the JSON API under /api and server-rendered GOV.UK-style pages."""
