from factor_desktop.cli import main

raise SystemExit(main())
