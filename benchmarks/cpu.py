#!/usr/bin/env python3
"""CPU seconds each part of the system used, from /proc: snapshot before a window, snapshot after, the difference.

    benchmarks/cpu.py snapshot FILE          # write every process's utime+stime (and what it is) to FILE
    benchmarks/cpu.py diff BEFORE AFTER      # print 'component seconds' per component, one per line

A component is what a process runs: api, consumers, postgres, kafka (the mock cluster's process, or a broker container's
java), dashboard, orchestrator (dcp, the AppHost, the `dotnet run` that starts each project), loadgen, wrk, other.
"""
import os
import sys

HZ = os.sysconf('SC_CLK_TCK')


def component(cmdline):
    if not cmdline:
        return None
    line = ' '.join(cmdline)
    first = os.path.basename(cmdline[0])
    if first == 'dotnet' and len(cmdline) > 1 and cmdline[1] == 'run':
        return 'orchestrator'  # the `dotnet run` the orchestrator starts each project with
    rules = [
        ('CouponAspire.Api', 'api'), ('CouponAspire.Consumer', 'consumers'), ('CouponAspire.LocalKafka', 'kafka'),
        ('CouponAspire.LoadGenerator', 'loadgen'), ('CouponAspire.MigrationService', 'migrations'), ('Aspire.Dashboard', 'dashboard'),
        ('CouponAspire.AppHost', 'orchestrator'), ('CouponAspire.Benchmarks', 'orchestrator'), ('/dcp', 'orchestrator'),
    ]
    for needle, name in rules:
        if needle in line:
            return name
    if first.startswith('postgres') or line.startswith('postgres:'):
        return 'postgres'
    if first == 'wrk':
        return 'wrk'
    if first == 'java' and 'kafka' in line:
        return 'kafka'
    return 'other'


def snapshot(path):
    with open(path, 'w') as out:
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                with open(f'/proc/{pid}/stat') as f:
                    stat = f.read()
                with open(f'/proc/{pid}/cmdline', 'rb') as f:
                    cmdline = [c.decode(errors='replace') for c in f.read().split(b'\0') if c]
            except OSError:
                continue
            fields = stat[stat.rindex(')') + 2:].split()
            ticks = int(fields[11]) + int(fields[12])
            name = component(cmdline)
            if name:
                out.write(f'{pid} {ticks} {name}\n')


def diff(before_path, after_path):
    def read(path):
        with open(path) as f:
            return {p: (int(t), n) for p, t, n in (line.split() for line in f)}
    before, after = read(before_path), read(after_path)
    totals = {}
    for pid, (ticks, name) in after.items():
        used = ticks - before.get(pid, (0, name))[0]
        totals[name] = totals.get(name, 0) + used / HZ
    for name, seconds in sorted(totals.items(), key=lambda t: -t[1]):
        print(f'{name} {seconds:.2f}')


if __name__ == '__main__':
    if sys.argv[1:2] == ['snapshot']:
        snapshot(sys.argv[2])
    elif sys.argv[1:2] == ['diff']:
        diff(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
