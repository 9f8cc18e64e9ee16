"""OAuth domain: state tokens and PKCE, scope rules, the credentials a callback yields, the
Ayrshare SSO rules, the errors and ports (pure: no I/O, no framework)."""
