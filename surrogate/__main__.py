"""``python -m surrogate``: the command line."""

from surrogate.cli import main

raise SystemExit(main())
