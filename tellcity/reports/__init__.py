"""Reports: problems and suggestions sent by residents, their timeline, photos and supporters."""
