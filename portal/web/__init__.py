"""The request plumbing shared by every web area: the commit boundary, sessions, security hooks, forms, templates."""
