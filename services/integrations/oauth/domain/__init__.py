"""OAuth domain: state tokens, PKCE, scope rules (pure)."""
