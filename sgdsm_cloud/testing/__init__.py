"""Test infrastructure that other projects' tests can reuse; never imported by the pipeline itself.

``faults.FaultProxy`` puts an S3 endpoint (the moto server in tests) behind a loopback HTTP
proxy that injects the failures object stores produce: 503 SlowDown, connection resets and
slow responses, chosen deterministically from a seed.
"""
