"""``python -m governance.demo``: build the demo organisation (see ``governance.demo.cli``)."""
from governance.demo.cli import main

raise SystemExit(main())
