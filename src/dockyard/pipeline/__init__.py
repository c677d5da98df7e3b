"""Drivers: the stages chained into what a command does.

    release.py  build -> verify -> publish, all or nothing; the GitHub step files
    fanout.py   CI fan-out: push each platform by digest, digest files for merge
    merge.py    CI fan-in: the digest files -> verified index -> publish
    doctor.py   the machine checks behind `dockyard doctor`
"""
