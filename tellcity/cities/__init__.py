"""Cities (each an Open311 jurisdiction) and their zones."""
