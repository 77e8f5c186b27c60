"""Routes by group; ``api.app`` includes them in order (fixed paths before ``{taskId}``)."""
