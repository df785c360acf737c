"""``python -m bench.replicas``: see the package's docstring."""
import sys

from bench.replicas.run import main

sys.exit(main())
