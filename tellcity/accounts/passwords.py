"""Password hashes: Argon2id by default, or any method werkzeug knows (the tests use a cheap
PBKDF2). A hash made by either is verified whatever the configured method, and a sign-in
rehashes a password whose hash is not of the configured method and parameters.

Argon2id is OWASP's first choice for password storage; these are its recommended minimum
parameters (19 MiB, 2 passes, 1 lane; about 30 ms a check here). It replaced werkzeug's
default scrypt (N = 2^15, r = 8), which is below OWASP's minimum for scrypt (N = 2^17, i.e.
128 MiB a check) and already took 32 MiB a check: the largest peak of a web worker's memory.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash, generate_password_hash

#: The configuration's name for Argon2id (PASSWORD_HASH_METHOD); others are werkzeug's.
ARGON2ID = "argon2id"
_argon2 = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str, method: str) -> str:
    if method == ARGON2ID:
        return _argon2.hash(password)
    return generate_password_hash(password, method=method)


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` was made from, whichever method made it."""
    if stored.startswith("$argon2"):
        try:
            return _argon2.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return check_password_hash(stored, password)


def needs_rehash(stored: str, method: str) -> bool:
    """Whether `stored` was made otherwise than `method` would make it now (for werkzeug's
    methods: by another algorithm)."""
    if method == ARGON2ID:
        return not stored.startswith("$argon2id$") or _argon2.check_needs_rehash(stored)
    return stored.split("$", 1)[0].split(":")[0] != method.split(":")[0]
