"""The demo city, Issy-les-Moulineaux, loaded by `tellcity demo`."""
