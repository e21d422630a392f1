"""TellCity as an Open311 client (issue 22): forwarding reports to a department's own system
and following its updates, tested against a second TellCity instance serving Open311 on
loopback (`remote`) and a stand-in for remotes that misbehave (`stand_in`); see conftest.py."""
