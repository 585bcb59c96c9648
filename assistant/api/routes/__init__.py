"""The API's routers: `native` (/health, /sources, /ask, /ingest, /documents) and `openai` (/v1)."""
