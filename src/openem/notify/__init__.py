"""Notify: delivering messages to officials. An in-app inbox per team and per officer, email over SMTP and signed
webhooks (HMAC-SHA256 over timestamp and body) for agency systems. A request to deliver arrives through the
outbox; each channel delivery is then its own row, tried with backoff until it succeeds, every attempt kept
as a receipt, so a channel that is down loses nothing."""
