"""Ayrshare social-media SSO (SPEC RT-12): the platform's rules, no I/O."""

from datetime import timedelta

SSO_VALIDITY = timedelta(hours=48)
# Enabled one by one as the platform's blocks support them.
ENABLED_PLATFORMS = ("twitter", "linkedin", "instagram", "youtube", "tiktok")
# SPEC CS-7: the user's Ayrshare profile key, a managed credential kept by credentials.
PROFILE_KEY_NAME = "ayrshare_profile_key"


def profile_title(user_id: str) -> str:
    return f"User {user_id}"
