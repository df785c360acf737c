"""``python -m bench.generate``: see ``bench.generate``."""
from bench.generate.run import main

raise SystemExit(main())
