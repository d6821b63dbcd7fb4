"""The round trip of a client generated from /openapi.json by
openapi-python-client (`client`, on PYTHONPATH): register, login, create a
video, poll it, download an artifact, the quota, a batch, cancel. Only the
generated code talks to the server: no hand-written request, no patch of
the generated package. Usage: client_roundtrip.py BASE_URL
"""

import sys
import time
import uuid

from client import AuthenticatedClient, Client
from client.api.auth import login, me, refresh, register
from client.api.batches import cancel_batch, create_batch, get_batch
from client.api.videos import create_video, get_artifact, get_quota, get_video
from client.models import (
    ApiResponseBatchView,
    ApiResponseQuotaView,
    ApiResponseTokenView,
    ApiResponseUserView,
    ApiResponseVideoView,
    BatchRequest,
    Credentials,
    ErrorBody,
    RefreshRequest,
    VideoRequest,
)
from client.types import File


def check(condition, what):
    if not condition:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def main(base):
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    email = f"client-{uuid.uuid4().hex[:12]}@example.com"
    credentials = Credentials(email=email, password="generated client password")

    r = register.sync_detailed(client=anonymous, body=credentials)
    check(r.status_code == 201 and isinstance(r.parsed, ApiResponseUserView), "register")
    check(r.parsed.data.email == email, "the account has the email")

    r = register.sync_detailed(client=anonymous, body=credentials)
    check(r.status_code == 409 and isinstance(r.parsed, ErrorBody), "a second register is 409")
    check(r.parsed.error.code == "VAL_010", "with VAL_010 parsed as the catalog code")

    r = login.sync_detailed(client=anonymous, body=credentials)
    check(r.status_code == 200 and isinstance(r.parsed, ApiResponseTokenView), "login")
    tokens = r.parsed.data

    r = refresh.sync_detailed(client=anonymous, body=RefreshRequest(refresh_token=tokens.refresh_token))
    check(r.status_code == 200 and isinstance(r.parsed, ApiResponseTokenView), "refresh")
    tokens = r.parsed.data

    api = AuthenticatedClient(base_url=base, token=tokens.access_token, raise_on_unexpected_status=True)
    r = me.sync_detailed(client=api)
    check(r.status_code == 200 and r.parsed.data.email == email, "me")
    check(r.headers.get("x-ratelimit-limit") is not None, "rate-limit headers")

    body = VideoRequest(prompt="A short calm film about paper boats on a pond", duration_seconds=5)
    r = create_video.sync_detailed(client=api, body=body, idempotency_key=f"rt-{uuid.uuid4().hex}")
    check(r.status_code == 202 and isinstance(r.parsed, ApiResponseVideoView), "create a video")
    video = r.parsed.data
    check(video.status == "queued", "it is queued")

    deadline = time.monotonic() + 120
    while True:
        r = get_video.sync_detailed(video.id, client=api)
        check_status = r.status_code == 200 and isinstance(r.parsed, ApiResponseVideoView)
        if not check_status:
            check(False, f"poll the video ({r.status_code})")
        video = r.parsed.data
        if video.status in ("completed", "failed", "cancelled"):
            break
        if time.monotonic() > deadline:
            check(False, f"the video finishes in time (still {video.status})")
        time.sleep(0.3)
    check(video.status == "completed", f"the video completed ({video.status})")
    check(video.artifacts, "it lists its artifacts")

    names = [a.name for a in video.artifacts]
    for name in ("manifest.json", names[-1]):
        r = get_artifact.sync_detailed(video.id, name, client=api)
        check(r.status_code == 200 and isinstance(r.parsed, File), f"download {name}")
        check(len(r.parsed.payload.read()) > 0, f"{name} has content")
        check(name in r.headers.get("content-disposition", ""), f"{name} is an attachment")
    r = get_artifact.sync_detailed(video.id, "no-such-file.bin", client=api)
    check(r.status_code == 404 and isinstance(r.parsed, ErrorBody), "an unknown artifact is 404")

    r = get_quota.sync_detailed(client=api)
    check(r.status_code == 200 and isinstance(r.parsed, ApiResponseQuotaView), "quota")
    check(r.parsed.data.used >= 1, "the video counts")

    items = [
        VideoRequest(prompt=f"A slow documentary about harbour cranes, part {i}", duration_seconds=600)
        for i in range(5)
    ]
    r = create_batch.sync_detailed(client=api, body=BatchRequest(videos=items, name="cranes"))
    check(r.status_code == 202 and isinstance(r.parsed, ApiResponseBatchView), "create a batch")
    batch = r.parsed.data
    r = cancel_batch.sync_detailed(batch.id, client=api)
    check(r.status_code == 200 and isinstance(r.parsed, ApiResponseBatchView), "cancel the batch")
    r = get_batch.sync_detailed(batch.id, client=api)
    check(r.status_code == 200 and isinstance(r.parsed, ApiResponseBatchView), "read the batch")
    check(r.parsed.data.status in ("cancelled", "partially_failed", "completed"), f"the batch is {r.parsed.data.status}")

    r = get_video.sync_detailed("01900000-0000-7000-8000-000000000000", client=api)
    check(r.status_code == 404 and r.parsed.error.code == "NOT_FOUND_001", "an unknown video is 404")
    print("client round trip: all ok")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
