"""`python -m forecasting` is the same as the `forecast` command."""

from forecasting.cli import main

raise SystemExit(main())
