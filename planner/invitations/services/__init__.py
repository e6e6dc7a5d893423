"""Microsoft 365 and Google Workspace: sign-in, mail and free/busy over HTTPS (issue 19)."""
