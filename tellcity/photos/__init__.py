"""Photos of reports: checking and cleaning an upload, storing it, serving it back."""
