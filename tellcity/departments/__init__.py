"""Municipal departments and the outside bodies reports are referred to."""
