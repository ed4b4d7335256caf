"""app/main.py under cProfile (bench/profile_page.py reads the profile from bench.pagewrap)."""

import cProfile

from bench import pagewrap

profiler = pagewrap.__dict__.setdefault("profiler", cProfile.Profile())
if pagewrap.__dict__.get("profiling"):
    profiler.enable()
try:
    pagewrap.run_app()
finally:
    profiler.disable()
