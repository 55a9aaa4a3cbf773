"""Checks that fmc keeps its kernel cache under FM_CACHE_MAX_SIZE by
removing the least recently used entries first.

usage: prune_cache.py FMC SOURCE CACHE_DIR OUT_DIR

Adds an old entry (a copy of the largest one, dated 2001) to a filled
cache, then compiles with a limit that the real entries fit in (within
the 90% that pruning leaves) but not with the old one: fmc must remove
exactly the old entry."""
import glob, math, os, shutil, subprocess, sys

fmc, source, cache, out = sys.argv[1:5]
entries = sorted(glob.glob(os.path.join(cache, "*.fmk")))
assert entries, "no entries in " + cache
total = sum(os.path.getsize(e) for e in entries)
old = os.path.join(cache, "f" * 32 + ".fmk")
shutil.copy(max(entries, key=os.path.getsize), old)
os.utime(old, (1e9, 1e9))  # 2001: the least recently used
limit_k = math.ceil(total / 0.9 / 1024) + 1
assert limit_k * 1024 < total + os.path.getsize(old), "the old entry is too small to test"
env = dict(os.environ, FM_CACHE_MAX_SIZE="%dK" % limit_k)
run = subprocess.run([fmc, source, "-o", out, "--shared", "--cache-dir", cache, "-v"],
                     env=env, capture_output=True, text=True)
assert run.returncode == 0, run.stderr
print(run.stderr)
assert not os.path.exists(old), "the least recently used entry was kept"
missing = [e for e in entries if not os.path.exists(e)]
assert not missing, "entries in use were pruned: %s" % missing
print("pruned the least recently used entry only")
