"""Channels to wearers (e-surveillance prompts) and officials (email, webhooks) (next milestone)."""
