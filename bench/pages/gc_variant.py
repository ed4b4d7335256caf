"""app/main.py with one way of keeping memory bounded, for the GC comparison in bench/load.py.

BENCH_GC_MODE: app (the app's own gc.freeze + timer, unchanged), none (neither), freeze (only
gc.freeze after start-up), timer (only the timed collection). Combine with the command-line flag
--runner.postScriptGC=true/false. BENCH_GC_LOG: a file that gets one JSON line per full collection.
"""

import os

from bench import pagewrap

pagewrap.setup_gc(os.environ.get("BENCH_GC_MODE", "app"), os.environ.get("BENCH_GC_LOG"))
pagewrap.run_app()
