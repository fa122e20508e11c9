"""Who may do what: identities, roles and their permissions, tokens, and the audit log.

Pure rules (``roles``) and file-backed stores (``tokens``, ``audit``) that the API and the CLI
share; nothing here speaks HTTP. The server's secrets (signing key, token records, audit log)
live in one folder with owner-only permissions (``settings.AuthSettings.home``).
"""
