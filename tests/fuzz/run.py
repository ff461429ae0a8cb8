"""Run a fuzz campaign: ``python tests/fuzz/run.py --minutes 30``.

Cases run in worker processes, a chunk of seeds at a time, so a case that
kills its process (a segfault in compiled code, an abort) is reported as a
``crash`` with its seed instead of ending the campaign. Every finding is
printed as it is found and summed up at the end; reproduce one with
``python tests/fuzz/run.py --family kernels --seed 1234``.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.append(REPO)   # a checkout without an install; an installed minigrad comes first

FAMILIES = ("kernels", "programs", "checkpoints")


def worker(family, start, count):
    """Run seeds start..start+count-1; one JSON line per seed (started, then findings)."""
    import fuzzlib

    for seed in range(start, start + count):
        print(json.dumps({"start": seed}), flush=True)
        findings = fuzzlib.run_case(family, seed)
        print(json.dumps({"done": seed, "findings": [f.__dict__ for f in findings]}), flush=True)


def run_chunk(family, start, count, timeout):
    """(seeds done, findings) for one chunk; a dying worker is a crash at the seed it was on."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", family, str(start), str(count)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), REPO) if p)}
    done, findings, current = 0, [], None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        lines, code, err = proc.stdout.splitlines(), proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:
        lines = (exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or "").splitlines()
        code, err = "timeout", ""
    for line in lines:
        msg = json.loads(line)
        if "start" in msg:
            current = msg["start"]
        else:
            done += 1
            findings.extend(msg["findings"])
            current = None
    if current is not None or code not in (0,):
        seed = current if current is not None else start + done
        findings.append({"kind": "crash", "family": family, "seed": seed,
                         "detail": f"worker ended with {code} during this case: {err.strip()[-400:]}"})
        done += 1
    return done, findings


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0, help="wall-clock budget of the campaign")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--start-seed", type=int, default=1_000_000, help="first seed (CI uses 0..)")
    parser.add_argument("--chunk", type=int, default=300, help="seeds per worker process")
    parser.add_argument("--nice", type=int, default=10, help="niceness of the campaign (0: none)")
    parser.add_argument("--family", choices=FAMILIES, help="with --seed: run one case and print it")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        family, start, count = args.worker
        worker(family, int(start), int(count))
        return
    if args.family is not None:
        import fuzzlib

        findings = fuzzlib.run_case(args.family, args.seed)
        print("\n".join(map(str, findings)) or "no finding")
        return
    if args.nice and hasattr(os, "nice"):
        os.nice(args.nice)

    import minigrad
    from minigrad import kernels

    print(f"minigrad from {os.path.dirname(minigrad.__file__)}; kernel backends {kernels.available_backends()}",
          flush=True)
    deadline = time.monotonic() + 60 * args.minutes
    cases = collections.Counter()
    kinds = collections.Counter()
    next_seed = {f: args.start_seed for f in args.families}
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        for family in args.families:
            if time.monotonic() >= deadline:
                break
            done, findings = run_chunk(family, next_seed[family], args.chunk, timeout=max(60, 10 * args.chunk))
            next_seed[family] += max(done, 1)
            cases[family] += done
            for f in findings:
                kinds[(family, f["kind"])] += 1
                print(f"[{f['kind']}] {f['family']} seed={f['seed']}: {f['detail'][:600]}", flush=True)
        print(f"# {time.monotonic() - t0:7.0f} s: " + ", ".join(f"{f} {cases[f]}" for f in args.families), flush=True)

    print("\nCampaign summary (%.1f min)" % ((time.monotonic() - t0) / 60))
    for family in args.families:
        found = {k: n for (f, k), n in kinds.items() if f == family}
        print(f"  {family:<12} {cases[family]:>8} cases  seeds {args.start_seed}..{next_seed[family] - 1}  "
              f"crashes {found.get('crash', 0)}  " + "  ".join(f"{k} {n}" for k, n in sorted(found.items())
                                                              if k != "crash"))


if __name__ == "__main__":
    main()
