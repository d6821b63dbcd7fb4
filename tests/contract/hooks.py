"""schemathesis hooks of tests/contract/run.sh (SCHEMATHESIS_HOOKS=hooks).

A fresh access token for the fuzzed requests, logged in again whenever one
is refused with 401: `POST /v1/auth/logout` revokes the token it is sent
with, so a fixed token would leave every later case at AUTH_003.
"""

import os

import requests
import schemathesis

BASE = os.environ["YTVC_CONTRACT_BASE"]
EMAIL = os.environ["YTVC_CONTRACT_EMAIL"]
PASSWORD = os.environ["YTVC_CONTRACT_PASSWORD"]


@schemathesis.auth(retry_on=[401])
class FreshToken:
    def get(self, case, context):
        r = requests.post(
            f"{BASE}/v1/auth/login",
            json={"email": EMAIL, "password": PASSWORD},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["data"]["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
