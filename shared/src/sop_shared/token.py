"""``python -m sop_shared.token ROLE [SUBJECT]`` prints a bearer token the running stack accepts."""

from __future__ import annotations

import sys

from sop_shared.auth import Role, create_token
from sop_shared.settings import AuthSettings, load_env_file


def main(argv: list[str]) -> int:
    load_env_file()  # the secret the stack signs with, when .env sets it
    role = argv[1] if len(argv) > 1 else "admin"
    subject = argv[2] if len(argv) > 2 else f"dev-{role}"
    try:
        Role(role)
    except ValueError:
        sys.stderr.write(
            f"unknown role {role!r}; choose one of: {', '.join(r.value for r in Role)}\n"
        )
        return 2
    sys.stdout.write(create_token(AuthSettings(), subject=subject, roles=[role]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
