"""Pulumi entry point. It lives at the project root (not in ``infra/``) so that the
program directory on ``sys.path`` never shadows a standard-library module."""

from infra.program import main

main()
