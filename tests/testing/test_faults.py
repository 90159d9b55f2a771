"""The fault-injecting proxy: deterministic choices, and each fault as a client meets it."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import requests

from sgdsm_cloud.testing.faults import FAULT_KINDS, FaultPlan, FaultProxy, choose_fault

pytestmark = pytest.mark.s3


def test_choices_are_deterministic_and_follow_the_rates():
    plan = FaultPlan(slowdown=0.1, reset_before=0.05, reset_mid=0.05, slow=0.2, seed=3)
    draws = [choose_fault(plan, "GET", f"/b/key{i}", 0) for i in range(20_000)]
    assert draws == [choose_fault(plan, "GET", f"/b/key{i}", 0) for i in range(20_000)]
    counts = Counter(draws)
    for kind in FAULT_KINDS:
        assert abs(counts[kind] / len(draws) - getattr(plan, kind)) < 0.01, counts
    retries = [choose_fault(plan, "GET", "/b/key0", n) for n in range(200)]
    assert len(set(retries)) > 1  # each attempt at the same key draws again
    other_seed = FaultPlan(slowdown=0.1, reset_before=0.05, reset_mid=0.05, slow=0.2, seed=4)
    assert draws != [choose_fault(other_seed, "GET", f"/b/key{i}", 0) for i in range(20_000)]


def test_only_matching_paths_are_eligible_and_bad_plans_are_refused():
    plan = FaultPlan(slowdown=1.0, only="/raw/")
    assert choose_fault(plan, "GET", "/b/raw/x.nc4", 0) == "slowdown"
    assert choose_fault(plan, "GET", "/b/cube.zarr/zarr.json", 0) is None
    with pytest.raises(ValueError):
        FaultPlan(slowdown=0.6, slow=0.6)
    with pytest.raises(ValueError):
        FaultPlan(delay_s=-1)


@pytest.fixture
def bucket(s3):
    s3.filesystem().pipe_file(f"{s3.bucket}/k/object", b"x" * 5000)
    return s3


def test_slowdown_is_an_s3_error_that_never_reaches_the_endpoint(bucket):
    with FaultProxy(bucket.endpoint_url, FaultPlan(slowdown=1.0, only="/k/new")) as proxy:
        reply = requests.put(f"{proxy.url}/{bucket.bucket}/k/new", data=b"y", timeout=30)
        assert reply.status_code == 503
        assert "<Code>SlowDown</Code>" in reply.text
        assert not bucket.filesystem().exists(f"{bucket.bucket}/k/new")
        assert proxy.stats.faults == Counter(slowdown=1)


def signed_get(s3, base: str, key: str) -> str:
    """A presigned GET URL of ``key`` through ``base`` (moto refuses anonymous reads)."""
    import boto3

    client = boto3.client("s3", endpoint_url=base, region_name="us-east-1")
    return client.generate_presigned_url("get_object", Params={"Bucket": s3.bucket, "Key": key})


def test_a_reset_mid_response_happens_after_the_write_landed(bucket):
    with FaultProxy(bucket.endpoint_url, FaultPlan(reset_mid=1.0, only="/k/")) as proxy:
        with pytest.raises(requests.ConnectionError):
            requests.put(f"{proxy.url}/{bucket.bucket}/k/new", data=b"landed", timeout=30)
        assert bucket.filesystem().cat_file(f"{bucket.bucket}/k/new") == b"landed"
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="Connection broken"):
            requests.get(signed_get(bucket, proxy.url, "k/object"), timeout=30)  # cut in the body
        assert proxy.stats.faults == Counter(reset_mid=2)
        assert proxy.stats.requests == Counter(PUT=1, GET=1)


def test_s3fs_rides_out_bounded_faults_of_every_kind(bucket):
    import s3fs

    plan = FaultPlan(
        slowdown=0.2, reset_before=0.2, reset_mid=0.2, slow=0.2, delay_s=0.01, max_consecutive=2
    )
    with FaultProxy(bucket.endpoint_url, plan) as proxy:
        fs = s3fs.S3FileSystem(endpoint_url=proxy.url, skip_instance_cache=True)
        for i in range(4):
            fs.pipe_file(f"{bucket.bucket}/k/{i}", bytes([i]) * 3000)
            assert fs.cat_file(f"{bucket.bucket}/k/{i}") == bytes([i]) * 3000
    assert all(proxy.stats.faults[kind] > 0 for kind in FAULT_KINDS), proxy.stats.summary()


def test_a_hold_parks_matching_requests_until_released(bucket):
    with FaultProxy(bucket.endpoint_url) as proxy:
        hold = proxy.hold("/k/object", method="GET", skip=1)
        url = signed_get(bucket, proxy.url, "k/object")
        assert requests.get(url, timeout=30).ok  # the first one goes through
        replies = []
        thread = threading.Thread(target=lambda: replies.append(requests.get(url, timeout=30)))
        thread.start()
        while hold.waiting < 1:
            thread.join(0.05)
        assert replies == [] and hold.peers[0][0] == "127.0.0.1"
        hold.release()
        thread.join(30)
        assert replies[0].content == b"x" * 5000
